// Submission: the form parsed, the policy asked first, then the checks; the request stored with
// its audit entries and its card and approval notice as jobs, in one transaction. Also `check
// <request id>`: the checks of a waiting request run again.
import type { ArmCallRecord, ArmGateway, ArmResource } from '../azure/port';
import { withReadCache } from '../azure/read-cache';
import { runChecks } from '../checks/runner';
import { newRequestId } from '../domain/canonical';
import { diffPayload } from '../domain/diff';
import { amend, canTransition, transition } from '../domain/lifecycle';
import { z } from 'zod';
import type { JobSpec } from './durable';
import { defineJob } from './job-registry';
import { type Actor, type ArmWritePlan, type ChangeRequest, type ChangeScope, type CheckResult, blocks } from '../domain/types';
import type { AuditEntry } from '../store/store';
import { isFleet, parseForm, type Target } from '../targets/types';
import { admit, rulesForRequest, standingOf, targetOf, terms } from './access';
import { assessFleet, checkMembers, type FleetAssessment, fleetOf, irreversibleOf } from './fleet';
import type { Place, WorkflowContext } from './context';
import { cardJob, postJob } from './notifications';
import type { PolicyRule } from './policy';
import { view } from './queries';
import { Refusal } from './refusal';
import { approvalsFor, computeDigest, conversationIdOf, isPersonalConversation, sameConversation, MAX_SHOWN_PAYLOAD_CHARS, MAX_SHOWN_SCOPES, recording, summarize } from './request-helpers';
import { texts } from './texts';

export type SubmitOutcome = { ok: true; request: ChangeRequest } | { ok: false; refusal: Refusal };

/** A refusal becomes the outcome; anything else is a fault for the caller. */
function refused<T>(fn: () => T): { ok: true; value: T } | { ok: false; refusal: Refusal } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, refusal: e };
    throw e;
  }
}

/** What a submission found before it is stored: the params, the write(s), the checks and every place the change touches. */
interface Assessed {
  params: Record<string, unknown>;
  resourceId: string;
  plan?: ArmWritePlan;
  fleet?: FleetAssessment['fleet'];
  checks: CheckResult[];
  scopes: ChangeScope[];
  changes?: ChangeRequest['changes'];
}

/** A single change: the policy first (nothing is read for a request it does not allow), then prepare, plan and checks. */
async function assessSingle(ctx: WorkflowContext, actor: Actor, conversation: ChangeRequest['conversation'], target: Target, parsed: Record<string, unknown>, armR: ArmGateway): Promise<Assessed> {
  rulesForRequest(ctx, actor, conversation, target, target.scopes(parsed, []));
  const params = target.prepare ? await target.prepare(parsed, armR) : parsed;
  const plan = target.plan(params);
  const [checks, current] = await Promise.all([
    runChecks(armR, target.subject(params), target.checks, { now: ctx.now(), expiryWarningDays: ctx.expiryWarningDays }).then((r) => ctx.checked(r)),
    // An update shows approvers what changes, property by property.
    plan.method === 'PATCH' ? armR.getOrNull<ArmResource>(plan.resourceId, plan.apiVersion) : Promise.resolve(undefined),
  ]);
  // Nothing a person approves is ever clipped: a change too large to show in full is refused.
  const shown = JSON.stringify(plan.body, null, 2).length;
  if (shown > MAX_SHOWN_PAYLOAD_CHARS) throw new Refusal(texts.payloadTooLarge(shown, MAX_SHOWN_PAYLOAD_CHARS));
  // What the checks found (the key's vault) is part of the blast radius too.
  const scopes = target.scopes(params, checks);
  if (scopes.length > MAX_SHOWN_SCOPES) throw new Refusal(texts.tooManyScopes(scopes.length, MAX_SHOWN_SCOPES));
  return { params, resourceId: plan.resourceId, plan, checks, scopes, changes: current ? diffPayload(current, plan.body) : undefined };
}

