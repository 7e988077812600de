// Durable jobs: the work after a chat turn has been answered (execution, card updates, posts,
// submissions taken from Slack) is a row in the database before it is anything else, so a
// process killed at any step leaves it for its restart or for another replica to finish.
// Claims are leased and renewed while a job runs; a lane (a conversation, a request) runs one
// job at a time in order, and a chat lane keeps within the platform's rate limits.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { withLogContext } from '../log';
import type { Database } from '../store/db';
import { claimJobs, completeJob, failJob, heartbeat, insertJob, type JobRow, type JobSpec, laneNthFinish, postponeJob, pruneJobs, queueDepth, releaseAll, releaseWorker } from '../store/jobs';

export type { JobSpec } from '../store/jobs';

export interface JobContext {
  attempt: number;
  jobId: string;
}

export type JobHandler = (payload: Record<string, unknown>, ctx: JobContext) => Promise<void>;

/** At most `max` jobs finish in any `windowMs` of a lane whose name starts with the key. */
export type LaneLimits = Record<string, Array<{ windowMs: number; max: number }>>;

/**
 * Per conversation, a little under the platforms' documented limits (../shared/design/platform-limits.md):
 * Teams 7/1 s, 8/2 s, 60/30 s, 1800/h per bot per conversation; Slack chat.postMessage about 1/s per channel
 * (short bursts allowed).
 */
export const DEFAULT_LANE_LIMITS: LaneLimits = {
  'teams:': [
    { windowMs: 1000, max: 6 },
    { windowMs: 2000, max: 7 },
    { windowMs: 30_000, max: 55 },
    { windowMs: 3600_000, max: 1700 },
  ],
  'slack:': [
    { windowMs: 3000, max: 3 },
    { windowMs: 60_000, max: 50 },
  ],
};

export interface DurableQueueOptions {
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  /** First retry delay; doubles per attempt up to a minute. */
  retryBaseMs?: number;
  laneLimits?: LaneLimits;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

export class DurableQueue {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly opts: Required<Omit<DurableQueueOptions, 'log'>> & Pick<DurableQueueOptions, 'log'>;
  private timer?: NodeJS.Timeout;
  private pumping?: Promise<void>;
  private again = false;
  private stopped = true;
  private lastPrune = 0;
  /** Claims failed in a row (the database is unreachable). */
  private claimFailures = 0;
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    private readonly db: Database,
    opts: DurableQueueOptions = {},
  ) {
    this.opts = {
      concurrency: opts.concurrency ?? 8,
      leaseMs: opts.leaseMs ?? 30_000,
      pollMs: opts.pollMs ?? 500,
      retryBaseMs: opts.retryBaseMs ?? 1000,
      laneLimits: opts.laneLimits ?? DEFAULT_LANE_LIMITS,
      log: opts.log,
    };
  }

  handle(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Add a job now (its own transaction) and wake the worker. Inside a state change, use Store.mutate's `jobs`. */
  async enqueue(spec: JobSpec): Promise<void> {
    await insertJob(this.db, spec);
    this.wake();
  }

  async start(): Promise<void> {
    // PGlite is one process by construction: what was running when it stopped is free now.
    if (this.db.kind === 'pglite') {
      const n = await releaseAll(this.db);
      if (n) this.opts.log?.('info', 'jobs left running by the previous process are queued again', { count: n });
    }
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** A job put off until later is picked up when it is due, not at the next poll after that. */
  private wakeIn(ms: number): void {
    setTimeout(() => this.wake(), ms + 2).unref();
  }

  /** Look for due work now (after a local enqueue, a finished job, or the poll tick). */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .then(() => {
        if (this.claimFailures) this.opts.log?.('info', 'claiming jobs again', { failedClaims: this.claimFailures });
        this.claimFailures = 0;
      })
      .catch((e) => {
        // The database is away: said once, not at every poll; the poll goes on and finds it back.
        if (this.claimFailures++ === 0) this.opts.log?.('warn', 'could not claim jobs', { error: (e as Error).message });
      })
      .finally(() => {
        this.pumping = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        } else if (!this.running.size) this.notifyIdle();
      });
  }

  private async pump(): Promise<void> {
    const free = this.opts.concurrency - this.running.size;
    if (free <= 0) return;
    if (Date.now() - this.lastPrune > 10 * 60_000) {
      this.lastPrune = Date.now();
      await pruneJobs(this.db).catch(() => undefined);
    }
    const jobs = await claimJobs(this.db, this.workerId, this.opts.leaseMs, free);
    for (const job of jobs) {
      // Ours already, and finished: its outcome is still being recorded (the database was away
      // longer than its lease). It is not run again; the recording completes it.
      if (this.running.has(job.id)) continue;
      if (this.stopped) {
        await postponeJob(this.db, job, this.workerId, 0);
        continue;
      }
      const p = this.run(job)
        // Never an unhandled rejection: a job that could not even start (its lane's rate limit
        // unreadable) keeps its claim, and runs again when the lease runs out.
        .catch((e) => this.opts.log?.('error', 'a job could not be run', { job: job.key, error: (e as Error).message }))
        .finally(() => {
          this.running.delete(job.id);
          this.wake();
        });
      this.running.set(job.id, p);
    }
    if (jobs.length === free) this.again = true;
  }

