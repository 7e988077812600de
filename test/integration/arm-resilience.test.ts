// The SDK gateway against the simulator's token-bucket throttling (ARM's model): reading the
// remaining-requests headers, it slows down before the bucket is empty and meets no 429; without
// the pacer the same burst is throttled. A 429 that does come is waited out (Retry-After).
import { SdkArmGateway, staticTokenCredential } from '../../src/azure/sdk-gateway';
import { ThrottlePacer } from '../../src/azure/retry';
import { SIM_SUBSCRIPTION_ID, startSimulator, type Simulator } from '../../src/simulator';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim?.close());
beforeEach(() => sim.reset());

const gateway = (pacer: ThrottlePacer | false, maxRetries = 0) => new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries, retryDelayMs: 20, pacer });
const path = `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups`;

it('paces reads from the remaining-requests header and is never throttled', async () => {
  sim.setThrottle({ reads: { burst: 20, perSecond: 40 }, writes: { burst: 20, perSecond: 10 } });
  const arm = gateway(new ThrottlePacer({ capacity: { reads: 20, writes: 20 }, floor: { reads: 5, writes: 5 }, refillPerSecond: { reads: 40, writes: 10 }, maxWaitMs: 2000 }));
  const started = Date.now();
  for (let i = 0; i < 50; i++) await arm.list(path, '2022-12-01');
  const took = Date.now() - started;
  expect(sim.requests.filter((r) => r.status === 429)).toHaveLength(0);
  expect(sim.requests).toHaveLength(50);
  // 50 reads from a bucket of 20 refilled 40/s: about (50 - 15) / 40 s of waiting at least.
  expect(took).toBeGreaterThanOrEqual(700);
});

it('twenty callers at once are spaced out, not let through together: no 429', async () => {
  sim.setThrottle({ reads: { burst: 20, perSecond: 40 }, writes: { burst: 20, perSecond: 10 } });
  const arm = gateway(new ThrottlePacer({ capacity: { reads: 20, writes: 20 }, floor: { reads: 5, writes: 5 }, refillPerSecond: { reads: 40, writes: 10 }, maxWaitMs: 5000 }));
  for (let wave = 0; wave < 3; wave++) await Promise.all(Array.from({ length: 20 }, () => arm.list(path, '2022-12-01')));
  expect(sim.requests).toHaveLength(60);
  expect(sim.requests.filter((r) => r.status === 429)).toHaveLength(0);
});

it('without the pacer the same burst runs the bucket dry and is throttled', async () => {
  sim.setThrottle({ reads: { burst: 20, perSecond: 40 }, writes: { burst: 20, perSecond: 10 } });
  const arm = gateway(false);
  const results = [];
  for (let i = 0; i < 50; i++)
    results.push(
      await arm.list(path, '2022-12-01').then(
        () => 'ok',
        (e: { status: number }) => e.status,
      ),
    );
  expect(results).toContain(429);
});

it('a 429 is waited out for its Retry-After and then succeeds', async () => {
  sim.injectFault({ method: 'GET', pathIncludes: '/resourcegroups', status: 429, retryAfterSeconds: 1 });
  const started = Date.now();
  const groups = await gateway(false, 2).list(path, '2022-12-01');
  expect(groups.length).toBeGreaterThan(0);
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  expect(sim.requests.map((r) => r.status)).toEqual([429, 200]);
});

it('a 429 holds the whole subscription for its Retry-After, even when the caller that met it gives up', async () => {
  sim.injectFault({ method: 'GET', pathIncludes: '/resourcegroups', status: 429, retryAfterSeconds: 1, times: 1 });
  const arm = gateway(new ThrottlePacer({ capacity: { reads: 20, writes: 20 }, floor: { reads: 5, writes: 5 }, refillPerSecond: { reads: 40, writes: 10 }, maxWaitMs: 5000 }), 0);
  // No retries: this caller gets the 429 ...
  await expect(arm.list(path, '2022-12-01')).rejects.toMatchObject({ status: 429 });
  // ... and the next call to the same subscription waits ARM's second out instead of spending a request on another 429.
  const started = Date.now();
  await arm.list(path, '2022-12-01');
  expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  expect(sim.requests.map((r) => r.status)).toEqual([429, 200]);
});

it('a Retry-After longer than the bot waits for one (60 s) holds the subscription that long, not for as long as ARM said', async () => {
  sim.injectFault({ method: 'GET', pathIncludes: '/resourcegroups', status: 429, retryAfterSeconds: 3600, times: 1 });
  const paused: number[] = [];
  const arm = new SdkArmGateway({
    endpoint: sim.endpoint,
    ca: sim.ca,
    credential: staticTokenCredential(),
    maxRetries: 0,
    pacer: new ThrottlePacer({ capacity: { reads: 20, writes: 20 }, floor: { reads: 5, writes: 5 }, refillPerSecond: { reads: 40, writes: 10 }, maxWaitMs: 3_600_000 }),
    // The waits are recorded, not slept.
    sleep: async (ms) => void paused.push(ms),
  });
  await expect(arm.list(path, '2022-12-01')).rejects.toMatchObject({ status: 429 });
  await arm.list(path, '2022-12-01');
  expect(Math.max(...paused)).toBeGreaterThan(50_000);
  expect(Math.max(...paused)).toBeLessThanOrEqual(60_000);
});