export async function submit(ctx: WorkflowContext, actor: Actor, conversation: ChangeRequest['conversation'], targetType: string, data: unknown, cardMessageId?: string, opts: { unblocks?: string } = {}): Promise<SubmitOutcome> {
  const target = targetOf(ctx, targetType);
  const parsed = parseForm(target, data);
  if (!parsed.ok) return { ok: false, refusal: new Refusal(texts.pleaseFix(parsed.errors), parsed.errors) };
  const admitted = refused(() => admit(ctx, actor));
  if (!admitted.ok) return admitted;
  // One read cache for the whole submission: prepare(), the checks and the diff share reads.
  const calls: ArmCallRecord[] = [];
  const armR = withReadCache(recording(ctx.arm, calls));
  let assessed: Assessed;
  try {
    // A fleet's places are known once its members are found (its policy is applied to all of them
    // below); nothing is read for someone no rule lets request a change of the types it writes.
    if (isFleet(target) && !ctx.policy.mayRequestSome(actor, [target.type, ...target.memberTypes.flatMap((t) => ctx.targets.forRotate(t)?.type ?? [])])) return { ok: false, refusal: new Refusal(texts.mayNotRequestAny(target.displayName)) };
    assessed = isFleet(target) ? { ...(await assessFleet(ctx, target, parsed.params, armR)), params: parsed.params, resourceId: target.resourceId(parsed.params) } : await assessSingle(ctx, actor, conversation, target, parsed.params, armR);
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, refusal: e };
    throw e;
  }
  const { params, plan, checks, scopes, changes } = assessed;
  const ruled = refused(() => rulesForRequest(ctx, actor, conversation, target, scopes));
  if (!ruled.ok) return ruled;
  const rules: PolicyRule[] = ruled.value;
  // A fleet cannot be undone where any member's change cannot (the policy's extra approvals apply).
  const irreversible = irreversibleOf(ctx.targets, target, params, assessed.fleet).length > 0;
  const now = ctx.now();
  const base = { targetType, resourceId: assessed.resourceId, ...(plan ? { plan } : {}), ...(assessed.fleet ? { fleet: assessed.fleet } : {}) };
  const blocked = checks.some(blocks);
  const { pendingHours, ...agreed } = terms(ctx, rules, irreversible);
  const draft: ChangeRequest = {
    id: newRequestId(),
    ...base,
    params,
    requester: actor,
    conversation,
    cardMessageId,
    changes,
    digest: computeDigest(target, base, checks),
    state: 'draft',
    checks,
    approvals: [],
    ...agreed,
    scopes,
    irreversible,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + pendingHours * 3600_000).toISOString(),
    version: 1,
  };
  // A fix names the blocked request it unblocks only when that request is still waiting and was made
  // in the same conversation or by the same person (a fix cannot be pinned on someone else's request elsewhere).
  const blockedOne = opts.unblocks ? await ctx.store.getRequest(opts.unblocks) : null;
  const unblocks =
    blockedOne && canTransition(blockedOne.state, 'rechecked') && (sameConversation(conversationIdOf(blockedOne.conversation), conversationIdOf(conversation)) || ctx.policy.personOf(blockedOne.requester) === ctx.policy.personOf(actor))
      ? blockedOne.id
      : undefined;
  if (unblocks) draft.unblocks = unblocks;
  const req = transition(draft, blocked ? 'submitted_blocked' : 'submitted', { standing: standingOf(ctx, draft).view });
  await ctx.store.createRequest(
    req,
    [
      {
        actor,
        event: 'requested',
        data: {
          targetType,
          resourceId: req.resourceId,
          digest: req.digest,
          ...(plan ? { payload: plan.body } : {}),
          ...(req.fleet ? { members: req.fleet.members.map((m) => ({ resourceId: m.resourceId, payload: m.plan.body })), skipped: req.fleet.skipped } : {}),
          policyRules: req.policyRules,
          policyHash: req.policyHash,
          scopes,
          ...(unblocks ? { unblocks } : {}),
        },
      },
      { actor: { system: 'checks' }, event: 'checked', data: { moment: 'submission', summary: summarize(checks), blocked, armCalls: calls } },
      ...(blocked ? [] : [{ actor: { system: 'workflow' }, event: 'approval_requested', data: { approvers: req.approvers, required: req.requiredApprovals, rules: req.standing } }]),
    ],
    [cardJob(req), ...(blocked ? [] : [postJob(req, approvalNotice(ctx, req, rules))])],
  );
  // The blocked request says what it waits for (its own audit row; its card shows it).
  if (unblocks) {
    await ctx.store
      .mutate(unblocks, (cur) => ({
        next: amend(cur, { waitingFor: [...new Set([...(cur.waitingFor ?? []), req.id])] }),
        audit: [{ actor, event: 'fix_requested', data: { fix: req.id, targetType } }],
        jobs: [cardJob(cur), postJob(cur, texts.fixRequestedPost(cur.id, req.id, target.displayName))],
      }))
      .catch((e: unknown) => ctx.log('warn', 'could not link a fix to the request it unblocks', { fix: req.id, unblocks, error: (e as Error).message }));
  }
  ctx.wake();
  return { ok: true, request: req };
}

