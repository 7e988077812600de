// A change across many resources as one request (issue 16: a key rotated everywhere it is used).
// At submission the watchdog's inventory finds the members; each is planned, checked and later
// written and verified by the single target that `rotate`s its type. The approvals cover every
// member's write (the digest binds them all); the policy applies at every place they touch.
// Writes go out with bounded concurrency (the gateway's pacer keeps each subscription inside ARM's
// write budget); each member's progress is a row changed in its own transaction with its audit
// entry, so a fleet resumed after a kill looks before it writes again and never writes twice.
import type { ArmCallRecord, ArmGateway, ArmResource, ArmWriteResult } from '../azure/port';
import { isArmError } from '../azure/port';
import { withReadCache } from '../azure/read-cache';
import { waitForRetryAfterMs } from '../azure/retry';
import { runChecks } from '../checks/runner';
import { diffPayload } from '../domain/diff';
import { amend } from '../domain/lifecycle';
import type { ChangeRequest, ChangeScope, CheckResult, CheckStatus, FleetMember, FleetOutcome } from '../domain/types';
import { type MemberRow, type MemberState, members as memberRows, moveMember, openMembers } from '../store/fleet';
import type { AuditEntry } from '../store/store';
import { type AnyTarget, type FleetCandidate, type FleetTarget, isFleet, parseForm, type Target } from '../targets/types';
import { scopesOf } from '../targets/scopes';
import { inScope, inventory, mapLimit, visibleSubscriptions } from '../watch';
import { singleTargetOf, targetOf } from './access';
import type { WorkflowContext } from './context';
import { cardJob, postJob } from './notifications';
import { Refusal } from './refusal';
import { computeDigest, recording, summarize } from './request-helpers';
import { advance, holdBeforeWrite, landed, send, verifyPlan } from './steps';
import { texts } from './texts';
import { subscriptionOf } from '../domain/resource-id';

/** Members written at once. The gateway's pacer spaces the writes within each subscription's budget. */
const FLEET_CONCURRENCY = 8;

/** A member still throttled (429) after the gateway's retries waits its turn again, this many times at most. */
const FLEET_THROTTLED_ROUNDS = 20;

type Fleet = NonNullable<ChangeRequest['fleet']>;

export interface FleetAssessment {
  fleet: Fleet;
  /** Each check once, over every member (the worst of them decides its status). */
  checks: CheckResult[];
  /** Every place the members touch, each under its member's own change type. */
  scopes: ChangeScope[];
}

/** What cannot be undone in a change: each member's own, for a fleet; the target's, for one resource. */
export function irreversibleOf(targets: WorkflowContext['targets'], target: AnyTarget | undefined, params: Record<string, unknown>, fleet?: Fleet): string[] {
  if (fleet) return [...new Set(fleet.members.flatMap((m) => targets.single(m.targetType)?.irreversible(m.params) ?? []))];
  return target?.irreversible(params) ?? [];
}

/** The fleet of a request that has one; a single request here is a fault of the caller. */
export function fleetOf(req: ChangeRequest): Fleet {
  if (!req.fleet) throw new Error(`${req.id} is a change to one resource, not a fleet`);
  return req.fleet;
}

function fleetTargetOf(ctx: WorkflowContext, type: string): FleetTarget {
  const t = targetOf(ctx, type);
  if (!isFleet(t)) throw new Error(`${type} is not a change across many resources`);
  return t;
}

type Planned = { member: FleetMember; checks: CheckResult[]; scopes: ChangeScope[] } | { skipped: { resourceId: string; reason: string } };

