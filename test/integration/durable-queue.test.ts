// The durable job queue on a real database (PGlite): each job runs once across workers, a lane
// runs one job at a time in order and within its rate limit, a queued card update is replaced
// by a newer one (the latest state wins), failures retry with backoff and then fail for good,
// an expired lease is taken over, and stopping hands running work back.
import { Store } from '../../src/store/store';
import type { Database } from '../../src/store/db';
import { DurableQueue } from '../../src/workflow/durable';
import { testPglite } from '../helpers/pglite';

let store: Store;
beforeAll(async () => {
  store = await Store.open({ kind: 'pglite', ...testPglite() });
});
afterAll(() => store?.close());
beforeEach(async () => {
  await store.db.query(`DELETE FROM jobs`);
});

const until = async (pred: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('two workers share the work: every job runs exactly once; a lane never runs two jobs at once, and keeps its order', async () => {
  const ran: string[] = [];
  let inLane = 0;
  let overlap = false;
  const make = () => {
    const q = new DurableQueue(store.db, { pollMs: 20, concurrency: 4, laneLimits: {} });
    q.handle('t', async (p) => {
      if (p.lane) {
        inLane++;
        if (inLane > 1) overlap = true;
      }
      await sleep(5);
      ran.push(String(p.n));
      if (p.lane) inLane--;
    });
    return q;
  };
  const [a, b] = [make(), make()];
  await Promise.all([a.start(), b.start()]);
  for (let n = 0; n < 30; n++) await (n % 2 ? a : b).enqueue({ kind: 't', key: `k${n}`, lane: n < 10 ? 'request:one' : undefined, payload: { n, lane: n < 10 } });
  await until(() => ran.length >= 30);
  await sleep(100);
  expect([...ran].sort()).toEqual(Array.from({ length: 30 }, (_, n) => String(n)).sort());
  expect(overlap).toBe(false);
  expect(ran.filter((n) => Number(n) < 10)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  await Promise.all([a.stop(0), b.stop(0)]);
});

it('a queued job with the same key is replaced (the latest state wins) while its lane is busy', async () => {
  const shown: string[] = [];
  const q = new DurableQueue(store.db, { pollMs: 20, laneLimits: {} });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  q.handle('slow', () => gate);
  q.handle('card', async (p) => void shown.push(String(p.state)));
  await q.start();
  await q.enqueue({ kind: 'slow', key: 'slow', lane: 'teams:c1', payload: {} });
  await sleep(50);
  for (const state of ['approved', 'executing', 'verifying', 'succeeded']) await q.enqueue({ kind: 'card', key: 'card:CR-1', lane: 'teams:c1', payload: { state }, replace: true });
  release();
  await until(() => shown.length >= 1);
  await sleep(100);
  expect(shown).toEqual(['succeeded']);
  await q.stop(0);
});

it('a chat lane keeps within its rate limit: at most N in any window, in order', async () => {
  const at: number[] = [];
  const q = new DurableQueue(store.db, { pollMs: 20, laneLimits: { 'slack:': [{ windowMs: 500, max: 2 }] } });
  q.handle('post', async () => void at.push(Date.now()));
  await q.start();
  for (let i = 0; i < 6; i++) await q.enqueue({ kind: 'post', key: `p${i}`, lane: 'slack:C1', payload: {} });
  await until(() => at.length === 6, 15_000);
  for (let i = 2; i < at.length; i++) expect(at[i]! - at[i - 2]!).toBeGreaterThanOrEqual(450); // the 3rd waits for the 1st to leave the window
  expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(900);
  await q.stop(0);
});

it('a failing job is retried with backoff, then fails for good with its error kept', async () => {
  let calls = 0;
  const q = new DurableQueue(store.db, { pollMs: 20, retryBaseMs: 30 });
  q.handle('flaky', async () => {
    calls++;
    if (calls < 3) throw new Error(`boom ${calls}`);
  });
  q.handle('broken', async () => {
    throw new Error('always broken');
  });
  await q.start();
  await q.enqueue({ kind: 'flaky', key: 'flaky', payload: {} });
  await q.enqueue({ kind: 'broken', key: 'broken', payload: {}, maxAttempts: 2 });
  await until(async () => (await store.db.query(`SELECT 1 FROM jobs WHERE state IN ('queued','running')`)).length === 0);
  expect(calls).toBe(3);
  const rows = await store.db.query<{ key: string; state: string; attempts: number; last_error: string | null }>(`SELECT key, state, attempts, last_error FROM jobs ORDER BY key`);
  expect(rows.map((r) => [r.key, r.state, Number(r.attempts)])).toEqual([
    ['broken', 'failed', 2],
    ['flaky', 'done', 3],
  ]);
  expect(rows[0]!.last_error).toMatch(/always broken/);
  expect(await q.depth()).toMatchObject({ queued: 0, running: 0, failed: 1 });
  await q.stop(0);
});

it('a job whose worker died (lease ran out) is claimed again; stopping hands a running job back', async () => {
  await store.db.query(
    `INSERT INTO jobs (kind, key, payload, state, run_at, max_attempts, locked_by, lease_until, attempts, created_at)
     VALUES ('t', 'orphan', '{}'::jsonb, 'running', now(), 5, 'dead-worker', now() - interval '1 second', 1, now())`,
  );
  const ran: string[] = [];
  const q = new DurableQueue(store.db, { pollMs: 20 });
  let release!: () => void;
  q.handle('t', async () => void ran.push('orphan'));
  q.handle('long', () => new Promise<void>((r) => (release = r)));
  await q.start();
  await until(() => ran.length === 1);
  await q.enqueue({ kind: 'long', key: 'long', payload: {} });
  await until(async () => (await store.db.query(`SELECT 1 FROM jobs WHERE key = 'long' AND state = 'running'`)).length === 1);
  expect(await q.stop(50)).toEqual({ finished: 0, released: 1 });
  release();
  const [row] = await store.db.query<{ state: string; locked_by: string | null }>(`SELECT state, locked_by FROM jobs WHERE key = 'long'`);
  expect(row).toEqual({ state: 'queued', locked_by: null });
});

describe('the database goes away while a job runs', () => {
  /** store.db, except that while `down` every statement fails as a dropped connection does. */
  const flaky = () => {
    const state = { down: false };
    const refuse = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    const db: Database = {
      kind: 'postgres',
      query: (text, params) => (state.down ? refuse() : store.db.query(text, params)),
      exec: (text) => (state.down ? refuse() : store.db.exec(text)),
      transaction: (fn) => (state.down ? refuse() : store.db.transaction(fn)),
      close: async () => undefined,
    };
    return { db, state };
  };

  it('a job that finished while its outcome could not be recorded is recorded once the database is back: it does not run again, and nothing crashes', async () => {
    const { db, state } = flaky();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const logged: string[] = [];
    const q = new DurableQueue(db, { pollMs: 20, leaseMs: 300, laneLimits: {}, log: (_level, msg) => logged.push(msg) });
    let runs = 0;
    q.handle('post', async () => {
      // The work is done (a message posted), and the database goes before the job is marked done.
      if (++runs === 1) state.down = true;
    });
    try {
      await q.start();
      await q.enqueue({ kind: 'post', key: 'post-1', payload: {} });
      await until(() => runs === 1);
      // Down for longer than the job's lease.
      await sleep(800);
      state.down = false;
      await until(async () => (await store.db.query<{ state: string }>(`SELECT state FROM jobs WHERE key = 'post-1'`))[0]?.state === 'done');
      await sleep(300);
      expect(runs).toBe(1);
      expect(unhandled).toEqual([]);
      // Said once, not at every poll.
      expect(logged.filter((m) => /could not claim jobs/.test(m))).toHaveLength(1);
      expect(logged).toContain('could not record a job’s outcome; trying again until the database answers');
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await q.stop(0);
    }
  });
});
