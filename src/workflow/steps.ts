// The steps every execution shares, a single write's or a fleet's: a state change with its audit
// entry, the hold right before the write (checks, digest, policy), and the look before a resent write.
import { type ArmCallRecord, type ArmGateway, type ArmResource, type ArmWriteResult, isArmError, type WriteOptions } from '../azure/port';
import { isLifecycleConflict, type LifecycleEvent, type LifecyclePatch, transition } from '../domain/lifecycle';
import { type ArmWritePlan, type ChangeRequest, type CheckResult, blocks } from '../domain/types';
import type { AuditEntry } from '../store/store';
import { StoreConflict } from '../store/store';
import type { AnyTarget, Target } from '../targets/types';
import { rulesOver, standingOf, terms } from './access';
import type { WorkflowContext } from './context';
import type { JobSpec } from './durable';
import { cardJob, postJob } from './notifications';
import { accountKey } from './policy';
import { approvalsFor, recording } from './request-helpers';
import { texts } from './texts';

/**
 * Apply `event` to the request, with its audit entry and jobs, in one transaction. Returns
 * undefined when the event no longer applies: another worker (or the process before a restart)
 * got there first, and this one stops.
 */
export async function advance(ctx: WorkflowContext, id: string, event: LifecycleEvent, patch: LifecyclePatch, audit: AuditEntry, jobs: JobSpec[] = []): Promise<ChangeRequest | undefined> {
  try {
    const next = await ctx.store.mutate(id, (cur) => ({ next: transition(cur, event, patch), audit: [audit], jobs }));
    ctx.wake();
    return next;
  } catch (e) {
    if (isLifecycleConflict(e) || e instanceof StoreConflict) {
      ctx.log('info', 'state moved on elsewhere; stopping this worker', { requestId: id, event, reason: e.message });
      return undefined;
    }
    throw e;
  }
}

/** The one write of a single-resource request (a fleet request has one per member, and its own executor). */
export function planOf(req: ChangeRequest): ArmWritePlan {
  if (!req.plan) throw new Error(`${req.id} has no single write: it is a change across many resources`);
  return req.plan;
}

/** Did the approved write reach Azure? A resource still provisioning is followed until it settles. */
export async function landed(ctx: WorkflowContext, plan: ArmWritePlan, target: Target): Promise<'landed' | 'absent'> {
  for (let polls = 0; polls < 120; polls++) {
    const resource = target.readBack ? await target.readBack(plan, ctx.arm) : await ctx.arm.getOrNull<ArmResource>(plan.resourceId, plan.apiVersion);
    if (!resource) return 'absent';
    const state = String((resource.properties as { provisioningState?: unknown } | undefined)?.provisioningState ?? 'Succeeded');
    if (/^(succeeded|failed|canceled|cancelled)$/i.test(state)) return target.verify(plan, resource).status === 'pass' ? 'landed' : 'absent';
    await new Promise((r) => setTimeout(r, ctx.resumePollMs));
  }
  return 'absent';
}

/**
 * Right before the write, with the checks just run and the digest over their evidence: a check that
 * now fails stops the request; changed evidence, or a policy under which the approvals no longer
 * suffice, sends it back to waiting. Returns what happened instead of the write, or undefined: go on.
 */
export async function holdBeforeWrite(ctx: WorkflowContext, req: ChangeRequest, target: AnyTarget, checks: CheckResult[], digest: string): Promise<{ request: ChangeRequest | undefined } | undefined> {
  const turned = checks.filter(blocks);
  if (turned.length || digest !== req.digest) {
    const why = turned.length ? texts.checksNowFail(turned) : texts.evidenceChanged();
    const request = await advance(
      ctx,
      req.id,
      turned.length ? 'stopped' : 'approvals_voided',
      { checks, digest, result: turned.length ? { status: 'failed', message: texts.stoppedBeforeWrite(why) } : undefined },
      { actor: { system: 'executor' }, event: 'voided', data: { reason: why, oldDigest: req.digest, newDigest: digest } },
      [cardJob(req), postJob(req, texts.voidedPost(req.id, why))],
    );
    return { request };
  }
  // The policy decides, every time: under the policy in force now, do the approvals still suffice?
  const again = reapplyPolicy(ctx, req, target);
  if (again) return { request: await advance(ctx, req.id, again.event, again.patch, again.audit, [cardJob(req), postJob(req, again.message)]) };
  return undefined;
}

