// What people see after a state change: the request's card updated in place and posts in its
// conversation, both as durable jobs on the conversation's lane (order and rate limits kept).
import { z } from 'zod';
import { REQUEST_ID_PATTERN, sha256 } from '../domain/canonical';
import { amend } from '../domain/lifecycle';
import type { ChangeRequest } from '../domain/types';
import type { WorkflowContext } from './context';
import type { JobSpec } from './durable';
import { defineJob } from './job-registry';
import { conversationIdOf } from './request-helpers';

/** Durable job kinds the workflow owns. */
export const JOB = { card: 'request.card', post: 'request.post', execute: 'request.execute' } as const;

const requestId = z.string().regex(REQUEST_ID_PATTERN, 'a request id (CR-XXXXXX)');
export const cardPayload = z.object({ requestId, progress: z.string().optional() });
export const postPayload = z.object({ requestId, text: z.string().min(1) });

/** The chat lane of a request: its conversation, so posts keep their order and the platform's rate limit. */
export function chatLane(req: Pick<ChangeRequest, 'conversation'>): string {
  return `${req.conversation.platform}:${conversationIdOf(req.conversation)}`;
}

/** Update the request's card; a queued update not yet sent is replaced, so the latest state wins. */
export function cardJob(req: Pick<ChangeRequest, 'id' | 'conversation'>, progress?: string): JobSpec {
  return { kind: JOB.card, key: `card:${req.id}`, lane: chatLane(req), payload: { requestId: req.id, ...(progress ? { progress } : {}) }, replace: true, maxAttempts: 6 };
}

export function postJob(req: Pick<ChangeRequest, 'id' | 'conversation'>, text: string): JobSpec {
  return { kind: JOB.post, key: `post:${req.id}:${sha256(text).slice(0, 16)}`, lane: chatLane(req), payload: { requestId: req.id, text }, maxAttempts: 6 };
}

/** The card job: the request as it is *now* (a coalesced job shows the latest state); remembers the message id. */
export function cardJobDefinition(ctx: WorkflowContext) {
  return defineJob({
    kind: JOB.card,
    schema: cardPayload,
    handler: async (p) => {
      const req = await ctx.store.getRequest(p.requestId);
      const n = req && ctx.notifiers[req.conversation.platform];
      if (!req || !n) return;
      // Progress of a long-running write is shown as the card's result line while it runs.
      const shown = p.progress && req.state === 'executing' ? amend(req, { result: { status: 'failed', message: p.progress } }) : req;
      const messageId = await n.showRequest(shown);
      if (messageId && messageId !== req.cardMessageId) {
        await ctx.store.mutate(req.id, (cur) => ({ next: amend(cur, { cardMessageId: messageId }), audit: [] }));
      }
    },
  });
}

export function postJobDefinition(ctx: WorkflowContext) {
  return defineJob({
    kind: JOB.post,
    schema: postPayload,
    handler: async (p) => {
      const req = await ctx.store.getRequest(p.requestId);
      if (req) await ctx.notifiers[req.conversation.platform]?.post(req, p.text);
    },
  });
}
