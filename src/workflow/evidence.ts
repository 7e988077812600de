// One JSON record of one change — what was asked, what was checked (with evidence), what was
// approved (by whom, when, which digest), which ARM calls were made (correlation ids), how it was
// verified — with the request's audit rows and their hashes, so it can be verified offline, without
// the database: `npm run audit:export -- <id>` writes it, `npm run audit:verify -- --bundle <file>`
// checks it, `evidence <id>` shows it in chat.
import { z } from 'zod';
import { type AuditHead, auditRowHash } from '../domain/audit-chain';
import { canonicalJson } from '../domain/canonical';
import type { Actor, ChangeRequest, CheckResult } from '../domain/types';
import type { AuditRow, Store } from '../store/store';
import { findTarget } from '../targets';
import { computeDigest } from './request-helpers';

export const EVIDENCE_FORMAT = 'cmk-chatops/evidence@1';

export interface EvidenceArmCall {
  /** The audit row that recorded the call. */
  seq: number;
  event: string;
  method: string;
  path: string;
  apiVersion?: string;
  status?: number | null;
  ok?: boolean;
  correlationId: string | null;
}

export interface EvidenceRecord {
  format: typeof EVIDENCE_FORMAT;
  exportedAt: string;
  request: {
    id: string;
    targetType: string;
    resourceId: string;
    state: ChangeRequest['state'];
    requester: Actor;
    policyRules: string[];
    policyHash: string;
    scopes: ChangeRequest['scopes'];
    requiredApprovals: number;
    approvers: string[];
    createdAt: string;
    updatedAt: string;
    /** The chain's head when the request's last audited change committed (what its card shows). */
    auditHead: AuditHead | null;
  };
  /** The ARM write exactly as approved (a change to one resource). */
  change?: { method: string; resourceId: string; apiVersion: string; payload: Record<string, unknown> };
  /** A change across many resources: every member's write exactly as approved, and what was left out. */
  fleet?: ChangeRequest['fleet'];
  digest: string;
  checks: CheckResult[];
  approvals: Array<{ who: string; platform: string; tenant?: string; id: string; at: string; decision: 'approved' | 'rejected'; digest: string; reason?: string }>;
  armCalls: EvidenceArmCall[];
  result: ChangeRequest['result'] | null;
  auditRows: Array<{ seq: number; requestId: string | null; at: string; actor: unknown; event: string; data: Record<string, unknown>; prevHash: string; hash: string }>;
  /** The whole chain's head at export time: keep it as an anchor too. */
  chainHead: AuditHead | null;
}

/** The record of one request as the store has it now, or undefined when there is no such request. */
export async function buildEvidence(store: Store, id: string, now: () => Date = () => new Date()): Promise<EvidenceRecord | undefined> {
  const req = await store.getRequest(id);
  if (!req) return undefined;
  const [rows, chainHead] = await Promise.all([store.auditTrail(req.id), store.auditHead()]);
  return {
    format: EVIDENCE_FORMAT,
    exportedAt: now().toISOString(),
    request: {
      id: req.id,
      targetType: req.targetType,
      resourceId: req.resourceId,
      state: req.state,
      requester: req.requester,
      policyRules: req.policyRules,
      policyHash: req.policyHash,
      scopes: req.scopes,
      requiredApprovals: req.requiredApprovals,
      approvers: req.approvers,
      createdAt: req.createdAt,
      updatedAt: req.updatedAt,
      auditHead: req.auditHead ?? null,
    },
    ...(req.plan ? { change: { method: req.plan.method, resourceId: req.plan.resourceId, apiVersion: req.plan.apiVersion, payload: req.plan.body } } : {}),
    ...(req.fleet ? { fleet: req.fleet } : {}),
    digest: req.digest,
    checks: req.checks,
    approvals: req.approvals.map((a) => ({
      who: a.approver.name,
      platform: a.approver.platform,
      ...(a.approver.tenant ? { tenant: a.approver.tenant } : {}),
      id: a.approver.id,
      at: a.at,
      decision: a.decision,
      digest: a.digest,
      ...(a.reason ? { reason: a.reason } : {}),
    })),
    armCalls: armCallsOf(rows),
    result: req.result ?? null,
    auditRows: rows.map((r) => ({ seq: r.seq, requestId: r.requestId, at: r.at, actor: r.actor, event: r.event, data: r.data, prevHash: r.prevHash, hash: r.hash })),
    chainHead: chainHead ?? null,
  };
}

