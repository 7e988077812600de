// The durable job table's SQL: enqueue (inside the caller's transaction when there is one),
// leased claims with FOR UPDATE SKIP LOCKED, heartbeats, completion, retry and release. Every
// replica works the same table; a job whose worker died is claimed again once its lease ends.
import type { Sql } from './db';

export interface JobSpec {
  kind: string;
  /** Identity of the work: while one job with this key is queued, another is not queued beside it. */
  key: string;
  payload: Record<string, unknown>;
  /** Jobs of one lane run one at a time, in enqueue order (a conversation, a request). */
  lane?: string;
  delayMs?: number;
  maxAttempts?: number;
  /** When a job with this key is already queued, give it this payload (the latest state wins). */
  replace?: boolean;
}

export interface JobRow {
  id: string;
  kind: string;
  key: string;
  lane: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
}

const DEFAULT_MAX_ATTEMPTS = 8;

export async function insertJob(sql: Sql, spec: JobSpec): Promise<void> {
  await sql.query(
    `INSERT INTO jobs (kind, key, lane, payload, state, run_at, max_attempts, created_at)
     VALUES ($1, $2, $3, $4::jsonb, 'queued', now() + ($5::integer * interval '1 millisecond'), $6, now())
     ON CONFLICT (key) WHERE state = 'queued' DO ${spec.replace ? 'UPDATE SET payload = EXCLUDED.payload' : 'NOTHING'}`,
    [spec.kind, spec.key, spec.lane ?? null, JSON.stringify(spec.payload), Math.max(0, Math.round(spec.delayMs ?? 0)), spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS],
  );
}

type Raw = { id: string | number; kind: string; key: string; lane: string | null; payload: Record<string, unknown>; attempts: number; max_attempts: number };

const toRow = (r: Raw): JobRow => ({ id: String(r.id), kind: r.kind, key: r.key, lane: r.lane, payload: r.payload, attempts: Number(r.attempts), maxAttempts: Number(r.max_attempts) });

/**
 * Claim up to `limit` due jobs for `worker`. A job is due when queued and its time has come, or
 * when running under a lease that has run out (its worker died). In a lane only the oldest
 * unfinished job is eligible, so a lane never runs two jobs at once on any replica.
 */
export async function claimJobs(sql: Sql, worker: string, leaseMs: number, limit: number): Promise<JobRow[]> {
  const rows = await sql.query<Raw>(
    `UPDATE jobs SET state = 'running', locked_by = $1, lease_until = now() + ($2::integer * interval '1 millisecond'), attempts = attempts + 1
     WHERE id IN (
       SELECT j.id FROM jobs j
       WHERE j.state IN ('queued', 'running')
         AND ((j.state = 'queued' AND j.run_at <= now()) OR (j.state = 'running' AND j.lease_until < now()))
         AND (j.lane IS NULL OR j.id = (SELECT min(q.id) FROM jobs q WHERE q.lane = j.lane AND q.state IN ('queued', 'running')))
       ORDER BY j.run_at, j.id
       LIMIT $3
       FOR UPDATE SKIP LOCKED)
     RETURNING id, kind, key, lane, payload, attempts, max_attempts`,
    [worker, leaseMs, limit],
  );
  return rows.map(toRow).sort((a, b) => Number(a.id) - Number(b.id));
}

/** Extend the lease; false when the job is no longer this worker's (it was taken over). */
export async function heartbeat(sql: Sql, id: string, worker: string, leaseMs: number): Promise<boolean> {
  const rows = await sql.query(`UPDATE jobs SET lease_until = now() + ($3::integer * interval '1 millisecond') WHERE id = $1 AND locked_by = $2 AND state = 'running' RETURNING id`, [id, worker, leaseMs]);
  return rows.length > 0;
}

export async function completeJob(sql: Sql, id: string, worker: string): Promise<void> {
  await sql.query(`UPDATE jobs SET state = 'done', finished_at = now(), locked_by = NULL, lease_until = NULL WHERE id = $1 AND locked_by = $2`, [id, worker]);
}