/** At submission: find the members in every subscription the bot can read, plan each with its own target and run its checks. Refuses when there is nothing to do. */
export async function assessFleet(ctx: WorkflowContext, target: FleetTarget, params: Record<string, unknown>, arm: ArmGateway): Promise<FleetAssessment> {
  // Narrowed to a subscription or resource group (`/subscriptions/<id, lower-case>[/resourceGroups/<name>]`): only that subscription is searched.
  const within = target.within?.(params);
  const subscription = within && subscriptionOf(within);
  const subscriptions = (await visibleSubscriptions(arm)).filter((s) => !subscription || s === subscription);
  const types = new Set(target.memberTypes.map((t) => t.toLowerCase()));
  const candidates: FleetCandidate[] = (await inventory(arm, subscriptions))
    .map((r) => ({ id: r.id, type: r.type, keyUrl: r.keyUrl, identityId: r.identityId }))
    .filter((c) => types.has(c.type.toLowerCase()) && (!within || inScope(c, within)) && target.selects(params, c));
  if (!candidates.length) throw new Refusal(texts.fleetNoneUse(target.resourceId(params), subscriptions.length, within));
  if (candidates.length > target.maxMembers) throw new Refusal(texts.fleetTooLarge(candidates.length, target.maxMembers, within));
  const planned = await mapLimit(candidates, FLEET_CONCURRENCY, (c) => planMember(ctx, target, params, c, arm));
  const done = planned.filter((p): p is Extract<Planned, { member: FleetMember }> => 'member' in p);
  const skipped = planned.filter((p): p is Extract<Planned, { skipped: unknown }> => 'skipped' in p).map((p) => p.skipped);
  if (!done.length) throw new Refusal(texts.fleetNothingToDo(target.resourceId(params), skipped));
  return {
    fleet: { members: done.map((d) => d.member), skipped },
    checks: aggregateChecks(done.map((d) => ({ resourceId: d.member.resourceId, checks: d.checks }))),
    scopes: scopesOf(done.flatMap((d) => d.scopes)),
  };
}

/** One member: its own target's prefill, the fleet's values over it, its plan, checks and what the write changes. */
async function planMember(ctx: WorkflowContext, target: FleetTarget, params: Record<string, unknown>, c: FleetCandidate, arm: ArmGateway): Promise<Planned> {
  const skip = (reason: string): Planned => ({ skipped: { resourceId: c.id, reason } });
  const own = ctx.targets.forRotate(c.type);
  if (!own) return skip(`no change type rotates ${c.type}`);
  const resource = own.prefill?.read ? await arm.getOrNull<ArmResource>(c.id, own.apiVersion) : undefined;
  if (own.prefill?.read && !resource) return skip('is gone');
  const pre = own.prefill ? own.prefill.values(c.id, resource) : { values: {} };
  if ('refusal' in pre) return skip(pre.refusal);
  const mine = target.memberValues(params, c, pre.values);
  if ('skip' in mine) return skip(mine.skip);
  const parsed = parseForm(own, mine.values);
  if (!parsed.ok) return skip(`cannot be planned: ${parsed.errors.map((e) => e.message).join('; ')}`);
  const p = own.prepare ? await own.prepare(parsed.params, arm) : parsed.params;
  const plan = own.plan(p);
  const [checks, current] = await Promise.all([
    runChecks(arm, own.subject(p), own.checks, { now: ctx.now(), expiryWarningDays: ctx.expiryWarningDays }).then((r) => ctx.checked(r)),
    plan.method === 'PATCH' ? arm.getOrNull<ArmResource>(plan.resourceId, plan.apiVersion) : Promise.resolve(undefined),
  ]);
  return {
    member: { resourceId: plan.resourceId, targetType: own.type, params: p, plan, changes: current ? diffPayload(current, plan.body) : [], evidence: own.digestEvidence(checks) },
    checks,
    scopes: own.scopes(p, checks).map((s) => ({ ...s, targetType: own.type })),
  };
}

/** Every member's checks again (a recheck, or right before the writes): the checks over all, and each member with the evidence they found now. */
export async function checkMembers(ctx: WorkflowContext, req: ChangeRequest, arm: ArmGateway): Promise<{ members: FleetMember[]; checks: CheckResult[] }> {
  const cached = withReadCache(arm);
  const results = await mapLimit(fleetOf(req).members, FLEET_CONCURRENCY, async (m) => {
    const own = singleTargetOf(ctx, m.targetType);
    const checks = await runChecks(cached, own.subject(m.params), own.checks, { now: ctx.now(), expiryWarningDays: ctx.expiryWarningDays });
    return { member: { ...m, evidence: own.digestEvidence(checks) }, checks };
  });
  return { members: results.map((r) => r.member), checks: aggregateChecks(results.map((r) => ({ resourceId: r.member.resourceId, checks: r.checks }))) };
}

