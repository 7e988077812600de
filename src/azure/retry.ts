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

export function decideRetry(a: Attempt, p: RetryPolicy = DEFAULT_RETRY): Decision {
  if (a.attempt > p.maxRetries) return { retry: false };
  const backoff = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (a.attempt - 1)) * (0.8 + 0.4 * (p.random ?? Math.random)());
  const after = retryAfterMs(a.retryAfter);
  const delayMs = Math.round(after !== undefined ? Math.min(after, p.maxRetryAfterMs) : backoff);
  // Throttled: ARM did not act on it, whatever the method.
  if (a.status === 429) return { retry: true, delayMs: after !== undefined ? delayMs : Math.round(backoff) };
  if (a.status !== 0 && !TRANSIENT.has(a.status)) return { retry: false };
  const read = a.method === 'GET' || a.method === 'HEAD';
  return read ? { retry: true, delayMs } : { retry: 'if-not-landed', delayMs };
}

/**
 * ARM's throttling is a token bucket per subscription and principal (reads: 250, refilled 25/s;
 * writes: 200, refilled 10/s) and each answer says what is left. When fewer than `floor` remain,
 * wait long enough for the bucket to refill to the floor before the next call of that kind.
 */
export class ThrottlePacer {
  private readonly remaining = new Map<string, { left: number; at: number }>();

  constructor(
    private readonly opts: { floor: { reads: number; writes: number }; refillPerSecond: { reads: number; writes: number }; maxWaitMs: number } = {
      floor: { reads: 25, writes: 10 },
      refillPerSecond: { reads: 25, writes: 10 },
      maxWaitMs: 5000,
    },
    private readonly now: () => number = Date.now,
  ) {}

  static kindOf(method: string): 'reads' | 'writes' {
    return method === 'GET' || method === 'HEAD' ? 'reads' : 'writes';
  }

  /** Record `x-ms-ratelimit-remaining-subscription-reads|writes` from an answer. */
  observe(kind: 'reads' | 'writes', header: string | null | undefined): void {
    const left = header === undefined || header === null ? NaN : Number(header);
    if (Number.isFinite(left)) this.remaining.set(kind, { left, at: this.now() });
  }

  /** How long to wait before the next call of this kind (0 when the budget is comfortable). */
  waitMs(kind: 'reads' | 'writes'): number {
    const seen = this.remaining.get(kind);
    if (!seen) return 0;
    const refilled = seen.left + ((this.now() - seen.at) / 1000) * this.opts.refillPerSecond[kind];
    const floor = this.opts.floor[kind];
    if (refilled >= floor) return 0;
    return Math.min(this.opts.maxWaitMs, Math.ceil(((floor - refilled) / this.opts.refillPerSecond[kind]) * 1000));
  }

  /** A call is about to be sent: count it against what is left. */
  spend(kind: 'reads' | 'writes'): void {
    const seen = this.remaining.get(kind);
    if (seen) this.remaining.set(kind, { left: seen.left - 1, at: seen.at });
  }
}
