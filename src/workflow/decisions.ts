// Decisions on a request: approve, reject (by approvers, where the request lives or from a named
// approver's private chat, on the digest they saw), and cancel (by the requester). Each runs under
// the request's row lock; the decision that completes the approvals enqueues the execution.
import { canTransition, isLifecycleConflict, type LifecycleEvent, transition } from '../domain/lifecycle';
import type { Actor, ChangeRequest } from '../domain/types';
import { type AuditEntry, StoreConflict } from '../store/store';
import { admit, parseRequestId, standingOf } from './access';
import type { Place, WorkflowContext } from './context';
import type { JobSpec } from './durable';
import { executeJob } from './execution';
import { cardJob, postJob } from './notifications';
import type { PolicyRule } from './policy';
import { getRequest } from './queries';
import { Refusal } from './refusal';
import { approvalsFor, conversationIdOf, sameAccount, sameConversation } from './request-helpers';
import { texts } from './texts';

/**
 * Approve or reject. Throws Refusal (nothing changed) when the actor may not decide now, or here.
 * A decision names the digest of the card the person saw; without it, or with another, it is not
 * a decision, and the Refusal carries the request as it is now so the person sees it.
 */
export async function decide(ctx: WorkflowContext, rawId: string, actor: Actor, decision: 'approved' | 'rejected', opts: { reason?: string; digest?: string; place: Place }): Promise<ChangeRequest> {
  const id = parseRequestId(rawId);
  const verb = decision === 'approved' ? 'approve' : 'reject';
  let next: ChangeRequest;
  try {
    admit(ctx, actor);
    await getRequest(ctx, id); // expiry is applied (and announced) before a decision is considered
    next = await ctx.store.mutate(id, (cur) => {
      const policy = ctx.policy;
      const refuse = (message: string, showCurrent = false) => {
        const r = new Refusal(message);
        if (showCurrent) r.current = cur;
        return r;
      };
      if (!canTransition(cur.state, decision)) throw refuse(texts.notDecidableNow(cur, decision));
      if (policy.personOf(actor) === policy.personOf(cur.requester)) throw refuse(texts.ownRequest(cur.id, actor, verb, cur.approvers));
      const rules = cur.policyRules.map((n) => policy.rule(n)).filter((r): r is PolicyRule => !!r);
      if (!rules.some((r) => policy.includes(r.approvers, actor))) throw refuse(texts.notAnApprover(cur.id, cur.policyRules, cur.approvers));
      // Decisions happen where the request lives, or in a named approver's private chat with the bot.
      const here = opts.place.platform === cur.conversation.platform && sameConversation(opts.place.conversationId, conversationIdOf(cur.conversation));
      const named = rules.some((r) => policy.includes(r.approvers, actor, { named: true }));
      if (!here && !(opts.place.personal && named)) {
        throw refuse(opts.place.personal ? texts.decideFromPrivateNeedsName(cur.id) : texts.decideWhereRequested(cur.id, named));
      }
      if (!opts.digest) throw refuse(texts.decisionWithoutDigest(cur.id, verb), true);
      if (opts.digest !== cur.digest) throw refuse(texts.changedSinceSeen(cur.id, verb), true);
      const mine = cur.approvals.find((a) => a.digest === cur.digest && policy.personOf(a.approver) === policy.personOf(actor));
      if (mine) throw refuse(texts.alreadyDecided(cur.id, sameAccount(mine.approver, actor) ? undefined : mine.approver));
      const at = ctx.now().toISOString();
      const approvals = [...cur.approvals, { approver: actor, decision, digest: cur.digest, reason: opts.reason, at }];
      const standing = standingOf(ctx, { ...cur, approvals });
      const counted = new Set(standing.rules.flatMap((r) => r.counted)).size;
      const event: LifecycleEvent = decision === 'rejected' ? 'rejected' : standing.satisfied ? 'approved' : 'approval_counted';
      const audit: AuditEntry[] = [
        { actor, event: decision, data: { digest: cur.digest, reason: opts.reason ?? null, counted, required: cur.requiredApprovals, rules: standing.view, place: { platform: opts.place.platform, personal: opts.place.personal } } },
      ];
      const names = approvalsFor({ approvals, digest: cur.digest }).map((a) => a.approver.name);
      const jobs: JobSpec[] = [cardJob(cur)];
      if (event === 'rejected') jobs.push(postJob(cur, texts.rejectedPost(cur.id, actor.name, opts.reason)));
      else if (event === 'approved') jobs.push(postJob(cur, texts.approvedPost(cur.id, names)), executeJob(cur.id));
      else jobs.push(postJob(cur, texts.approvalCountedPost(actor.name, cur.id, counted, cur.requiredApprovals)));
      return { next: transition(cur, event, { approvals, standing: standing.view }), audit, jobs };
    });
  } catch (e) {
    if (e instanceof Refusal || e instanceof StoreConflict || isLifecycleConflict(e)) {
      const refusal = e instanceof Refusal ? e : new Refusal(e.message);
      // The refusal stands whether or not its audit row could be written; a lost row is logged.
      await ctx.store
        .audit({ requestId: id, actor, event: 'decision_refused', data: { decision, reason: refusal.message } })
        .catch((err: unknown) => ctx.log('warn', 'could not audit a refused decision', { requestId: id, error: (err as Error).message }));
      throw refusal;
    }
    throw e;
  }
  ctx.wake();
  return next;
}

/** The requester may cancel until execution starts. */
export async function cancel(ctx: WorkflowContext, rawId: string, actor: Actor): Promise<ChangeRequest> {
  const id = parseRequestId(rawId);
  admit(ctx, actor);
  let next: ChangeRequest;
  try {
    next = await ctx.store.mutate(id, (cur) => {
      if (ctx.policy.personOf(cur.requester) !== ctx.policy.personOf(actor)) throw new Refusal(texts.onlyRequesterCancels(cur));
      if (!canTransition(cur.state, 'cancelled')) throw new Refusal(texts.cannotCancel(cur));
      return {
        next: transition(cur, 'cancelled'),
        audit: [{ actor, event: 'cancelled', data: { from: cur.state } }],
        jobs: [cardJob(cur), postJob(cur, texts.cancelledPost(cur.id, actor.name))],
      };
    });
  } catch (e) {
    if (e instanceof StoreConflict || isLifecycleConflict(e)) throw new Refusal(e.message);
    throw e;
  }
  ctx.wake();
  return next;
}
