// The executor: from approval to the end. The checks again right before the write, the policy
// applied again, the ARM write (or the rest of it after a restart: a stored operation followed, a
// landed write not sent twice), and verification from a fresh read. Runs as the durable job
// `request.execute` on the request's own lane.
import { z } from 'zod';
import type { ArmCallRecord, StartedOperation, WriteOptions } from '../azure/port';
import { isArmError } from '../azure/port';
import { runChecks } from '../checks/runner';
import { REQUEST_ID_PATTERN } from '../domain/canonical';
import { amend, IN_FLIGHT_STATES, isLifecycleConflict, transition } from '../domain/lifecycle';
import type { ChangeRequest } from '../domain/types';
import { StoreConflict } from '../store/store';
import type { Target } from '../targets/types';
import { singleTargetOf } from './access';
import type { WorkflowContext } from './context';
import type { JobSpec } from './durable';
import { recheckJob } from './submission';
import { defineJob } from './job-registry';
import { cardJob, JOB, postJob } from './notifications';
import { computeDigest, recording, summarize } from './request-helpers';
import { fleetCheckAndWrite, resumeFleet } from './fleet';
import { advance, holdBeforeWrite, landed, planOf, send, verifyPlan } from './steps';

import { texts } from './texts';

export const executePayload = z.object({ requestId: z.string().regex(REQUEST_ID_PATTERN, 'a request id (CR-XXXXXX)') });

/** One execution lane per request: never two workers on one request, on any replica. */
export function executeJob(requestId: string): JobSpec {
  return { kind: JOB.execute, key: `execute:${requestId}`, lane: `request:${requestId}`, payload: { requestId }, maxAttempts: 10 };
}

export function executeJobDefinition(ctx: WorkflowContext) {
  return defineJob({
    kind: JOB.execute,
    schema: executePayload,
    handler: async (p) => void (await drive(ctx, p.requestId)),
  });
}

/**
 * The durable execution job: takes the request from wherever it stands to its end. A job that
 * is run again (its process died, or a replica took over) resumes from the stored state and the
 * stored ARM operation, and never writes twice when the first write landed.
 */
export async function drive(ctx: WorkflowContext, id: string): Promise<ChangeRequest | undefined> {
  const req = await ctx.store.getRequest(id);
  if (!req) return undefined;
  if (req.state === 'approved') return execute(ctx, id);
  if (req.state !== 'executing' && req.state !== 'verifying') return req; // finished, or decided otherwise
  await ctx.store.audit({ requestId: req.id, actor: { system: 'executor' }, event: 'recovering', data: { state: req.state, operation: req.operation?.url ?? null } });
  if (req.fleet) return resumeFleet(ctx, req);
  const target = singleTargetOf(ctx, req.targetType);
  if (req.state === 'verifying') return verify(ctx, req, target);
  if (req.operation) return write(ctx, req, target, req.operation);
  // No operation stored: the write may or may not have reached Azure. Look before writing again.
  const seen = await landed(ctx, planOf(req), target);
  if (seen === 'landed') {
    const v = await advance(ctx, req.id, 'written', {}, { actor: { system: 'executor' }, event: 'arm_call', data: { method: 'GET', ok: true, note: 'the write had landed before the restart; not sent again' } }, [cardJob(req)]);
    return v ? verify(ctx, v, target) : undefined;
  }
  return checkAndWrite(ctx, req, target);
}

/** Runs once per request: approved → executing is taken under a row lock. */
export async function execute(ctx: WorkflowContext, id: string): Promise<ChangeRequest | undefined> {
  let req: ChangeRequest;
  try {
    req = await ctx.store.mutate(id, (cur) => ({
      next: transition(cur, 'execution_started'),
      audit: [{ actor: { system: 'executor' }, event: 'executing', data: { digest: cur.digest } }],
      jobs: [cardJob(cur)],
    }));
  } catch (e) {
    if (isLifecycleConflict(e) || e instanceof StoreConflict) return undefined; // another worker has it, or it was decided otherwise
    throw e;
  }
  ctx.wake();
  return req.fleet ? fleetCheckAndWrite(ctx, req) : checkAndWrite(ctx, req, singleTargetOf(ctx, req.targetType));
}

/**
 * At start-up: every request between approval and its end has an execution job. Normally the job
 * is still in the queue (it is durable); this repairs a database whose job was lost or failed.
 */
export async function recover(ctx: WorkflowContext): Promise<number> {
  const stuck = await ctx.store.listRequests({ states: [...IN_FLIGHT_STATES], limit: 500 });
  let repaired = 0;
  for (const req of stuck) {
    if (await ctx.store.hasActiveJob(executeJob(req.id).key)) continue;
    await ctx.queue.enqueue(executeJob(req.id));
    repaired++;
  }
  return repaired;
}

/** Moment two: the checks again, immediately before the write; then the write. */
async function checkAndWrite(ctx: WorkflowContext, req: ChangeRequest, target: Target): Promise<ChangeRequest | undefined> {
  const calls: ArmCallRecord[] = [];
  const checks = await runChecks(recording(ctx.arm, calls), target.subject(req.params), target.checks, { now: ctx.now(), expiryWarningDays: ctx.expiryWarningDays });
  await ctx.store.audit({ requestId: req.id, actor: { system: 'executor' }, event: 'checked', data: { moment: 'before-write', summary: summarize(checks), armCalls: calls } });
  const held = await holdBeforeWrite(ctx, req, target, checks, computeDigest(target, req, checks));
  if (held) return held.request;
  req = await ctx.store.mutate(req.id, (cur) => ({ next: amend(cur, { checks }), audit: [] }));
  return write(ctx, req, target);
}

