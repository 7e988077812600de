// Pure helpers over a request shared by the workflow's parts and the channels: its digest, the
// approvals that count, where it lives, what its checks say.
import type { ArmCallRecord, ArmGateway } from '../azure/port';
import { canonicalJson, sha256 } from '../domain/canonical';
import { type Actor, type ChangeRequest, type CheckResult, blocks } from '../domain/types';
import type { FormTarget } from '../targets/types';
import { accountKey, type PolicyScope } from './policy';

/** The largest ARM payload a card shows in full (pretty-printed characters). Larger is refused, never clipped. */
export const MAX_SHOWN_PAYLOAD_CHARS = 12_000;
/** The most scopes a card lists in full. */
export const MAX_SHOWN_SCOPES = 40;

/** `/subscriptions/<sub>[/resourceGroups/<rg>/…]` → the policy's view of the place. */
export function policyScopeOf(id: string, targetType: string): PolicyScope {
  const parts = id.split('/');
  const sub = parts[1]?.toLowerCase() === 'subscriptions' ? (parts[2] ?? '') : '';
  const rg = parts[3]?.toLowerCase() === 'resourcegroups' ? (parts[4] ?? '') : '';
  return { subscriptionId: sub, resourceGroup: rg, targetType };
}

/**
 * What an approval is bound to: the write (or, for a fleet, every member's write and the evidence of
 * its checks) and the evidence of the checks. Anything in it that changes voids the approvals.
 */
export function computeDigest(target: FormTarget, req: Pick<ChangeRequest, 'targetType' | 'resourceId' | 'plan' | 'fleet'>, checks: CheckResult[]): string {
  const write = req.plan ? { apiVersion: req.plan.apiVersion, method: req.plan.method, payload: req.plan.body } : {};
  const fleet = req.fleet
    ? { members: req.fleet.members.map((m) => ({ targetType: m.targetType, resourceId: m.resourceId.toLowerCase(), apiVersion: m.plan.apiVersion, method: m.plan.method, payload: m.plan.body, evidence: m.evidence })) }
    : {};
  return sha256(canonicalJson({ targetType: req.targetType, resourceId: req.resourceId.toLowerCase(), ...write, ...fleet, evidence: target.digestEvidence(checks) }));
}

export function approvalsFor(req: Pick<ChangeRequest, 'approvals' | 'digest'>) {
  return req.approvals.filter((a) => a.decision === 'approved' && a.digest === req.digest);
}

/** Two actors are the same account: platform, tenant and id, in canonical form. */
export function sameAccount(a: Pick<Actor, 'platform' | 'id' | 'tenant'>, b: Pick<Actor, 'platform' | 'id' | 'tenant'>): boolean {
  return accountKey(a) === accountKey(b);
}

/** Teams conversation ids may carry a `;messageid=` suffix (a thread in a channel): compare without it. */
export function sameConversation(a: string, b: string): boolean {
  return a.split(';')[0]!.toLowerCase() === b.split(';')[0]!.toLowerCase() && a !== '';
}

/** The conversation id a request was made in, for policy and listing. */
export function conversationIdOf(c: ChangeRequest['conversation']): string {
  const ref = c.ref as { conversation?: { id?: string }; channel?: string } | undefined;
  return ref?.conversation?.id ?? ref?.channel ?? '';
}

/** Was the request made in the requester's private chat with the bot (Teams personal scope, Slack DM)? */
export function isPersonalConversation(c: ChangeRequest['conversation']): boolean {
  const ref = c.ref as { conversation?: { conversationType?: string }; channel?: string } | undefined;
  return c.platform === 'teams' ? ref?.conversation?.conversationType === 'personal' : /^D/.test(ref?.channel ?? '');
}

/** A view of the gateway that also records every call it makes (for the request's audit trail). */
export function recording(arm: ArmGateway, into: ArmCallRecord[]): ArmGateway {
  return arm.scoped((c) => into.push(c));
}

export function summarize(checks: CheckResult[]) {
  const count = (s: CheckResult['status']) => checks.filter((c) => c.status === s).length;
  return { pass: count('pass'), warn: count('warn'), info: count('info'), fail: count('fail'), error: count('error'), failing: checks.filter(blocks).map((c) => c.id) };
}
