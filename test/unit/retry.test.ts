// The retry decision and the throttle pacer, as pure functions over what ARM answered.
import { decideRetry, retryAfterMs, ThrottlePacer, type RetryPolicy } from '../../src/azure/retry';

const P: RetryPolicy = { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000, random: () => 0.5 };

describe('decideRetry', () => {
  it.each([
    ['GET', 429, '2', { retry: true, delayMs: 2000 }],
    ['PUT', 429, '2', { retry: true, delayMs: 2000 }], // throttled: ARM did not act on it
    ['GET', 503, null, { retry: true, delayMs: 100 }],
    ['GET', 408, null, { retry: true, delayMs: 100 }],
    ['GET', 0, null, { retry: true, delayMs: 100 }], // reset, refused, timed out
    ['PUT', 500, null, { retry: 'if-not-landed', delayMs: 100 }],
    ['PATCH', 0, null, { retry: 'if-not-landed', delayMs: 100 }],
    ['GET', 404, null, { retry: false }],
    ['PUT', 400, null, { retry: false }],
    ['GET', 501, null, { retry: false }],
    ['GET', 403, null, { retry: false }],
  ] as const)('%s answered %i (Retry-After %s) → %j', (method, status, retryAfter, expected) => {
    expect(decideRetry({ method, attempt: 1, status, retryAfter }, P)).toEqual(expected);
  });

  it('backs off exponentially up to the cap, and gives up after maxRetries', () => {
    expect([1, 2, 3].map((attempt) => decideRetry({ method: 'GET', attempt, status: 500 }, P))).toEqual([
      { retry: true, delayMs: 100 },
      { retry: true, delayMs: 200 },
      { retry: true, delayMs: 400 },
    ]);
    expect(decideRetry({ method: 'GET', attempt: 4, status: 500 }, P)).toEqual({ retry: false });
    expect(decideRetry({ method: 'GET', attempt: 3, status: 500 }, { ...P, baseDelayMs: 800 })).toEqual({ retry: true, delayMs: 1000 });
  });

  it('caps a long Retry-After, and reads the HTTP-date form', () => {
    expect(decideRetry({ method: 'GET', attempt: 1, status: 429, retryAfter: '3600' }, P)).toEqual({ retry: true, delayMs: 5000 });
    const at = new Date(Date.now() + 3000).toUTCString();
    expect(retryAfterMs(at)).toBeGreaterThan(1000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('ThrottlePacer', () => {
  it('waits only when the remaining budget is under the floor, long enough to refill to it', () => {
    let now = 0;
    const pacer = new ThrottlePacer({ floor: { reads: 25, writes: 10 }, refillPerSecond: { reads: 25, writes: 10 }, maxWaitMs: 5000 }, () => now);
    expect(pacer.waitMs('reads')).toBe(0); // nothing seen yet
    pacer.observe('reads', '200');
    expect(pacer.waitMs('reads')).toBe(0);
    pacer.observe('reads', '5');
    expect(pacer.waitMs('reads')).toBe(800); // 20 short at 25/s
    now += 400;
    expect(pacer.waitMs('reads')).toBe(400); // half refilled meanwhile
    pacer.observe('writes', '0');
    expect(pacer.waitMs('writes')).toBe(1000);
    pacer.observe('reads', 'not a number');
    expect(pacer.waitMs('reads')).toBe(400);
  });
});
