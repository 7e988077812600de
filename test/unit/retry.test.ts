// The retry decision and the throttle pacer, as pure functions over what ARM answered.
import { decideRetry, retryAfterMs, ThrottlePacer, throttleScopeOf, type RetryPolicy, waitForRetryAfterMs } from '../../src/azure/retry';

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

  it('waits for a Retry-After as ARM said, up to the policy’s longest, and not at all without one (the fleet’s wait and the subscription’s hold)', () => {
    expect(waitForRetryAfterMs('3600')).toBe(60_000);
    expect(waitForRetryAfterMs('3600', { maxRetryAfterMs: 5000 })).toBe(5000);
    expect(waitForRetryAfterMs('2')).toBe(2000);
    expect(waitForRetryAfterMs(new Date(Date.now() - 60_000).toUTCString())).toBe(0);
    expect(waitForRetryAfterMs(undefined)).toBeUndefined();
    expect(waitForRetryAfterMs('soon')).toBeUndefined();
  });
});

describe('ThrottlePacer', () => {
  const opts = { capacity: { reads: 30, writes: 20 }, floor: { reads: 25, writes: 10 }, refillPerSecond: { reads: 25, writes: 10 }, maxWaitMs: 60_000 };

  it('lets calls through while the bucket is above the floor, then spaces them at the refill rate', () => {
    let now = 0;
    const pacer = new ThrottlePacer(opts, () => now);
    // 30 in the bucket, floor 25: five go at once, the sixth waits for one token (40 ms at 25/s).
    expect([1, 2, 3, 4, 5].map(() => pacer.reserve('reads'))).toEqual([0, 0, 0, 0, 0]);
    expect(pacer.reserve('reads')).toBe(40);
    // Callers arriving together queue behind each other instead of going together.
    expect(pacer.reserve('reads')).toBe(80);
    expect(pacer.reserve('reads')).toBe(120);
    now += 1000; // 25 tokens back
    expect(pacer.reserve('reads')).toBe(0);
  });

  it('keeps one bucket per subscription, as ARM does: a busy subscription does not slow another', () => {
    const now = 0;
    const pacer = new ThrottlePacer(opts, () => now);
    const a = throttleScopeOf('/subscriptions/AAAA/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv');
    const b = throttleScopeOf('/subscriptions/bbbb/resources');
    expect(a).toBe('aaaa');
    expect(throttleScopeOf('/subscriptions')).toBe('');
    expect([1, 2, 3, 4, 5].map(() => pacer.reserve('reads', a))).toEqual([0, 0, 0, 0, 0]);
    expect(pacer.reserve('reads', a)).toBe(40);
    expect(pacer.reserve('reads', b)).toBe(0);
    // ARM's count for one subscription says nothing about another's.
    pacer.observe('reads', '0', b);
    expect(pacer.reserve('reads', b)).toBeGreaterThan(0);
    expect(pacer.reserve('reads', throttleScopeOf('/subscriptions/cccc'))).toBe(0);
  });

  it('believes ARM when it counts fewer than the model, never when it counts more', () => {
    const now = 0;
    const pacer = new ThrottlePacer(opts, () => now);
    pacer.observe('writes', '0');
    expect(pacer.reserve('writes')).toBe(1100); // 11 short of the floor + 1 at 10/s
    pacer.observe('writes', '12000'); // a legacy hourly count: no help
    expect(pacer.reserve('writes')).toBe(1200);
    pacer.observe('reads', 'not a number');
    expect(pacer.reserve('reads')).toBe(0);
  });

  it('after a 429 every call to that subscription waits out the Retry-After, not only the refused one', () => {
    const now = 0;
    const pacer = new ThrottlePacer(opts, () => now);
    const a = throttleScopeOf('/subscriptions/aaaa/resourceGroups/rg');
    expect(pacer.reserve('writes', a)).toBe(0); // 20 in the bucket, floor 10: room
    pacer.holdFor('writes', a, 2000);
    // The next two callers wait the 2 s ARM asked for, then queue at the refill rate behind it.
    expect(pacer.reserve('writes', a)).toBe(2000);
    expect(pacer.reserve('writes', a)).toBe(2100);
    // Another subscription was not throttled.
    expect(pacer.reserve('writes', throttleScopeOf('/subscriptions/bbbb'))).toBe(0);
    // A hold never adds tokens: a shorter one leaves a longer wait as it is.
    pacer.holdFor('writes', a, 100);
    expect(pacer.reserve('writes', a)).toBe(2200);
  });
});