const WORST: CheckStatus[] = ['error', 'fail', 'warn', 'info', 'pass'];
const nameOf = (id: string) => id.split('/').pop() ?? id;

/**
 * Each check once for the whole fleet, in the order they first appear: its status the worst any
 * member got; its finding says for how many members, and names those that are not passing.
 */
function aggregateChecks(results: Array<{ resourceId: string; checks: CheckResult[] }>): CheckResult[] {
  const byId = new Map<string, Array<{ resourceId: string; check: CheckResult }>>();
  for (const r of results) for (const c of r.checks) byId.set(c.id, [...(byId.get(c.id) ?? []), { resourceId: r.resourceId, check: c }]);
  return [...byId.values()].map((all) => {
    const worst = [...all].sort((a, b) => WORST.indexOf(a.check.status) - WORST.indexOf(b.check.status))[0]!;
    const off = all.filter((x) => x.check.status === worst.check.status);
    const finding =
      all.length === 1
        ? `${nameOf(worst.resourceId)}: ${worst.check.finding}`
        : worst.check.status === 'pass' || worst.check.status === 'info'
          ? `All ${all.length} resources: ${worst.check.finding}`
          : `${off.length} of ${all.length} resources — ${off
              .slice(0, 3)
              .map((x) => `${nameOf(x.resourceId)}: ${x.check.finding}`)
              .join(' · ')}${off.length > 3 ? ` · and ${off.length - 3} more` : ''}`;
    return {
      ...worst.check,
      finding,
      evidence: { ...worst.check.evidence, resources: all.length, ...(off.length < all.length || !['pass', 'info'].includes(worst.check.status) ? { [worst.check.status]: off.map((x) => nameOf(x.resourceId)).join(', ') } : {}) },
    };
  });
}

/** Moment two for a fleet: every member's checks again, the digest over them, the policy; then the writes. */
export async function fleetCheckAndWrite(ctx: WorkflowContext, req: ChangeRequest): Promise<ChangeRequest | undefined> {
  const target = fleetTargetOf(ctx, req.targetType);
  const calls: ArmCallRecord[] = [];
  const { members, checks } = await checkMembers(ctx, req, recording(ctx.arm, calls));
  await ctx.store.audit({ requestId: req.id, actor: { system: 'executor' }, event: 'checked', data: { moment: 'before-write', summary: summarize(checks), members: members.length, armReads: calls.length } });
  const held = await holdBeforeWrite(ctx, req, target, checks, computeDigest(target, { ...req, fleet: { ...fleetOf(req), members } }, checks));
  if (held) return held.request;
  const next = await ctx.store.mutate(req.id, (cur) => ({ next: amend(cur, { checks }), audit: [] }));
  return writeFleet(ctx, next);
}

/** After a restart: the writes where they were left, or the end. */
export async function resumeFleet(ctx: WorkflowContext, req: ChangeRequest): Promise<ChangeRequest | undefined> {
  return req.state === 'verifying' ? finishFleet(ctx, req) : writeFleet(ctx, req);
}