  private async run(job: JobRow): Promise<void> {
    const wait = job.lane ? await this.laneWait(job.lane) : 0;
    if (wait > 0) {
      await postponeJob(this.db, job, this.workerId, wait);
      this.wakeIn(wait);
      return;
    }
    const handler = this.handlers.get(job.kind);
    if (!handler) {
      await failJob(this.db, { ...job, attempts: job.maxAttempts }, this.workerId, `no handler for job kind ${job.kind}`, 0);
      this.opts.log?.('error', 'job of an unknown kind', { job: job.key, kind: job.kind });
      return;
    }
    if (job.attempts > job.maxAttempts) {
      await failJob(this.db, job, this.workerId, 'out of attempts (its worker died each time)', 0);
      this.opts.log?.('error', 'job gave up: its worker died on every attempt', { job: job.key, attempts: job.attempts });
      return;
    }
    const beat = setInterval(
      () => {
        heartbeat(this.db, job.id, this.workerId, this.opts.leaseMs)
          .then((mine) => {
            if (!mine) this.opts.log?.('warn', 'a job lease was taken over by another worker', { job: job.key });
          })
          .catch(() => undefined);
      },
      Math.max(50, Math.floor(this.opts.leaseMs / 3)),
    );
    beat.unref();
    try {
      // Every log line the job writes says which job it is.
      await withLogContext({ job: job.key, requestId: undefined }, () => handler(job.payload, { attempt: job.attempts, jobId: job.id }));
      clearInterval(beat);
      // Done: that must be recorded, or it runs again — so it is retried while the database is away.
      await this.record(job, () => completeJob(this.db, job.id, this.workerId));
      return;
    } catch (e) {
      clearInterval(beat);
      const delay = Math.min(this.opts.retryBaseMs * 2 ** Math.max(0, job.attempts - 1), 60_000);
      // A failure no retry can mend (a payload that does not parse) ends the job now.
      const permanent = (e as { permanent?: unknown } | null)?.permanent === true;
      const outcome = await this.record(job, () => failJob(this.db, permanent ? { ...job, attempts: job.maxAttempts } : job, this.workerId, (e as Error).stack ?? String(e), delay));
      if (outcome === 'retry') this.wakeIn(delay);
      this.opts.log?.(outcome === 'failed' ? 'error' : 'warn', outcome === 'failed' ? 'job failed for good' : 'job failed; it will be tried again', {
        job: job.key,
        attempt: job.attempts,
        retryInMs: outcome === 'retry' ? delay : undefined,
        error: (e as Error).message,
      });
    }
  }

  /**
   * A job's outcome, written until the database takes it (pg's pool reconnects by itself), or until
   * the queue stops — then the job is left claimed, and runs again once its lease has run out.
   */
  private async record<T>(job: JobRow, write: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await write();
        if (attempt) this.opts.log?.('info', 'recorded a job’s outcome after the database came back', { job: job.key, attempts: attempt + 1 });
        return out;
      } catch (e) {
        if (attempt === 0) this.opts.log?.('warn', 'could not record a job’s outcome; trying again until the database answers', { job: job.key, error: (e as Error).message });
        if (this.stopped) {
          this.opts.log?.('error', 'stopped before a job’s outcome could be recorded; it runs again when its lease runs out', { job: job.key, error: (e as Error).message });
          return undefined;
        }
        await new Promise((r) => setTimeout(r, Math.min(this.opts.pollMs * 2 ** attempt, 5000)));
      }
    }
  }

  /** How long the lane must wait before its next job keeps within its rate limits. */
  private async laneWait(lane: string): Promise<number> {
    const limits = Object.entries(this.opts.laneLimits).find(([prefix]) => lane.startsWith(prefix))?.[1];
    if (!limits?.length) return 0;
    let wait = 0;
    for (const { windowMs, max } of limits) {
      // The max-th most recent finish in the window must leave it before another one may go.
      const age = await laneNthFinish(this.db, lane, max, windowMs);
      if (age !== undefined) wait = Math.max(wait, windowMs - age + 5);
    }
    return wait;
  }

  get size(): number {
    return this.running.size;
  }

  depth(): Promise<{ queued: number; running: number; failed: number }> {
    return queueDepth(this.db);
  }

  /** Tests: wait until no job is due or running anywhere (delayed jobs further out than `horizonMs` don't count). */
  async drain(timeoutMs = 20_000, horizonMs = 2000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const rows = await this.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM jobs WHERE state = 'running' OR (state = 'queued' AND run_at <= now() + ($1::integer * interval '1 millisecond'))`, [horizonMs]);
      if (Number(rows[0]?.n ?? 0) === 0 && !this.running.size) return;
      if (Date.now() > until) throw new Error('jobs did not drain in time');
      this.wake();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private notifyIdle() {
    for (const w of this.idleWaiters) w();
    this.idleWaiters.clear();
  }

  /**
   * Stop taking work; let running jobs finish for up to `graceMs`; what is still running then goes
   * back to the queue for another replica or the restart (the state machine makes a resumed job safe).
   */
  async stop(graceMs = 10_000): Promise<{ finished: number; released: number }> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pumping;
    const inFlight = this.running.size;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running.values()]), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    if (timer) clearTimeout(timer);
    const released = await releaseWorker(this.db, this.workerId).catch(() => 0);
    return { finished: inFlight - released, released };
  }
}