/** Try again after `delayMs`, or — out of attempts — mark it failed for good. */
export async function failJob(sql: Sql, job: JobRow, worker: string, error: string, delayMs: number): Promise<'retry' | 'failed'> {
  const final = job.attempts >= job.maxAttempts;
  await requeueOrSupersede(
    sql,
    job,
    worker,
    final
      ? `UPDATE jobs SET state = 'failed', finished_at = now(), last_error = $3, locked_by = NULL, lease_until = NULL WHERE id = $1 AND locked_by = $2`
      : `UPDATE jobs SET state = 'queued', run_at = now() + ($4::integer * interval '1 millisecond'), last_error = $3, locked_by = NULL, lease_until = NULL WHERE id = $1 AND locked_by = $2`,
    final ? [job.id, worker, error.slice(0, 2000)] : [job.id, worker, error.slice(0, 2000), Math.round(delayMs)],
  );
  return final ? 'failed' : 'retry';
}

/** Put a claimed job back, not counting the attempt (rate limit reached, or shutting down). */
export async function postponeJob(sql: Sql, job: JobRow, worker: string, delayMs: number): Promise<void> {
  await requeueOrSupersede(
    sql,
    job,
    worker,
    `UPDATE jobs SET state = 'queued', run_at = now() + ($3::integer * interval '1 millisecond'), attempts = GREATEST(attempts - 1, 0), locked_by = NULL, lease_until = NULL WHERE id = $1 AND locked_by = $2`,
    [job.id, worker, Math.round(delayMs)],
  );
}

async function requeueOrSupersede(sql: Sql, job: JobRow, worker: string, text: string, params: unknown[]): Promise<void> {
  try {
    await sql.query(text, params);
  } catch (e) {
    // A newer job with the same key was queued meanwhile: it carries the latest state, this one is done.
    if ((e as { code?: string }).code !== '23505') throw e;
    await sql.query(`UPDATE jobs SET state = 'done', finished_at = now(), last_error = 'superseded by a newer job', locked_by = NULL, lease_until = NULL WHERE id = $1 AND locked_by = $2`, [job.id, worker]);
  }
}

/** Everything this worker holds goes back to the queue (graceful shutdown). */
export async function releaseWorker(sql: Sql, worker: string): Promise<number> {
  const rows = await sql.query(`SELECT id FROM jobs WHERE locked_by = $1 AND state = 'running'`, [worker]);
  for (const r of rows as Array<{ id: string }>) {
    await requeueOrSupersede(sql, { id: String(r.id) } as JobRow, worker, `UPDATE jobs SET state = 'queued', run_at = now(), attempts = GREATEST(attempts - 1, 0), locked_by = NULL, lease_until = NULL WHERE id = $1 AND locked_by = $2`, [
      String(r.id),
      worker,
    ]);
  }
  return rows.length;
}

/** Embedded PGlite has one process by construction: whatever was running when it stopped is free again. */
export async function releaseAll(sql: Sql): Promise<number> {
  const rows = await sql.query(`SELECT id, locked_by FROM jobs WHERE state = 'running'`);
  for (const r of rows as Array<{ id: string; locked_by: string }>) await releaseWorker(sql, r.locked_by);
  return rows.length;
}

/** How long ago (ms) the lane's `n`-th most recent job finished, if `n` finished within `withinMs`. */
export async function laneNthFinish(sql: Sql, lane: string, n: number, withinMs: number): Promise<number | undefined> {
  const rows = await sql.query<{ ms: string | number }>(
    `SELECT (extract(epoch FROM (now() - finished_at)) * 1000)::bigint AS ms FROM jobs
     WHERE lane = $1 AND state = 'done' AND finished_at > now() - ($2::integer * interval '1 millisecond')
     ORDER BY finished_at DESC OFFSET $3 LIMIT 1`,
    [lane, withinMs, n - 1],
  );
  return rows[0] ? Number(rows[0].ms) : undefined;
}

export async function queueDepth(sql: Sql): Promise<{ queued: number; running: number; failed: number }> {
  const rows = await sql.query<{ state: string; n: string | number }>(`SELECT state, count(*) AS n FROM jobs WHERE state IN ('queued', 'running', 'failed') GROUP BY state`);
  const n = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
  return { queued: n('queued'), running: n('running'), failed: n('failed') };
}

/** Finished jobs are kept an hour (lane rate limits and diagnosis), then removed. */
export async function pruneJobs(sql: Sql): Promise<void> {
  await sql.query(`DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < now() - interval '1 hour'`);
}