/** Checks again, by the bot, once a fix is done: the request goes on to approval, or says what still blocks it. */
export const recheckPayload = z.object({ requestId: z.string(), after: z.string() });

export function recheckJob(requestId: string, after: string): JobSpec {
  return { kind: 'request.recheck', key: `recheck:${requestId}:${after}`, lane: `request:${requestId}`, payload: { requestId, after }, maxAttempts: 5 };
}

export function recheckJobDefinition(ctx: WorkflowContext) {
  return defineJob({
    kind: 'request.recheck',
    schema: recheckPayload,
    handler: async ({ requestId, after }) => {
      const cur0 = await ctx.store.getRequest(requestId);
      if (!cur0 || !canTransition(cur0.state, 'rechecked')) return;
      const next = await checkAgain(ctx, cur0, { system: 'workflow' }, { moment: 'after-fix', fix: after });
      const still = next.checks.filter(blocks).map((c) => c.id);
      await ctx.queue.enqueue(postJob(next, texts.fixDonePost(next.id, after, still)));
    },
  });
}

/** The post that asks for approvals; in a private chat it says where approvers decide instead. */
function approvalNotice(ctx: WorkflowContext, req: ChangeRequest, rules: PolicyRule[]): string {
  const policy = ctx.policy;
  const usual = Math.max(...rules.map((r) => policy.approvalsNeeded(r, false)));
  return texts.approvalRequested({
    id: req.id,
    required: req.requiredApprovals,
    irreversible: req.irreversible,
    extraForIrreversible: req.irreversible ? req.requiredApprovals - usual : 0,
    approvers: req.approvers,
    namedApprovers: [...new Set(rules.flatMap((r) => policy.namedApprovers(r, req.requester)))],
    requesterName: req.requester.name,
    personal: isPersonalConversation(req.conversation),
  });
}

/** `check <request id>`: run the checks of a waiting request again; changed evidence voids approvals. */
export async function recheck(ctx: WorkflowContext, id: string, actor: Actor, place: Place): Promise<ChangeRequest> {
  const cur0 = await view(ctx, id, actor, place);
  if (!canTransition(cur0.state, 'rechecked')) throw new Refusal(texts.onlyWaitingRechecked(cur0));
  return checkAgain(ctx, cur0, actor, { moment: 'recheck' });
}

/** The checks of a waiting request, run again; changed evidence voids its approvals. */
async function checkAgain(ctx: WorkflowContext, cur0: ChangeRequest, actor: Actor | { system: string }, why: { moment: string; fix?: string }): Promise<ChangeRequest> {
  const target = targetOf(ctx, cur0.targetType);
  const calls: ArmCallRecord[] = [];
  const armR = recording(ctx.arm, calls);
  const again = isFleet(target)
    ? await checkMembers(ctx, cur0, armR).then(({ members, checks }) => ({ checks, fleet: { ...fleetOf(cur0), members } }))
    : { checks: await runChecks(armR, target.subject(cur0.params), target.checks, { now: ctx.now(), expiryWarningDays: ctx.expiryWarningDays }), fleet: undefined };
  const { checks } = again;
  const digest = computeDigest(target, { ...cur0, ...(again.fleet ? { fleet: again.fleet } : {}) }, checks);
  const blocked = checks.some(blocks);
  const next = await ctx.store.mutate(cur0.id, (cur) => {
    if (!canTransition(cur.state, 'rechecked')) throw new Refusal(texts.onlyWaitingRechecked(cur));
    const audit: AuditEntry[] = [{ actor, event: 'checked', data: { ...why, summary: summarize(checks), blocked, digest, armCalls: calls } }];
    if (digest !== cur.digest && approvalsFor(cur).length) audit.push({ actor: { system: 'workflow' }, event: 'voided', data: { reason: 'the checks’ evidence changed', oldDigest: cur.digest, newDigest: digest } });
    const waitingFor = why.fix ? (cur.waitingFor ?? []).filter((f) => f !== why.fix) : cur.waitingFor;
    return { next: transition(cur, blocked ? 'rechecked_blocked' : 'rechecked', { checks, digest, waitingFor, ...(again.fleet ? { fleet: again.fleet } : {}) }), audit, jobs: [cardJob(cur)] };
  });
  ctx.wake();
  return next;
}