/**
 * The ARM write, or — after a restart — the rest of it: a stored long-running operation is
 * followed again rather than sent twice.
 */
async function write(ctx: WorkflowContext, req: ChangeRequest, target: Target, resumeFrom?: StartedOperation): Promise<ChangeRequest | undefined> {
  const plan = planOf(req);
  const writeCalls: ArmCallRecord[] = [];
  const armW = recording(ctx.arm, writeCalls);
  let lastProgress = 0;
  const opts: WriteOptions = {
    finalStateVia: plan.finalStateVia,
    onOperation: async (op) => {
      // Stored before the first poll, so another process can pick it up.
      req = await ctx.store.mutate(req.id, (cur) => ({
        next: transition(cur, 'operation_started', { operation: op }),
        audit: [{ actor: { system: 'executor' }, event: 'operation_started', data: { method: op.method, operationUrl: op.url, kind: op.kind, correlationId: op.correlationId ?? null } }],
        jobs: [postJob(cur, texts.operationAcceptedPost(cur.id))],
      }));
      ctx.wake();
    },
    onProgress: async (status, polls) => {
      if (polls - lastProgress < 5) return; // the card, not a stream of messages
      lastProgress = polls;
      await ctx.queue.enqueue(cardJob(req, texts.azureProgress(status, polls))).catch((e: unknown) => ctx.log('warn', 'could not queue a progress update of the card', { requestId: req.id, error: (e as Error).message }));
    },
    // A write whose answer was lost (dropped connection, timeout, 5xx) is looked up before it is sent again.
    landed: async () => (await landed(ctx, plan, target)) === 'landed',
  };
  let written;
  try {
    written = resumeFrom ? await armW.resume(resumeFrom, plan.resourceId, plan.apiVersion, opts) : await send(armW, plan, opts);
  } catch (e) {
    const inPlace = isArmError(e) ? target.alreadyInPlace?.(e) : undefined;
    if (inPlace) {
      const v = await advance(
        ctx,
        req.id,
        'written',
        {},
        { actor: { system: 'executor' }, event: 'arm_call', data: { method: plan.method, resourceId: plan.resourceId, ok: true, code: isArmError(e) ? e.code : null, note: inPlace, calls: writeCalls } },
        [cardJob(req)],
      );
      return v ? verify(ctx, v, target) : undefined;
    }
    const message = isArmError(e) ? texts.azureRefused(e.describe()) : texts.notSent((e as Error).message);
    return advance(
      ctx,
      req.id,
      'write_failed',
      { result: { status: 'failed', message, correlationId: isArmError(e) ? e.correlationId : undefined } },
      {
        actor: { system: 'executor' },
        event: 'arm_call',
        data: {
          method: plan.method,
          resourceId: plan.resourceId,
          apiVersion: plan.apiVersion,
          ok: false,
          code: isArmError(e) ? e.code : 'unknown',
          status: isArmError(e) ? e.status : null,
          correlationId: isArmError(e) ? (e.correlationId ?? null) : null,
          calls: writeCalls,
        },
      },
      [cardJob(req), postJob(req, texts.failedPost(req.id, message))],
    );
  }
  const verifying = await advance(
    ctx,
    req.id,
    'written',
    {},
    {
      actor: { system: 'executor' },
      event: 'arm_call',
      data: {
        method: plan.method,
        resourceId: plan.resourceId,
        apiVersion: plan.apiVersion,
        ok: true,
        status: written.status,
        correlationId: written.correlationId ?? null,
        operationUrl: written.operationUrl ?? null,
        resumed: Boolean(resumeFrom),
        calls: writeCalls,
      },
    },
    [cardJob(req)],
  );
  return verifying ? verify(ctx, verifying, target, written.correlationId) : undefined;
}

/** Moment three: verification from a fresh GET, not from the write's echo. */
async function verify(ctx: WorkflowContext, req: ChangeRequest, target: Target, correlationId?: string): Promise<ChangeRequest | undefined> {
  const plan = planOf(req);
  const calls: ArmCallRecord[] = [];
  const verification = await verifyPlan(ctx, target, plan, calls);
  const ok = verification.status === 'pass';
  return advance(
    ctx,
    req.id,
    ok ? 'verified' : 'verification_failed',
    { result: { status: ok ? 'succeeded' : 'failed', message: ok ? target.doneMessage(plan) : verification.finding, correlationId: correlationId ?? req.result?.correlationId, verification: [verification] } },
    { actor: { system: 'verifier' }, event: 'verified', data: { ok, finding: verification.finding, evidence: verification.evidence, armCalls: calls } },
    [
      cardJob(req),
      postJob(req, ok ? texts.donePost(req.id, target.displayName, req.resourceId, target.doneMessage(plan)) : texts.verificationFailedPost(req.id, verification.finding)),
      // A fix that is done: the request it unblocks is checked again, by the bot, at once.
      ...(ok && req.unblocks ? [recheckJob(req.unblocks, req.id)] : []),
    ],
  );
}