async function writeFleet(ctx: WorkflowContext, req: ChangeRequest): Promise<ChangeRequest | undefined> {
  const fleet = fleetOf(req);
  const rows = await ctx.store.change(async (tx) => {
    const result = await openMembers(
      tx,
      req.id,
      fleet.members.map((m) => m.resourceId),
    );
    const left = result.filter((r) => r.state !== 'verified' && r.state !== 'failed').length;
    return { result, audit: [{ requestId: req.id, actor: { system: 'executor' }, event: 'fleet_writing', data: { members: result.length, left, concurrency: FLEET_CONCURRENCY } }] };
  });
  const total = rows.length;
  let finished = rows.filter((r) => r.state === 'verified' || r.state === 'failed').length;
  let failed = rows.filter((r) => r.state === 'failed').length;
  const every = Math.max(1, Math.ceil(total / 10));
  // A fault in one member (the database gone, say) lets the others in flight finish before the job
  // fails and is run again: no write is left running behind a retry that might send it once more.
  const faults: unknown[] = [];
  await mapLimit(rows, FLEET_CONCURRENCY, async (row) => {
    if (row.state === 'verified' || row.state === 'failed' || faults.length) return;
    const end = await writeMember(ctx, req, row).catch((e: unknown) => void faults.push(e));
    if (!end) return;
    finished++;
    if (end === 'failed') failed++;
    // Progress on the card, about ten times over the fleet (not a message per resource).
    if (finished % every === 0 && finished < total) {
      await ctx.queue.enqueue(cardJob(req, texts.fleetProgress(finished - failed, total, failed))).catch((e: unknown) => ctx.log('warn', 'could not queue a progress update of the card', { requestId: req.id, error: (e as Error).message }));
    }
  });
  if (faults.length) throw faults[0];
  return finishFleet(ctx, req);
}

/**
 * One member, from where its row stands: pending → writing (the write) → verifying (a fresh read)
 * → verified | failed. A member left `writing` by a killed process is looked up before it is written again.
 */
async function writeMember(ctx: WorkflowContext, req: ChangeRequest, row: MemberRow): Promise<MemberState> {
  const m = fleetOf(req).members[row.idx];
  if (!m) throw new Error(`${req.id} has no member ${row.idx}`);
  const own = singleTargetOf(ctx, m.targetType);
  const entry = (event: string, data: Record<string, unknown>): AuditEntry => ({ requestId: req.id, actor: { system: 'executor' }, event, data: { resourceId: m.resourceId, ...data } });
  const move = (from: MemberState, to: MemberState, audit: AuditEntry, outcome?: FleetOutcome) =>
    ctx.store.change(async (tx) => {
      const moved = await moveMember(tx, req.id, row.idx, from, to, outcome);
      return { result: moved, audit: moved ? [audit] : [] };
    });
  let state = row.state;
  if (state === 'pending') {
    if (!(await move('pending', 'writing', entry('member_writing', { method: m.plan.method, apiVersion: m.plan.apiVersion })))) throw new Error(`member ${row.idx} of ${req.id} moved on elsewhere`);
    state = 'writing';
  } else if (state === 'writing' && (await landed(ctx, m.plan, own)) === 'landed') {
    await move('writing', 'verifying', entry('arm_call', { method: 'GET', ok: true, note: 'the write had landed before the restart; not sent again' }));
    state = 'verifying';
  }
  if (state === 'writing') {
    const calls: ArmCallRecord[] = [];
    const armW = recording(ctx.arm, calls);
    const opts = { finalStateVia: m.plan.finalStateVia, landed: async () => (await landed(ctx, m.plan, own)) === 'landed' };
    let written: ArmWriteResult<unknown> | undefined;
    let refusal: unknown;
    for (let round = 1; ; round++) {
      try {
        written = await send(armW, m.plan, opts);
        refusal = undefined;
        break;
      } catch (e) {
        refusal = e;
        // Still throttled after the gateway's own retries: ARM did not act on a 429, so the member
        // waits its turn again rather than failing for the budget of a busy subscription.
        if (!isArmError(e) || e.status !== 429 || round >= FLEET_THROTTLED_ROUNDS) break;
        ctx.log('info', 'a fleet member is still throttled; waiting its turn again', { requestId: req.id, resourceId: m.resourceId, round });
        await new Promise((r) => setTimeout(r, waitForRetryAfterMs(e.retryAfter) ?? 5000 * round));
      }
    }
    const inPlace = refusal && isArmError(refusal) ? own.alreadyInPlace?.(refusal) : undefined;
    if (refusal && !inPlace) {
      const code = isArmError(refusal) ? refusal.code : 'NotSent';
      const message = isArmError(refusal) ? texts.azureRefused(refusal.describe()) : texts.notSent((refusal as Error).message);
      const correlationId = isArmError(refusal) ? refusal.correlationId : undefined;
      await move('writing', 'failed', entry('arm_call', { method: m.plan.method, apiVersion: m.plan.apiVersion, ok: false, code, status: isArmError(refusal) ? refusal.status : null, correlationId: correlationId ?? null, calls }), {
        resourceId: m.resourceId,
        status: 'failed',
        code,
        message,
        ...(correlationId ? { correlationId } : {}),
      });
      return 'failed';
    }
    await move(
      'writing',
      'verifying',
      entry('arm_call', { method: m.plan.method, apiVersion: m.plan.apiVersion, ok: true, status: written?.status ?? null, correlationId: written?.correlationId ?? null, ...(inPlace ? { note: inPlace } : {}), calls }),
    );
  }
  return verifyMember(ctx, m, own, move, entry);
}