/** Every ARM call the audit rows record: the checks' reads, the write and its polls, the verification read. */
function armCallsOf(rows: AuditRow[]): EvidenceArmCall[] {
  const out: EvidenceArmCall[] = [];
  for (const r of rows) {
    const d = r.data;
    const calls = (Array.isArray(d.armCalls) ? d.armCalls : Array.isArray(d.calls) ? d.calls : []) as Array<Record<string, unknown>>;
    for (const c of calls) {
      out.push({
        seq: r.seq,
        event: r.event,
        method: String(c.method ?? ''),
        path: String(c.path ?? ''),
        apiVersion: c.apiVersion ? String(c.apiVersion) : undefined,
        status: typeof c.status === 'number' ? c.status : null,
        correlationId: c.correlationId ? String(c.correlationId) : null,
      });
    }
    if (r.event === 'arm_call' && !calls.length) {
      out.push({
        seq: r.seq,
        event: r.event,
        method: String(d.method ?? ''),
        path: String(d.resourceId ?? ''),
        apiVersion: d.apiVersion ? String(d.apiVersion) : undefined,
        status: typeof d.status === 'number' ? d.status : null,
        ok: d.ok === true,
        correlationId: d.correlationId ? String(d.correlationId) : null,
      });
    }
    if (r.event === 'operation_started') {
      out.push({ seq: r.seq, event: r.event, method: String(d.method ?? ''), path: String(d.operationUrl ?? ''), correlationId: d.correlationId ? String(d.correlationId) : null });
    }
  }
  return out;
}

const plan = z.object({ method: z.enum(['PUT', 'PATCH']), resourceId: z.string(), apiVersion: z.string(), payload: z.record(z.string(), z.unknown()) });

const memberPlan = z.object({
  method: z.enum(['PUT', 'PATCH']),
  resourceId: z.string(),
  apiVersion: z.string(),
  body: z.record(z.string(), z.unknown()),
  finalStateVia: z.enum(['azure-async-operation', 'location', 'original-uri']).optional(),
});

const recordShape = z.object({
  format: z.literal(EVIDENCE_FORMAT),
  request: z.object({ id: z.string(), targetType: z.string(), resourceId: z.string(), state: z.string(), requiredApprovals: z.number(), auditHead: z.object({ seq: z.number(), hash: z.string() }).nullable() }).passthrough(),
  change: plan.optional(),
  fleet: z
    .object({
      members: z.array(
        z.object({
          resourceId: z.string(),
          targetType: z.string(),
          params: z.record(z.string(), z.unknown()),
          plan: memberPlan,
          changes: z.array(z.object({ path: z.string(), from: z.string(), to: z.string() })),
          evidence: z.record(z.string(), z.unknown()),
        }),
      ),
      skipped: z.array(z.object({ resourceId: z.string(), reason: z.string() })),
    })
    .optional(),
  digest: z.string(),
  // A check result exactly as the store keeps it (CheckResult), so the digest recomputes from it without a cast.
  checks: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      status: z.enum(['pass', 'warn', 'info', 'fail', 'error']),
      finding: z.string(),
      evidence: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
      remedy: z.string().optional(),
    }),
  ),
  approvals: z.array(z.object({ who: z.string(), platform: z.string(), id: z.string(), at: z.string(), decision: z.enum(['approved', 'rejected']), digest: z.string() }).passthrough()),
  auditRows: z.array(z.object({ seq: z.number(), requestId: z.string().nullable(), at: z.string(), actor: z.unknown(), event: z.string(), data: z.record(z.string(), z.unknown()), prevHash: z.string(), hash: z.string() })),
  chainHead: z.object({ seq: z.number(), hash: z.string() }).nullable(),
});

export type EvidenceVerdict = { ok: true; rows: number; notes: string[] } | { ok: false; problems: string[]; notes: string[] };

/**
 * Verify a record offline: every audit row's hash recomputes from its prev_hash and content exactly
 * as the store computes it, seqs increase (and adjacent rows link), the payload is the one the
 * `requested` row recorded, the digest recomputes from payload and evidence, every approval is
 * backed by its audit row and names a digest the request had, and the digest that was executed had
 * enough approvals. Each problem is named. (The rows are checked among themselves: compare the
 * request's head with the one its card showed, or the rows with the live chain, to tie them to it.)
 */
