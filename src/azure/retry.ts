// When to try an ARM call again, as a pure decision (no sleeping here), and how to slow down
// before the subscription's throttling budget runs out. The gateway applies both.

export interface Attempt {
  method: string;
  /** 1 for the first retry decision (after the first attempt failed). */
  attempt: number;
  /** HTTP status, or 0 when no answer came (dropped connection, refused, timed out). */
  status: number;
  /** Retry-After as ARM sent it (seconds), if any. */
  retryAfter?: string | null;
}

export type Decision =
  | { retry: false }
  /** Safe to send again after `delayMs`. */
  | { retry: true; delayMs: number }
  /** The outcome of a write is unknown: look whether it landed before sending it again. */
  | { retry: 'if-not-landed'; delayMs: number };

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured; a longer one is capped (the call has a deadline too). */
  maxRetryAfterMs: number;
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 4, baseDelayMs: 800, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 };

const TRANSIENT = new Set([408, 500, 502, 503, 504]);

export function retryAfterMs(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value); // HTTP-date form
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** How long to wait for a Retry-After: as ARM said, up to the policy's `maxRetryAfterMs`; undefined without one. */
export function waitForRetryAfterMs(value: string | null | undefined, p: Pick<RetryPolicy, 'maxRetryAfterMs'> = DEFAULT_RETRY): number | undefined {
  const after = retryAfterMs(value);
  return after === undefined ? undefined : Math.min(after, p.maxRetryAfterMs);
}

export function decideRetry(a: Attempt, p: RetryPolicy = DEFAULT_RETRY): Decision {
  if (a.attempt > p.maxRetries) return { retry: false };
  const backoff = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (a.attempt - 1)) * (0.8 + 0.4 * (p.random ?? Math.random)());
  const delayMs = Math.round(waitForRetryAfterMs(a.retryAfter, p) ?? backoff);
  // Throttled: ARM did not act on it, whatever the method.
  if (a.status === 429) return { retry: true, delayMs };
  if (a.status !== 0 && !TRANSIENT.has(a.status)) return { retry: false };
  const read = a.method === 'GET' || a.method === 'HEAD';
  return read ? { retry: true, delayMs } : { retry: 'if-not-landed', delayMs };
}

/**
 * ARM's throttling is a token bucket per subscription and principal (reads: 250, refilled 25/s;
 * writes: 200, refilled 10/s) and each answer says what is left. The pacer keeps a model of that
 * bucket: every call reserves a token before it is sent (so callers arriving together are spaced
 * out, not let through together), the model refills at ARM's rate, and an answer's
 * `x-ms-ratelimit-remaining-subscription-reads|writes` lowers it when ARM counts fewer. A call
 * that would take the bucket under `floor` waits until the refill has made room.
 */
export interface PacerOptions {
  capacity: { reads: number; writes: number };
  floor: { reads: number; writes: number };
  refillPerSecond: { reads: number; writes: number };
  maxWaitMs: number;
}

export const ARM_BUCKETS: PacerOptions = {
  capacity: { reads: 250, writes: 200 },
  floor: { reads: 25, writes: 10 },
  refillPerSecond: { reads: 25, writes: 10 },
  maxWaitMs: 60_000,
};

/**
 * The subscription a path is charged to: ARM's throttling bucket is per subscription (× principal
 * × region), so one busy subscription does not slow the calls to another. Tenant-level paths
 * (`/subscriptions`, `/providers/…`) share one bucket.
 */
export function throttleScopeOf(path: string): string {
  return /^\/subscriptions\/([^/?]+)/i.exec(path)?.[1]?.toLowerCase() ?? '';
}

export class ThrottlePacer {
  private readonly bucket = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly opts: PacerOptions = ARM_BUCKETS,
    private readonly now: () => number = Date.now,
  ) {}

  static kindOf(method: string): 'reads' | 'writes' {
    return method === 'GET' || method === 'HEAD' ? 'reads' : 'writes';
  }

  private refilled(kind: 'reads' | 'writes', scope: string): { tokens: number; at: number } {
    const now = this.now();
    const key = `${kind}|${scope}`;
    const b = this.bucket.get(key) ?? { tokens: this.opts.capacity[kind], at: now };
    b.tokens = Math.min(this.opts.capacity[kind], b.tokens + ((now - b.at) / 1000) * this.opts.refillPerSecond[kind]);
    b.at = now;
    this.bucket.set(key, b);
    return b;
  }

  /** Take a token for a call about to be sent (to `scope`, a subscription: `throttleScopeOf`); returns how long to wait before sending it. */
  reserve(kind: 'reads' | 'writes', scope = ''): number {
    const b = this.refilled(kind, scope);
    const floor = this.opts.floor[kind];
    const wait = b.tokens - 1 >= floor ? 0 : Math.ceil(((floor + 1 - b.tokens) / this.opts.refillPerSecond[kind]) * 1000);
    b.tokens -= 1; // reserved now, so the next caller waits behind this one
    return Math.min(wait, this.opts.maxWaitMs);
  }

  /**
   * ARM answered 429 with a Retry-After: its bucket is empty for that long, whatever our model
   * says. Every call to the scope waits it out (not just the one that was refused), so callers in
   * flight together do not each spend a request on another 429.
   */
  holdFor(kind: 'reads' | 'writes', scope: string, ms: number): void {
    const b = this.refilled(kind, scope);
    b.tokens = Math.min(b.tokens, this.opts.floor[kind] + 1 - (ms / 1000) * this.opts.refillPerSecond[kind]);
  }

  /** An answer's remaining-requests header: ARM's own count wins when it is lower than ours. */
  observe(kind: 'reads' | 'writes', header: string | null | undefined, scope = ''): void {
    const left = header === undefined || header === null ? NaN : Number(header);
    if (!Number.isFinite(left)) return;
    const b = this.refilled(kind, scope);
    b.tokens = Math.min(b.tokens, left);
  }
}
