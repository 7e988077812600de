// The in-process runner of work after a chat ack is bounded: a burst runs a few at a time, a
// bounded number wait, and past that the work is refused at once rather than held in memory.
import { JobRunner, jobLimitsFor } from '../../src/workflow/jobs';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe('JobRunner', () => {
  it('runs at most `concurrency` at once, queues at most `maxQueued`, refuses the rest; everything accepted runs', async () => {
    const runner = new JobRunner(undefined, { concurrency: 2, maxQueued: 2 });
    const g = gate();
    let now = 0;
    let peak = 0;
    const done: string[] = [];
    const job = (name: string) => async () => {
      now++;
      peak = Math.max(peak, now);
      await g.opened;
      now--;
      done.push(name);
    };
    const accepted = ['a', 'b', 'c', 'd', 'e'].map((k) => runner.enqueue(k, job(k)));
    expect(accepted).toEqual([true, true, true, true, false]);
    expect(runner.size).toBe(4);
    // The same key again is the same job: not queued twice, not refused.
    expect(runner.enqueue('c', job('c-again'))).toBe(true);
    expect(runner.size).toBe(4);
    await new Promise((r) => setTimeout(r, 20));
    expect(now).toBe(2);
    g.open();
    await runner.drain();
    expect(done.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(peak).toBe(2);
    expect(runner.size).toBe(0);
    // Room again once the burst is through.
    expect(runner.enqueue('f', async () => undefined)).toBe(true);
    await runner.drain();
  });

  it('starts work at once only in a free slot with nobody waiting; what it starts counts as running', async () => {
    const runner = new JobRunner(undefined, { concurrency: 2, maxQueued: 2 });
    const g = gate();
    const ran: string[] = [];
    const job = (name: string) => async () => {
      ran.push(name);
      await g.opened;
    };
    expect(runner.startIfFree('now-1', job('now-1'))).toBe(true);
    // One running, a slot free: starts.
    expect(runner.startIfFree('now-2', job('now-2'))).toBe(true);
    expect(runner.size).toBe(2);
    // Every slot taken: nothing starts (the caller takes its paced way), and nothing is queued.
    expect(runner.startIfFree('now-3', job('now-3'))).toBe(false);
    expect(runner.size).toBe(2);
    expect(runner.enqueue('waits', job('waits'))).toBe(true);
    g.open();
    await runner.drain();
    expect(ran.sort()).toEqual(['now-1', 'now-2', 'waits']);
    expect(runner.startIfFree('now-4', async () => undefined)).toBe(true);
    await runner.drain();
  });

  it('a failing job is reported and frees its slot for the next', async () => {
    const errors: string[] = [];
    const runner = new JobRunner((key) => errors.push(key), { concurrency: 1, maxQueued: 1 });
    let ran = false;
    expect(runner.enqueue('boom', async () => Promise.reject(new Error('no')))).toBe(true);
    expect(runner.enqueue('next', async () => void (ran = true))).toBe(true);
    await runner.drain();
    expect(errors).toEqual(['boom']);
    expect(ran).toBe(true);
  });

  it('leaves two connections of the PostgreSQL pool to the acknowledgements: at most 8 jobs, fewer with a small pool, at least 1', () => {
    expect(jobLimitsFor(undefined).concurrency).toBe(8); // PGlite: one connection, queued inside
    expect(jobLimitsFor(10).concurrency).toBe(8);
    expect(jobLimitsFor(50).concurrency).toBe(8);
    expect(jobLimitsFor(6).concurrency).toBe(4);
    expect(jobLimitsFor(2).concurrency).toBe(1);
    expect(jobLimitsFor(1).concurrency).toBe(1);
    expect(jobLimitsFor(4).maxQueued).toBe(500);
  });
});
