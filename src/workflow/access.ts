// Who may do what under the policy in force: admission, the rules a request falls under, the
// approval terms they set, and where a request's approvals stand.
import { REQUEST_ID_PATTERN } from '../domain/canonical';
import type { Actor, ChangeRequest, ChangeScope } from '../domain/types';
import type { Target } from '../targets/types';
import type { WorkflowContext } from './context';
import type { PolicyRule } from './policy';
import { Refusal } from './refusal';
import { approvalsFor, conversationIdOf, policyScopeOf } from './request-helpers';
import { clip, texts } from './texts';

export function targetOf(ctx: WorkflowContext, type: string): Target {
  const t = ctx.targets.find(type);
  if (!t)
    throw new Refusal(
      texts.unknownTarget(
        String(type),
        ctx.targets.all.map((x) => x.type),
      ),
    );
  return t;
}

/**
 * Who is this? Only what the platform signed identifies a person: a tenant (workspace) the policy
 * admits and a user id. Anything else is refused before it is looked at.
 */
export function admit(ctx: WorkflowContext, actor: Actor): void {
  if (!actor.id) throw new Refusal(texts.noSignedId());
  if (!ctx.policy.admitsTenant(actor.platform, actor.tenant)) throw new Refusal(texts.tenantNotAdmitted(actor));
}

/** A request id from outside (a card, a button, a command): only ids of our form reach the store. */
export function parseRequestId(id: unknown): string {
  const up = typeof id === 'string' ? id.toUpperCase() : '';
  if (!REQUEST_ID_PATTERN.test(up)) throw new Refusal(texts.noSuchRequest(clip(String(id ?? ''), 40)));
  return up;
}

/**
 * The rules that apply to a change touching these scopes, having checked that the requester may
 * request under every one of them, from this conversation.
 */
export function rulesForRequest(ctx: WorkflowContext, actor: Actor, conversation: ChangeRequest['conversation'], target: Target, scopes: ChangeScope[]): PolicyRule[] {
  const policy = ctx.policy;
  const primary = scopes.find((s) => s.role === 'resource') ?? scopes[0]!;
  const ps = policyScopeOf(primary.id, target.type);
  if (!policy.rulesFor(ps).length) throw new Refusal(texts.noRuleCovers(target.displayName, ps.resourceGroup, ps.subscriptionId));
  const rules = policy.rulesForAll(scopes.map((s) => policyScopeOf(s.id, target.type)));
  const conversationId = conversationIdOf(conversation);
  for (const rule of rules) {
    if (!policy.includes(rule.requesters, actor)) {
      const where = scopes.filter((s) => policy.rulesFor(policyScopeOf(s.id, target.type)).includes(rule)).map((s) => `${s.role} ${s.id.split('/').pop()}`);
      throw new Refusal(texts.notARequester(rule.name, where, actor));
    }
    if (!policy.allowsConversation(rule, conversation.platform, conversationId)) {
      throw new Refusal(texts.conversationNotAllowed(rule.name, conversation.platform, conversationId, rule.conversations));
    }
  }
  return rules;
}

/** The approval terms of a request under the current policy. */
export function terms(ctx: WorkflowContext, rules: PolicyRule[], irreversible: boolean) {
  const policy = ctx.policy;
  return {
    policyRules: rules.map((r) => r.name),
    policyHash: policy.hash,
    requiredApprovals: Math.max(...rules.map((r) => policy.approvalsNeeded(r, irreversible))),
    approvers: [...new Set(rules.flatMap((r) => policy.describeApprovers(r)))],
    pendingHours: Math.min(...rules.map((r) => r.pendingHours)),
  };
}

export function standingOf(ctx: WorkflowContext, req: Pick<ChangeRequest, 'policyRules' | 'irreversible' | 'requester' | 'approvals' | 'digest'>) {
  const s = ctx.policy.standing(req.policyRules, req.irreversible, req.requester, approvalsFor(req));
  return { ...s, view: s.rules.map((r) => ({ rule: r.rule, required: r.required, counted: r.counted.length, approvers: r.approvers })) };
}

/** May this person look at an existing resource through the bot (`check <resource id>`, `--from`)? */
export function mayLookAt(ctx: WorkflowContext, resourceId: string, targetType: string, actor: Actor): boolean {
  const policy = ctx.policy;
  if (policy.isAuditor(actor)) return true;
  return policy.rulesFor(policyScopeOf(resourceId, targetType)).some((r) => policy.includes(r.requesters, actor) || policy.includes(r.approvers, actor));
}
