// Waiting requests end when their time is up: applied lazily when a request is next touched, and
// by the periodic sweep; each expiry is announced once (the state guard and the post commit together).
import { isLifecycleConflict, transition, WAITING_STATES } from '../domain/lifecycle';
import type { ChangeRequest } from '../domain/types';
import { StoreConflict } from '../store/store';
import type { WorkflowContext } from './context';
import { cardJob, postJob } from './notifications';
import { texts } from './texts';

export async function expireIfDue(ctx: WorkflowContext, req: ChangeRequest): Promise<ChangeRequest> {
  if (!WAITING_STATES.includes(req.state) || new Date(req.expiresAt) > ctx.now()) return req;
  try {
    const expired = await ctx.store.mutate(req.id, (cur) => ({
      next: transition(cur, 'expired'),
      audit: [{ actor: { system: 'workflow' }, event: 'expired', data: { expiresAt: cur.expiresAt } }],
      jobs: [cardJob(cur), postJob(cur, texts.expiredPost(cur.id, cur.expiresAt))],
    }));
    ctx.wake();
    return expired;
  } catch (e) {
    // Moved on meanwhile (decided, or expired by another replica): show it as it is.
    if (isLifecycleConflict(e) || e instanceof StoreConflict) return (await ctx.store.getRequest(req.id)) ?? req;
    throw e;
  }
}

/** End every waiting request whose time is up (run periodically; each expiry is announced once). */
export async function expireDue(ctx: WorkflowContext): Promise<number> {
  const due = (await ctx.store.listRequests({ states: [...WAITING_STATES], limit: 500 })).filter((r) => new Date(r.expiresAt) <= ctx.now());
  for (const r of due) await expireIfDue(ctx, r);
  return due.length;
}
