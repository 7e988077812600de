// Work after an ack waits for a moment with no chat request being answered (or its due time), and
// then goes one piece per turn of the event loop, so a request arriving meanwhile comes first.
import { Inbound } from '../../src/workflow/inbound';
import { AFTER_ACK_WAIT_MS, JobRunner } from '../../src/workflow/jobs';

const turn = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** `quiet(due)` with when it resolved (ms from now), or undefined while it has not. */
function waiter(inbound: Inbound, dueInMs: number) {
  const t0 = performance.now();
  const w: { after?: number; went?: Promise<void> } = {};
  w.went = inbound.quiet(t0 + dueInMs).then(() => void (w.after = performance.now() - t0));
  return w;
}

describe('Inbound', () => {
  it('with no request being answered, work goes at once', async () => {
    const inbound = new Inbound({ countsForMs: 60_000 });
    let went = false;
    await inbound.quiet(performance.now() + 60_000).then(() => (went = true));
    expect(went).toBe(true);
  });

  it('work waits while a request is answered, and goes once the last one is', async () => {
    const inbound = new Inbound({ countsForMs: 60_000 });
    const one = inbound.enter();
    const two = inbound.enter();
    const w = waiter(inbound, 60_000);
    await sleep(30);
    one();
    one(); // a second call for the same request changes nothing
    await sleep(30);
    expect(inbound.answering).toBe(1);
    expect(w.after).toBeUndefined();
    two();
    await w.went;
    expect(w.after).toBeGreaterThanOrEqual(55);
    expect(inbound.answering).toBe(0);
    expect(inbound.waitingCount).toBe(0);
  });

  it('work goes at its due time while requests keep it busy, earliest due first', async () => {
    const inbound = new Inbound({ countsForMs: 60_000 });
    const busy = inbound.enter();
    const late = waiter(inbound, 600);
    const soon = waiter(inbound, 60);
    await soon.went;
    expect(soon.after).toBeGreaterThanOrEqual(55);
    expect(late.after).toBeUndefined();
    await late.went;
    expect(late.after).toBeGreaterThanOrEqual(595);
    busy();
  });

  it('once quiet, one piece goes per turn of the event loop, and a request that arrives in between holds the rest', async () => {
    const inbound = new Inbound({ countsForMs: 60_000 });
    const busy = inbound.enter();
    const ws = [waiter(inbound, 60_000), waiter(inbound, 60_000), waiter(inbound, 60_000)];
    busy();
    await turn();
    expect(ws.map((w) => w.after !== undefined)).toEqual([true, false, false]);
    await turn();
    expect(ws.map((w) => w.after !== undefined)).toEqual([true, true, false]);
    const arrived = inbound.enter();
    await sleep(30);
    expect(ws.map((w) => w.after !== undefined)).toEqual([true, true, false]);
    arrived();
    await ws[2]!.went;
  });
});

describe('Inbound: how long a request counts', () => {
  it('a request counts for `countsForMs` at most: one that takes longer (a turn waiting on Azure) stops holding work back, and its answer later counts nothing', async () => {
    const inbound = new Inbound({ countsForMs: 100 });
    const t0 = performance.now();
    const slow = inbound.enter();
    const w = waiter(inbound, 60_000);
    await w.went;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
    expect(inbound.answering).toBe(0);
    slow();
    expect(inbound.answering).toBe(0);
    const next = inbound.enter();
    expect(inbound.answering).toBe(1);
    next();
  });
});

describe('JobRunner with the requests being answered', () => {
  it('a job handed over during a request starts when it is answered; under a stream of requests, within a second of being handed over', async () => {
    const inbound = new Inbound({ countsForMs: 60_000 });
    const runner = new JobRunner(undefined, { concurrency: 2, maxQueued: 2 }, inbound);
    const started: Record<string, number> = {};
    const t0 = performance.now();
    const job = (k: string) => async () => void (started[k] = performance.now() - t0);

    const request = inbound.enter();
    expect(runner.enqueue('reply', job('reply'))).toBe(true);
    await sleep(50);
    expect(started.reply).toBeUndefined();
    request();
    await runner.drain();
    expect(started.reply).toBeGreaterThanOrEqual(45);

    const stream = inbound.enter(); // never answered while the job waits
    const handed = performance.now() - t0;
    runner.enqueue('under-load', job('under-load'));
    await runner.drain();
    expect(started['under-load']! - handed).toBeGreaterThanOrEqual(AFTER_ACK_WAIT_MS - 5);
    expect(started['under-load']! - handed).toBeLessThan(AFTER_ACK_WAIT_MS + 2_000);
    stream();
  });
});
