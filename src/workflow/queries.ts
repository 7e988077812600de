// Reading: a request as the asker may see it, lists, the audit trail, and read-only looks at
// existing resources (`check <resource id>`, `--from`). Nothing here changes a request, except
// that an expired one is marked so when it is read.
import type { ArmResource } from '../azure/port';
import { runChecks } from '../checks/runner';
import type { Actor, ChangeRequest, CheckResult } from '../domain/types';
import { resourceTypeOf } from '../targets';
import type { Target } from '../targets/types';
import { admit, mayLookAt, parseRequestId, singleTargetOf } from './access';
import type { Place, WorkflowContext } from './context';
import { expireIfDue } from './expiry';
import { Refusal } from './refusal';
import { conversationIdOf, sameConversation, summarize } from './request-helpers';
import { texts } from './texts';

/** A request by id (expiry applied), or a refusal naming what ids look like. */
export async function getRequest(ctx: WorkflowContext, id: string): Promise<ChangeRequest> {
  const req = await ctx.store.getRequest(parseRequestId(id));
  if (!req) throw new Refusal(texts.noSuchRequest(id));
  return expireIfDue(ctx, req);
}

/**
 * May this person see this request from where they are? In the request's own conversation,
 * anyone there; elsewhere, the requester, the approvers its rules name, and the policy's auditors.
 */
export function canSee(ctx: WorkflowContext, req: ChangeRequest, actor: Actor, place: Place): boolean {
  const policy = ctx.policy;
  if (place.platform === req.conversation.platform && sameConversation(place.conversationId, conversationIdOf(req.conversation))) return true;
  if (policy.personOf(actor) === policy.personOf(req.requester)) return true;
  if (policy.isAuditor(actor)) return true;
  return req.policyRules.some((n) => {
    const r = policy.rule(n);
    return !!r && policy.includes(r.approvers, actor);
  });
}

/** A request as the asker may see it (`status`, card refresh): refused when they may not. */
export async function view(ctx: WorkflowContext, id: string, actor: Actor, place: Place): Promise<ChangeRequest> {
  admit(ctx, actor);
  const req = await getRequest(ctx, id);
  if (!canSee(ctx, req, actor, place)) throw new Refusal(texts.notVisible(req.id));
  return req;
}

/** `list pending` / `list mine`: only requests the asker may see from where they ask. */
export async function list(ctx: WorkflowContext, actor: Actor, which: 'pending' | 'mine', place: Place): Promise<ChangeRequest[]> {
  admit(ctx, actor);
  const policy = ctx.policy;
  const me = policy.personOf(actor);
  const all = await ctx.store.listRequests(which === 'pending' ? { states: ['pending_approval'], limit: 200 } : { limit: 200 });
  return all.filter((r) => (which === 'mine' ? policy.personOf(r.requester) === me : canSee(ctx, r, actor, place))).slice(0, 20);
}

export async function trail(ctx: WorkflowContext, id: string, actor: Actor, place: Place) {
  const req = await view(ctx, id, actor, place);
  return { request: req, rows: await ctx.store.auditTrail(req.id) };
}

/** How the actor relates to the request: decides which card view they get. */
export function roleOf(ctx: WorkflowContext, req: ChangeRequest, actor: Pick<Actor, 'platform' | 'id' | 'tenant'>): 'requester' | 'approver' | 'other' {
  const policy = ctx.policy;
  const me = policy.personOf(actor);
  if (me === policy.personOf(req.requester)) return 'requester';
  const decided = req.approvals.some((a) => a.digest === req.digest && policy.personOf(a.approver) === me);
  const approver = req.policyRules.some((n) => {
    const r = policy.rule(n);
    return !!r && policy.includes(r.approvers, actor);
  });
  return approver && !decided ? 'approver' : 'other';
}

/** `check <resource id>`: a read-only review of an existing resource. Nothing is stored but the audit entry. */
export async function review(ctx: WorkflowContext, resourceId: string, actor: Actor): Promise<{ target: Target; resource: ArmResource; checks: CheckResult[]; keyUrl: string }> {
  admit(ctx, actor);
  const target = ctx.targets.forReview(resourceTypeOf(resourceId));
  if (!target)
    throw new Refusal(
      texts.reviewUnsupported(
        [
          ...new Set(
            ctx.targets
              .singles()
              .filter((t) => t.reviews !== false)
              .map((t) => t.resourceType),
          ),
        ],
        resourceTypeOf(resourceId),
      ),
    );
  if (!mayLookAt(ctx, resourceId, target.type, actor)) throw new Refusal(texts.notCovered(resourceId));
  const resource = await ctx.arm.getOrNull<ArmResource>(resourceId, target.apiVersion);
  if (!resource) throw new Refusal(texts.resourceNotFound(resourceId));
  const checks = await runChecks(ctx.arm, target.reviewSubject(resource), target.reviewChecks?.(resource) ?? target.checks, { now: ctx.now(), expiryWarningDays: ctx.expiryWarningDays });
  await ctx.store.audit({ actor, event: 'reviewed', data: { resourceId, summary: summarize(checks) } });
  // The key the review looked at (for Storage and Chaos it is read from the storage account).
  const keyUrl = String(checks.find((c) => c.id === 'key.url-format' && c.status === 'pass')?.evidence.keyUrl ?? target.reviewSubject(resource).keyUrl ?? '');
  return { target, resource, checks, keyUrl };
}

/**
 * The form values a target starts with for an existing resource (`rotate <id>`, `new … --from <id>`,
 * `new storage-cmk <id>`): the target's prefill, over the resource read with the bot's identity
 * when the target needs it. Only for people the policy names for that resource.
 */
export async function readExisting(ctx: WorkflowContext, resourceId: string, targetType: string, actor: Actor): Promise<{ values: Record<string, string>; note: string }> {
  admit(ctx, actor);
  const target = singleTargetOf(ctx, targetType);
  if (!mayLookAt(ctx, resourceId, targetType, actor)) throw new Refusal(texts.notCovered(resourceId));
  if (!target.prefill) return { values: {}, note: '' };
  let resource: ArmResource | undefined;
  if (target.prefill.read) {
    resource = await ctx.arm.getOrNull<ArmResource>(resourceId, target.apiVersion);
    if (!resource) throw new Refusal(texts.resourceNotFound(resourceId));
  }
  const out = target.prefill.values(resourceId, resource);
  if ('refusal' in out) throw new Refusal(out.refusal);
  return { values: out.values, note: out.note ?? '' };
}