/**
 * The policy applied again right before the write. Returns what to do instead of writing when the
 * approvals no longer suffice (back to waiting, with the reason on the card) or the requester may
 * no longer request it (failed); undefined when the write may go ahead.
 */
export function reapplyPolicy(ctx: WorkflowContext, req: ChangeRequest, target: AnyTarget): { event: 'stopped' | 'approvals_voided'; patch: LifecyclePatch; audit: AuditEntry; message: string } | undefined {
  const policy = ctx.policy;
  const scopes = req.scopes?.length ? req.scopes : [{ role: 'resource', id: req.resourceId }];
  const { rules } = rulesOver(ctx, scopes, target.type);
  const refusedBy = rules.find((r) => !policy.includes(r.requesters, req.requester));
  if (!rules.length || refusedBy) {
    const why = !rules.length ? texts.noRuleAnyMore() : texts.noLongerRequester(refusedBy!.name, req.requester.name);
    return {
      event: 'stopped',
      patch: { result: { status: 'failed', message: texts.stoppedBeforeWrite(why) } },
      audit: { actor: { system: 'executor' }, event: 'policy_reapplied', data: { policyHash: policy.hash, previousHash: req.policyHash ?? null, outcome: 'refused', reason: why } },
      message: texts.policyRefusedPost(req.id, why),
    };
  }
  const { policyRules, policyHash, requiredApprovals, approvers } = terms(ctx, rules, req.irreversible ?? false);
  const kept = { policyRules, policyHash, requiredApprovals, approvers };
  const standing = standingOf(ctx, { ...req, ...kept });
  if (standing.satisfied) return undefined;
  const dropped = approvalsFor(req)
    .filter((a) => standing.dropped.includes(accountKey(a.approver)))
    .map((a) => a.approver.name);
  const missing = standing.rules.filter((r) => r.counted.length < r.required).map((r) => texts.ruleShortOf(r.rule, r.counted.length, r.required));
  const note = texts.policyChangedNote(dropped, missing);
  return {
    event: 'approvals_voided',
    patch: { ...kept, standing: standing.view, policyNote: note },
    audit: { actor: { system: 'executor' }, event: 'policy_reapplied', data: { policyHash: policy.hash, previousHash: req.policyHash ?? null, outcome: 'waiting', dropped, rules: standing.view } },
    message: texts.waitsAgainPost(req.id, note),
  };
}

/** The write a plan names: its method, path, api-version and body, exactly. */
export function send(arm: ArmGateway, plan: ArmWritePlan, opts: WriteOptions): Promise<ArmWriteResult<unknown>> {
  return plan.method === 'PUT' ? arm.put(plan.resourceId, plan.apiVersion, plan.body, opts) : arm.patch(plan.resourceId, plan.apiVersion, plan.body, opts);
}

/**
 * Verification from a fresh read (the target's own read-back, or a GET), not from the write's
 * echo: the target's verdict, or an error check when the read failed. The reads go into `calls`.
 */
export async function verifyPlan(ctx: WorkflowContext, target: Target, plan: ArmWritePlan, calls: ArmCallRecord[]): Promise<CheckResult> {
  try {
    const arm = recording(ctx.arm, calls);
    const actual = target.readBack ? await target.readBack(plan, arm) : await arm.get<ArmResource>(plan.resourceId, plan.apiVersion);
    if (!actual) throw new Error(`${plan.resourceId} is not there`);
    return target.verify(plan, actual);
  } catch (e) {
    return { id: target.verifyCheckId, title: 'Verification read', status: 'error', finding: texts.readBackFailed(isArmError(e) ? e.describe() : (e as Error).message), evidence: {}, remedy: texts.readBackRemedy() };
  }
}