/** Verification of one member from a fresh read, not from the write's echo. */
async function verifyMember(
  ctx: WorkflowContext,
  m: FleetMember,
  own: Target,
  move: (from: MemberState, to: MemberState, audit: AuditEntry, outcome?: FleetOutcome) => Promise<boolean>,
  entry: (event: string, data: Record<string, unknown>) => AuditEntry,
): Promise<MemberState> {
  const calls: ArmCallRecord[] = [];
  const v = await verifyPlan(ctx, own, m.plan, calls);
  const ok = v.status === 'pass';
  const to: MemberState = ok ? 'verified' : 'failed';
  await move('verifying', to, entry('verified', { ok, finding: v.finding, evidence: v.evidence, armCalls: calls }), {
    resourceId: m.resourceId,
    status: ok ? 'verified' : 'failed',
    message: ok ? own.doneMessage(m.plan) : v.finding,
    ...(ok ? {} : { code: v.id }),
  });
  return to;
}

/** Every member has ended: the request is done, or partly done with each one's outcome and *Retry the failed ones*. */
async function finishFleet(ctx: WorkflowContext, req: ChangeRequest): Promise<ChangeRequest | undefined> {
  const target = fleetTargetOf(ctx, req.targetType);
  const rows = await memberRows(ctx.store.db, req.id);
  const outcomes = rows.map((r) => (r.state === 'verified' || r.state === 'failed' ? r.outcome : undefined)).filter((o): o is FleetOutcome => !!o);
  // Another worker still has some (a lease taken over): this job ends, the execution job runs it again.
  if (outcomes.length < rows.length) throw new Error(`${rows.length - outcomes.length} member(s) of ${req.id} are not finished yet`);
  const failed = outcomes.filter((o) => o.status === 'failed');
  const verified = outcomes.length - failed.length;
  let cur: ChangeRequest | undefined = req;
  if (req.state === 'executing') cur = await advance(ctx, req.id, 'written', {}, { actor: { system: 'executor' }, event: 'fleet_written', data: { members: outcomes.length, verified, failed: failed.length } }, [cardJob(req)]);
  if (!cur) return undefined;
  const message = failed.length ? texts.fleetDone(verified, outcomes.length, failed) : target.doneMessage(req.params, verified);
  const retry: CheckResult[] = failed.length
    ? [
        {
          id: 'fleet.members',
          title: 'Every resource moved and verified',
          status: 'fail',
          finding: message,
          evidence: { verified, failed: failed.length, codes: [...new Set(failed.map((f) => f.code ?? 'error'))].join(', ') },
          remedy: 'Retry the failed ones: a new request for just those, checked and approved again (see each one’s error first).',
          fix: {
            command: target.entry.command ?? target.type,
            values: target.retry(
              req.params,
              failed.map((f) => f.resourceId),
            ),
            label: 'Retry the failed ones',
          },
        },
      ]
    : [];
  return advance(
    ctx,
    req.id,
    failed.length ? 'verification_failed' : 'verified',
    { result: { status: failed.length ? 'failed' : 'succeeded', message, members: outcomes, verification: retry } },
    { actor: { system: 'verifier' }, event: 'verified', data: { ok: !failed.length, verified, failed: failed.map((f) => ({ resourceId: f.resourceId, code: f.code ?? null })) } },
    [cardJob(req), postJob(req, texts.fleetDonePost(req.id, message, failed.length > 0 && verified > 0, verified === 0))],
  );
}
