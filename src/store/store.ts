// Repositories over the database. Every state change and its audit entries commit in one
// transaction; the audit log is append-only and hash-chained (each row's hash covers the previous
// row's hash), so a changed row or one deleted from the middle is detectable; each append's new
// head is reported after commit, so it can be anchored outside the database (the JSON log), which
// is what shows a removed tail or a consistently re-hashed chain.
import type { Actor, Approval, ChangeRequest } from '../domain/types';
import { type AuditHead, auditRowHash, checkAnchors, GENESIS, walkChain } from '../domain/audit-chain';
import { Batched } from './batched';
import type { Database, Sql } from './db';
import { openPglite, openPostgres, type PgliteOpenOptions, type PostgresOptions } from './db';
import { insertJob, type JobSpec } from './jobs';
import { migrate } from './migrations';

export interface AuditEntry {
  requestId?: string;
  actor?: Actor | { system: string };
  event: string;
  data?: Record<string, unknown>;
}

export interface AuditRow {
  seq: number;
  requestId: string | null;
  at: string;
  actor: AuditEntry['actor'] | null;
  event: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface Mutation {
  next: ChangeRequest;
  audit: AuditEntry[];
  /** Work that follows from this change (card update, post, execution), committed with it. */
  jobs?: JobSpec[];
}

/** Thrown inside a mutation to refuse it: nothing is written, the message goes to the user. */
export class StoreConflict extends Error {
  readonly code = 'store_conflict';
}

type RequestRow = { doc: ChangeRequest; version: number; state: string; digest: string };
type ApprovalRow = {
  approver_platform: string;
  approver_id: string;
  approver_tenant: string;
  approver_channel_user_id: string | null;
  approver_name: string;
  decision: 'approved' | 'rejected';
  digest: string;
  reason: string | null;
  created_at: Date | string;
};

const toIso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

export class Store {
  private readonly headListeners = new Set<(head: AuditHead & { requestId: string | null; event: string }) => void>();
  /**
   * The delivery claims that arrive together are one insert (`npm run bench -- ack`,
   * docs/benchmarks.md). Each is true when its call inserted the key's row: a key twice in one batch
   * (a retry on the heels of its delivery) is the first call's claim, and the other finds the row,
   * as it would one statement later. The keys go in sorted: two replicas inserting overlapping
   * batches on PostgreSQL wait for each other's keys in one order, never in a cycle (a deadlock).
   */
  private readonly claims = new Batched<string, boolean>(async (keys) => {
    const rows = await this.db.query<{ key: string }>(`INSERT INTO inbound_seen (key, created_at) SELECT k, now() FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING RETURNING key`, [[...new Set(keys)]]);
    const inserted = new Set(rows.map((r) => r.key));
    return keys.map((k) => inserted.delete(k));
  });
  /** The answers recorded together are one update; a key answered twice in one batch keeps the later answer. */
  private readonly settles = new Batched<{ key: string; status: number; response: string }, void>(async (answers) => {
    const last = new Map(answers.map((a) => [a.key, a]));
    const rows = [...last.values()];
    await this.db.query(
      `UPDATE inbound_seen AS s SET status = a.status, response = a.response
       FROM unnest($1::text[], $2::integer[], $3::text[]) AS a(key, status, response)
       WHERE s.key = a.key`,
      [rows.map((a) => a.key), rows.map((a) => a.status), rows.map((a) => a.response)],
    );
    return answers.map(() => undefined);
  });