export function verifyEvidence(input: unknown): EvidenceVerdict {
  const parsed = recordShape.safeParse(input);
  if (!parsed.success)
    return {
      ok: false,
      problems: [
        `not an evidence record: ${parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'} ${i.message}`)
          .slice(0, 5)
          .join('; ')}`,
      ],
      notes: [],
    };
  const rec = parsed.data;
  const problems: string[] = [];
  const notes: string[] = [];
  const rows = rec.auditRows;
  const short = (h: unknown) => `${String(h).slice(0, 12)}…`;

  // 1. The rows: each hash, their order, and the links between rows that are adjacent in the chain.
  if (!rows.length) problems.push('the record has no audit rows');
  rows.forEach((r, i) => {
    if (auditRowHash(r.prevHash, r) !== r.hash) problems.push(`audit row ${r.seq} (${r.event}): content does not match its hash`);
    if (r.requestId !== rec.request.id) problems.push(`audit row ${r.seq} belongs to ${r.requestId ?? 'no request'}, not ${rec.request.id}`);
    const prev = rows[i - 1];
    if (prev && r.seq <= prev.seq) problems.push(`audit row ${r.seq} comes after row ${prev.seq}: seqs must increase`);
    if (prev && r.seq === prev.seq + 1 && r.prevHash !== prev.hash) problems.push(`audit row ${r.seq} does not link to row ${prev.seq}`);
  });

  // 2. The payload and digest are the ones the hashed rows recorded.
  const requested = rows.find((r) => r.event === 'requested');
  if (!requested) problems.push('no `requested` audit row: the payload cannot be tied to the chain');
  else {
    if (requested.data.payload !== undefined && canonicalJson(requested.data.payload) !== canonicalJson(rec.change?.payload ?? null)) problems.push(`payload differs from the one audit row ${requested.seq} (requested) recorded`);
    const members = rec.fleet?.members.map((m) => ({ resourceId: m.resourceId, payload: m.plan.body })) ?? null;
    if (requested.data.members !== undefined && canonicalJson(requested.data.members) !== canonicalJson(members)) problems.push(`the members' payloads differ from the ones audit row ${requested.seq} (requested) recorded`);
    if (!rec.change && !rec.fleet) problems.push('the record has no change: neither one write nor a fleet of them');
    if (requested.data.resourceId !== undefined && String(requested.data.resourceId).toLowerCase() !== rec.request.resourceId.toLowerCase()) problems.push(`resource id differs from the one audit row ${requested.seq} (requested) recorded`);
  }
  const target = findTarget(rec.request.targetType);
  if (!target) notes.push(`digest not recomputed: unknown target type ${rec.request.targetType}`);
  else {
    const change = rec.change ? { plan: { method: rec.change.method, resourceId: rec.change.resourceId, apiVersion: rec.change.apiVersion, body: rec.change.payload } } : {};
    const recomputed = computeDigest(target, { targetType: rec.request.targetType, resourceId: rec.change?.resourceId ?? rec.request.resourceId, ...change, ...(rec.fleet ? { fleet: rec.fleet } : {}) }, rec.checks);
    if (recomputed !== rec.digest) problems.push(`digest ${short(rec.digest)} does not match the payload and check evidence (they give ${short(recomputed)})`);
  }
  const knownDigests = new Set<string>();
  for (const r of rows) for (const k of ['digest', 'oldDigest', 'newDigest']) if (typeof r.data[k] === 'string') knownDigests.add(r.data[k] as string);
  if (!knownDigests.has(rec.digest)) problems.push(`digest ${short(rec.digest)} appears in no audit row`);

  // 3. Approvals: each one backed by its hashed row, and each approval row in the record.
  const actorOf = (r: (typeof rows)[number]) => (r.actor && typeof r.actor === 'object' ? (r.actor as { platform?: string; id?: string }) : {});
  for (const a of rec.approvals) {
    const row = rows.find((r) => r.event === a.decision && actorOf(r).platform === a.platform && actorOf(r).id === a.id && r.data.digest === a.digest);
    if (!row) problems.push(`${a.decision === 'approved' ? 'approval' : 'rejection'} by ${a.who} (digest ${short(a.digest)}) has no audit row recording it`);
  }
  for (const r of rows.filter((x) => x.event === 'approved' || x.event === 'rejected')) {
    if (!rec.approvals.some((a) => a.decision === r.event && a.platform === actorOf(r).platform && a.id === actorOf(r).id && a.digest === r.data.digest)) {
      problems.push(`audit row ${r.seq} records a decision (${r.event}) by ${actorOf(r).id ?? 'someone'} that the record's approvals lack`);
    }
  }

  // 4. What was executed had its approvals, and what succeeded is what was approved.
  const executing = rows.filter((r) => r.event === 'executing').at(-1);
  if (executing) {
    const executed = String(executing.data.digest ?? '');
    const required = Math.max(rec.request.requiredApprovals, ...rows.filter((r) => r.event === 'approved' && typeof r.data.required === 'number').map((r) => r.data.required as number));
    const approvedIt = rec.approvals.filter((a) => a.decision === 'approved' && a.digest === executed).length;
    if (approvedIt < required) problems.push(`digest ${short(executed)} was executed (audit row ${executing.seq}) with ${approvedIt} of ${required} approvals naming it`);
    if (rec.request.state === 'succeeded' && executed !== rec.digest) problems.push(`the request succeeded with digest ${short(rec.digest)}, but ${short(executed)} was the one approved and executed`);
  } else if (['executing', 'verifying', 'succeeded'].includes(rec.request.state)) problems.push(`the request is ${rec.request.state} but no \`executing\` audit row is in the record`);

  // 5. Heads: the request's own head is one of its rows; the chain head is not behind them.
  const head = rec.request.auditHead;
  if (head && !rows.some((r) => r.seq === head.seq && r.hash === head.hash)) problems.push(`the request's audit head ${head.seq}:${short(head.hash)} is not one of its audit rows`);
  const last = rows.at(-1);
  if (last && rec.chainHead && rec.chainHead.seq < last.seq) problems.push(`chain head seq ${rec.chainHead.seq} is behind the request's last row ${last.seq}`);

  return problems.length ? { ok: false, problems, notes } : { ok: true, rows: rows.length, notes };
}
