// Who may do what under the policy in force: admission, the rules a request falls under, the
// approval terms they set, and where a request's approvals stand.
import { REQUEST_ID_PATTERN } from '../domain/canonical';
import type { Actor, ChangeRequest, ChangeScope } from '../domain/types';
import type { AnyTarget, Target } from '../targets/types';
import type { WorkflowContext } from './context';
import type { PolicyRule } from './policy';
import { Refusal } from './refusal';
import { approvalsFor, conversationIdOf, policyScopeOf } from './request-helpers';
import { clip, texts } from './texts';

export function targetOf(ctx: WorkflowContext, type: string): AnyTarget {
  return known(ctx.targets.find(type), type, ctx.targets.all);
}

/** The single-resource target of that type (a fleet member's, a stored single request's). */
export function singleTargetOf(ctx: WorkflowContext, type: string): Target {
  return known(ctx.targets.single(type), type, ctx.targets.singles());
}

/** A target found, or a refusal naming the types there are. */
function known<T>(t: T | undefined, type: string, all: ReadonlyArray<{ type: string }>): T {
  if (!t)
    throw new Refusal(
      texts.unknownTarget(
        String(type),
        all.map((x) => x.type),
      ),
    );
  return t;
}

/** The policy's view of each place a change touches, under its own change type (a fleet member's) or the request's. */
export function policyScopesOf(scopes: ChangeScope[], targetType: string) {
  return scopes.map((s) => ({ scope: s, at: policyScopeOf(s.id, s.targetType ?? targetType) }));
}

/**
 * The rules over a change's places, each place under its own change type; or, when a place written
 * to is covered by no rule, that place (`bare`) and no rules. (A change with no place written to,
 * e.g. a grant, is judged by its first place.)
 */
export function rulesOver(ctx: WorkflowContext, scopes: ChangeScope[], targetType: string): { places: ReturnType<typeof policyScopesOf>; bare?: ReturnType<typeof policyScopesOf>[number]; rules: PolicyRule[] } {
  const places = policyScopesOf(scopes, targetType);
  const written = places.filter((p) => p.scope.role === 'resource');
  const bare = (written.length ? written : places.slice(0, 1)).find((p) => !ctx.policy.rulesFor(p.at).length);
  return { places, ...(bare ? { bare } : {}), rules: bare ? [] : ctx.policy.rulesForAll(places.map((p) => p.at)) };
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
export function rulesForRequest(ctx: WorkflowContext, actor: Actor, conversation: ChangeRequest['conversation'], target: AnyTarget, scopes: ChangeScope[]): PolicyRule[] {
  const policy = ctx.policy;
  const { bare, places, rules } = rulesOver(ctx, scopes, target.type);
  if (bare) throw new Refusal(texts.noRuleCovers(target.displayName, bare.at.resourceGroup, bare.at.subscriptionId));
  const conversationId = conversationIdOf(conversation);
  for (const rule of rules) {
    if (!policy.includes(rule.requesters, actor)) {
      const where = places.filter((p) => policy.rulesFor(p.at).includes(rule)).map((p) => `${p.scope.role} ${p.scope.id.split('/').pop()}`);
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