  constructor(
    readonly db: Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Every appended audit row, once its transaction has committed (the app writes each to the JSON
   * log, so the head is anchored outside the database). Returns the unsubscribe function.
   */
  onAuditAppend(listener: (head: AuditHead & { requestId: string | null; event: string }) => void): () => void {
    this.headListeners.add(listener);
    return () => this.headListeners.delete(listener);
  }

  /** A transaction whose audit appends are reported to the listeners after it commits. */
  private async audited<T>(fn: (tx: Sql, appended: AppendedRow[]) => Promise<T>): Promise<T> {
    const appended: AppendedRow[] = [];
    const out = await this.db.transaction((tx) => fn(tx, appended));
    // Committed: a listener's failure must not make the change look failed to its caller.
    for (const a of appended) {
      for (const l of this.headListeners) {
        try {
          l(a);
        } catch {
          /* the change stands; the log line is lost */
        }
      }
    }
    return out;
  }

  static async open(opts: ({ kind: 'pglite'; dataDir?: string } & PgliteOpenOptions) | ({ kind: 'postgres'; url: string; poolMax?: number } & Omit<PostgresOptions, 'max'>), now?: () => Date): Promise<Store> {
    let db: Database;
    if (opts.kind === 'postgres') {
      const { kind: _kind, url, poolMax, ...pg } = opts;
      db = await openPostgres(url, { max: poolMax, ...pg });
    } else db = await openPglite(opts.dataDir, { template: opts.template });
    await migrate(db);
    return new Store(db, now);
  }

  async close(): Promise<void> {
    // Claims and answers handed over just before (a Teams turn records its answer after sending it).
    await Promise.all([this.claims.idle(), this.settles.idle()]);
    return this.db.close();
  }

  async createRequest(req: ChangeRequest, audit: AuditEntry[], jobs: JobSpec[] = []): Promise<void> {
    await this.audited(async (tx, appended) => {
      // The audit rows first, so the request stores the head they end at.
      for (const a of audit) appended.push(await this.append(tx, { requestId: req.id, ...a }));
      const auditHead = headOf(appended) ?? req.auditHead;
      await tx.query(
        `INSERT INTO change_requests (id, target_type, resource_id, state, digest, requester_platform, requester_id, doc, created_at, updated_at, expires_at, version)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9,$10,$11,$12)`,
        [req.id, req.targetType, req.resourceId, req.state, req.digest, req.requester.platform, req.requester.id, JSON.stringify({ ...req, auditHead, approvals: [] }), req.createdAt, req.updatedAt, req.expiresAt, req.version],
      );
      for (const j of jobs) await insertJob(tx, j);
    });
  }

  /** The first answer to a delivery, once it has one (a duplicate waits for it, up to `waitMs`). */
  async deliveryAnswer(key: string, waitMs: number): Promise<{ status: number; response: string } | undefined> {
    const until = Date.now() + waitMs;
    for (;;) {
      const row = (await this.db.query<{ status: number | null; response: string | null }>(`SELECT status, response FROM inbound_seen WHERE key = $1`, [key]))[0];
      if (!row) return undefined; // the first delivery failed and was forgotten
      if (row.status !== null) return { status: row.status, response: row.response ?? '' };
      if (Date.now() > until) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async getRequest(id: string): Promise<ChangeRequest | null> {
    return this.load(this.db, id, false);
  }

  private async load(sql: Sql, id: string, forUpdate: boolean): Promise<ChangeRequest | null> {
    const rows = await sql.query<RequestRow>(`SELECT doc, version, state, digest FROM change_requests WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
    const row = rows[0];
    if (!row) return null;
    const approvals = await sql.query<ApprovalRow>(
      `SELECT approver_platform, approver_tenant, approver_id, approver_name, approver_channel_user_id, decision, digest, reason, created_at FROM approvals WHERE request_id = $1 ORDER BY created_at, approver_id`,
      [id],
    );
    return {
      ...row.doc,
      state: row.state as ChangeRequest['state'],
      digest: row.digest,
      version: row.version,
      approvals: approvals.map((a) => ({
        approver: {
          platform: a.approver_platform as Actor['platform'],
          tenant: a.approver_tenant,
          id: a.approver_id,
          name: a.approver_name,
          ...(a.approver_channel_user_id ? { channelUserId: a.approver_channel_user_id } : {}),
        },
        decision: a.decision,
        digest: a.digest,
        reason: a.reason ?? undefined,
        at: toIso(a.created_at),
      })),
    };
  }

  /**
   * Change a request under a row lock. `fn` sees the current state and returns the next state and
   * its audit entries, or throws StoreConflict to refuse. New approvals in `next.approvals` are inserted.
   */
  async mutate(id: string, fn: (current: ChangeRequest) => Mutation | Promise<Mutation>): Promise<ChangeRequest> {
    return this.audited(async (tx, appended) => {
      const current = await this.load(tx, id, true);
      if (!current) throw new StoreConflict(`Request ${id} does not exist.`);
      const { next, audit, jobs } = await fn(current);
      // The audit rows first, so the request stores the head its last audited change ended at.
      for (const a of audit) appended.push(await this.append(tx, { requestId: id, ...a }));
      const updated: ChangeRequest = { ...next, auditHead: headOf(appended) ?? next.auditHead, version: current.version + 1, updatedAt: this.now().toISOString() };
      await tx.query(`UPDATE change_requests SET state=$2, digest=$3, doc=$4::jsonb, updated_at=$5, expires_at=$6, version=$7, resource_id=$8 WHERE id=$1 AND version=$9`, [
        id,
        updated.state,
        updated.digest,
        JSON.stringify({ ...updated, approvals: [] }),
        updated.updatedAt,
        updated.expiresAt,
        updated.version,
        updated.resourceId,
        current.version,
      ]);
      const known = new Set(current.approvals.map(approvalKey));
      for (const a of updated.approvals.filter((x) => !known.has(approvalKey(x)))) {
        await tx.query(`INSERT INTO approvals (request_id, approver_platform, approver_tenant, approver_id, approver_name, approver_channel_user_id, decision, digest, reason, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`, [
          id,
          a.approver.platform,
          a.approver.tenant ?? '',
          a.approver.id,
          a.approver.name,
          a.approver.channelUserId ?? null,
          a.decision,
          a.digest,
          a.reason ?? null,
          a.at,
        ]);
      }
      for (const j of jobs ?? []) await insertJob(tx, j);
      return updated;
    });
  }

  async listRequests(filter: { states?: string[]; requester?: Pick<Actor, 'platform' | 'id'>; limit?: number } = {}): Promise<ChangeRequest[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.states?.length) {
      params.push(filter.states);
      where.push(`state = ANY($${params.length})`);
    }
    if (filter.requester) {
      params.push(filter.requester.platform, filter.requester.id);
      where.push(`requester_platform = $${params.length - 1} AND requester_id = $${params.length}`);
    }
    params.push(filter.limit ?? 20);
    const ids = await this.db.query<{ id: string }>(`SELECT id FROM change_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT $${params.length}`, params);
    const out: ChangeRequest[] = [];
    for (const { id } of ids) {
      const r = await this.getRequest(id);
      if (r) out.push(r);
    }
    return out;
  }

  /** Is a job with this key queued or running (on any replica)? */
  async hasActiveJob(key: string): Promise<boolean> {
    return (await this.db.query(`SELECT 1 FROM jobs WHERE key = $1 AND state IN ('queued', 'running') LIMIT 1`, [key])).length > 0;
  }

  // ---- inbound deliveries seen (every replica shares them) ------------------------------------

  /**
   * Claim a delivery key. 'new' the first time; 'duplicate' with the first delivery's answer when
   * it has one, or without while that delivery is still being handled (possibly on another replica).
   * `abandonedAfterMs`: a claim never answered (settled) for that long was
   * abandoned — its process died, or the database went away mid-turn and the answer could not be
   * recorded — and is taken over, so the person's retry gets through instead of "already being
   * handled". Only for callers that settle every claim they answer (Teams).
   */
  async claimDelivery(key: string, ttlMs = 15 * 60_000, abandonedAfterMs?: number): Promise<{ kind: 'new' } | { kind: 'duplicate'; status?: number; response?: string }> {
    for (let attempt = 1; ; attempt++) {
      // Nearly every delivery is new: a plain insert, shared with the claims that arrive with it.
      if (await this.claims.call(key)) return { kind: 'new' };
      // Seen before. A key older than its time to live (or a claim never answered, past its abandon
      // time) counts as new again: its row is taken over in place, by one replica — another's update
      // waits for the row and then finds it fresh.
      const taken = await this.db.query(
        `UPDATE inbound_seen SET created_at = now(), status = NULL, response = NULL
         WHERE key = $1
           AND (created_at < now() - ($2::integer * interval '1 millisecond')
                OR ($3::integer IS NOT NULL AND status IS NULL AND created_at < now() - ($3::integer * interval '1 millisecond')))
         RETURNING key`,
        [key, ttlMs, abandonedAfterMs ?? null],
      );
      if (taken.length) return { kind: 'new' };
      const row = (await this.db.query<{ status: number | null; response: string | null }>(`SELECT status, response FROM inbound_seen WHERE key = $1`, [key]))[0];
      if (row) return { kind: 'duplicate', status: row.status ?? undefined, response: row.response ?? undefined };
      // The row went away between these statements (swept as expired, or forgotten after a failure
      // on another replica): nothing holds the key now, so claim it again. The one statement this
      // replaced could not answer "duplicate" here. Bounded: a caller that cannot claim answers "try
      // again" (Slack: 503; Teams: the turn fails), as when the database is away.
      if (attempt === 3) throw new Error(`the delivery claim for ${key} lost its row three times while claiming it`);
    }
  }

  /** Records a delivery's answer (a repeat gets it again); shared with the answers recorded with it. */
  async settleDelivery(key: string, status: number, response: string): Promise<void> {
    await this.settles.call({ key, status, response });
  }

  /** A delivery that was refused or failed is forgotten, so a correct retry gets through. */
  async forgetDelivery(key: string): Promise<void> {
    await this.db.query(`DELETE FROM inbound_seen WHERE key = $1`, [key]);
  }

  async pruneDeliveries(olderThanMs: number): Promise<void> {
    await this.db.query(`DELETE FROM inbound_seen WHERE created_at < now() - ($1::integer * interval '1 millisecond')`, [olderThanMs]);
  }

  // ---- form sessions (Slack modals: choice lists too large for private_metadata) --------------

  /** One statement on the form's path (expired sessions are never read: the sweep removes them, pruneFormSessions). */
  async putFormSession(id: string, doc: Record<string, unknown>, ttlMs: number): Promise<void> {
    await this.db.query(`INSERT INTO form_sessions (id, doc, expires_at) VALUES ($1, $2, now() + ($3::integer * interval '1 millisecond')) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`, [id, JSON.stringify(doc), ttlMs]);
  }

  async pruneFormSessions(): Promise<void> {
    await this.db.query(`DELETE FROM form_sessions WHERE expires_at < now()`);
  }

  async getFormSession<T>(id: string): Promise<T | undefined> {
    const rows = await this.db.query<{ doc: string }>(`SELECT doc FROM form_sessions WHERE id = $1 AND expires_at >= now()`, [id]);
    return rows[0] ? (JSON.parse(rows[0].doc) as T) : undefined;
  }

  /** Take a session once: true for the one caller that deleted it. */
  async takeFormSession(id: string): Promise<boolean> {
    return (await this.db.query(`DELETE FROM form_sessions WHERE id = $1 RETURNING id`, [id])).length > 0;
  }

  // ---- audit log -------------------------------------------------------------------------------

  async audit(entry: AuditEntry): Promise<void> {
    await this.audited(async (tx, appended) => void appended.push(await this.append(tx, entry)));
  }

  /**
   * A change outside a request (a watch, a finding's acknowledgement): `fn` works in the
   * transaction and returns its result, the audit entries and the jobs that follow — all commit together.
   */
  async change<T>(fn: (tx: Sql) => Promise<{ result: T; audit: AuditEntry[]; jobs?: JobSpec[] }>): Promise<T> {
    return this.audited(async (tx, appended) => {
      const { result, audit, jobs } = await fn(tx);
      for (const a of audit) appended.push(await this.append(tx, a));
      for (const j of jobs ?? []) await insertJob(tx, j);
      return result;
    });
  }

  private async append(tx: Sql, entry: AuditEntry): Promise<AppendedRow> {
    // Serialise appends so the chain has one head even with several replicas.
    await tx.query(`SELECT pg_advisory_xact_lock(727275)`);
    const last = await tx.query<{ hash: string; seq: string | number }>(`SELECT hash, seq FROM audit_log ORDER BY seq DESC LIMIT 1`);
    const prevHash = last[0]?.hash ?? GENESIS;
    const at = this.now().toISOString();
    const body = { requestId: entry.requestId ?? null, at, actor: entry.actor ?? null, event: entry.event, data: entry.data ?? {} };
    const hash = auditRowHash(prevHash, body);
    const inserted = await tx.query<{ seq: string | number }>(`INSERT INTO audit_log (request_id, at, actor, event, data, prev_hash, hash) VALUES ($1,$2,$3::jsonb,$4,$5::jsonb,$6,$7) RETURNING seq`, [
      body.requestId,
      at,
      JSON.stringify(body.actor),
      body.event,
      JSON.stringify(body.data),
      prevHash,
      hash,
    ]);
    return { seq: Number(inserted[0]!.seq), hash, requestId: body.requestId, event: body.event };
  }

  /** The newest row of the chain (its head), or undefined while the log is empty. */
  async auditHead(): Promise<AuditHead | undefined> {
    const row = (await this.db.query<{ seq: string | number; hash: string }>(`SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`))[0];
    return row ? { seq: Number(row.seq), hash: row.hash } : undefined;
  }

  /** Requests that have no audit row at all: every request is created with its audit rows, so their rows were removed. */
  async requestsWithoutAudit(): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(`SELECT c.id FROM change_requests c WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.request_id = c.id) ORDER BY c.created_at, c.id`);
    return rows.map((r) => r.id);
  }

  async auditTrail(requestId: string): Promise<AuditRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(`SELECT * FROM audit_log WHERE request_id = $1 ORDER BY seq`, [requestId]);
    return rows.map(toAuditRow);
  }

  /**
   * Walks the whole chain; reports the first row whose hash or link does not hold. With anchors
   * (heads kept outside the database), also a removed tail or a chain rewritten consistently,
   * which no walk from inside can see.
   */
  async verifyAuditChain(anchors: AuditHead[] = []): Promise<{ ok: true; rows: number; head?: AuditHead } | { ok: false; rows: number; brokenAt: number; reason: string; head?: AuditHead }> {
    const rows = (await this.db.query<Record<string, unknown>>(`SELECT * FROM audit_log ORDER BY seq`)).map(toAuditRow);
    const last = rows.at(-1);
    const head = last ? { seq: last.seq, hash: last.hash } : undefined;
    const walked = walkChain(rows);
    if (!walked.ok) return { ...walked, rows: rows.length, head };
    const anchored = checkAnchors(rows, anchors);
    if (!anchored.ok) return { ...anchored, rows: rows.length, head };
    return { ok: true, rows: rows.length, head };
  }
}

type AppendedRow = AuditHead & { requestId: string | null; event: string };

/** The head a transaction's appends ended at. */
function headOf(appended: AppendedRow[]): AuditHead | undefined {
  const last = appended.at(-1);
  return last ? { seq: last.seq, hash: last.hash } : undefined;
}

function approvalKey(a: Approval): string {
  return `${a.approver.platform}|${a.approver.tenant ?? ''}|${a.approver.id}|${a.digest}`;
}

function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    seq: Number(r.seq),
    requestId: (r.request_id as string | null) ?? null,
    at: toIso(r.at as Date | string),
    actor: (r.actor as AuditRow['actor']) ?? null,
    event: r.event as string,
    data: (r.data as Record<string, unknown>) ?? {},
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
}
