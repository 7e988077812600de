// In-process background work after the chat turn has been answered (a Slack modal filled once ARM
// has answered, a command's reply). Keyed, so the same job is never run twice at once in this
// process; the state machine (row lock on approved → executing) is what guarantees one execution
// across processes. Bounded: at most `concurrency` jobs run at once and at most `maxQueued` wait,
// so a burst of commands cannot grow memory without limit — past that, work is refused at once
// (the caller tells the person to try again) instead of piling up. A job starts once no chat request
// is being answered (src/workflow/inbound.ts): under a burst the acks come first.
import type { Inbound } from './inbound';

export interface JobRunnerLimits {
  /** Jobs running at once. */
  concurrency: number;
  /** Jobs waiting for a turn; one more is refused. */
  maxQueued: number;
}

/**
 * At most 8 at once: each job (a Slack form's fill, a command's reply) holds a database connection
 * for a statement or two, and the next acknowledgement's delivery claim needs one too. At 16 the
 * claims queued behind the jobs: claim p99 66–122 ms at 16, 42–96 ms at 8, on PostgreSQL at 50
 * clients with the default pool of 10 (timed inside a build for the ack scenario of `npm run
 * bench`; docs/benchmarks.md, "Issue 17, item 6"). So a PostgreSQL pool of `poolMax` connections
 * (DATABASE_POOL_MAX) leaves two to the acknowledgements; PGlite (no pool) takes the 8.
 */
export function jobLimitsFor(poolMax: number | undefined): JobRunnerLimits {
  return { concurrency: poolMax === undefined ? 8 : Math.max(1, Math.min(8, poolMax - 2)), maxQueued: 500 };
}
const DEFAULT_JOB_LIMITS = jobLimitsFor(undefined);

/**
 * How long work after an ack waits for a quiet moment (src/workflow/inbound.ts) at most, counted
 * from when it was handed over: under a stream of requests a reply comes a second late, not never.
 */
export const AFTER_ACK_WAIT_MS = 1_000;

export class JobRunner {
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly waiting: Array<{ key: string; fn: () => Promise<unknown> }> = [];
  private readonly waitingKeys = new Set<string>();
  private active = 0;
  private readonly idle = new Set<() => void>();

  /** `inbound`: the chat requests being answered; each job starts once none is, or AFTER_ACK_WAIT_MS after it was handed over. */
  constructor(
    private readonly onError: (key: string, e: unknown) => void = () => undefined,
    private readonly limits: JobRunnerLimits = DEFAULT_JOB_LIMITS,
    private readonly inbound?: Inbound,
  ) {}

  /**
   * Run `fn` after the current turn, once no chat request is being answered (or AFTER_ACK_WAIT_MS
   * from now): true when it is running or waiting, false when the runner is full (nothing will run).
   */
  enqueue(key: string, fn: () => Promise<unknown>): boolean {
    if (this.running.has(key) || this.waitingKeys.has(key)) return true;
    const inbound = this.inbound;
    if (inbound) {
      const due = performance.now() + AFTER_ACK_WAIT_MS;
      const work = fn;
      fn = async () => {
        await inbound.quiet(due);
        return work();
      };
    }
    if (this.active >= this.limits.concurrency) {
      if (this.waiting.length >= this.limits.maxQueued) return false;
      this.waiting.push({ key, fn });
      this.waitingKeys.add(key);
      return true;
    }
    this.start(key, fn);
    return true;
  }

  /**
   * Run `fn` now if a slot is free and nobody is waiting; false otherwise, and nothing starts. For
   * work worth doing at once when it need not wait its turn (a Slack form opened whole, which must
   * reach Slack within its trigger's 3 s) that has a paced way otherwise.
   */
  startIfFree(key: string, fn: () => Promise<unknown>): boolean {
    if (this.running.has(key) || this.active >= this.limits.concurrency || this.waiting.length) return false;
    this.start(key, fn);
    return true;
  }

  private start(key: string, fn: () => Promise<unknown>): void {
    this.active++;
    const p = (async () => {
      // Let the current turn answer first.
      await new Promise((r) => setImmediate(r));
      await fn();
    })()
      .catch((e) => this.onError(key, e))
      .finally(() => {
        this.running.delete(key);
        this.active--;
        const next = this.waiting.shift();
        if (next) {
          this.waitingKeys.delete(next.key);
          this.start(next.key, next.fn);
        } else if (!this.active) for (const w of this.idle) w();
      });
    this.running.set(key, p);
  }

  /** Jobs running or waiting. */
  get size(): number {
    return this.running.size + this.waiting.length;
  }

  /** Wait until no job is running or waiting (tests, graceful shutdown). */
  async drain(): Promise<void> {
    while (this.size) await new Promise<void>((r) => this.idle.add(r)).finally(() => this.idle.clear());
  }
}
