// The job registry over the real queue (PGlite): a handler gets the payload its schema produced,
// and a payload that does not parse fails the job at once — one clear log line, no retries.
import { z } from 'zod';
import { Store } from '../../src/store/store';
import { DurableQueue } from '../../src/workflow/durable';
import { defineJob, JobRegistry } from '../../src/workflow/job-registry';
import { testPglite } from '../helpers/pglite';

let store: Store;
beforeAll(async () => {
  store = await Store.open({ kind: 'pglite', ...testPglite() });
});
afterAll(() => store?.close());
beforeEach(async () => {
  await store.db.query(`DELETE FROM jobs`);
});

type Line = [level: string, msg: string, data?: Record<string, unknown>];
const jobRow = async (key: string) => (await store.db.query<{ state: string; attempts: number; last_error: string | null }>(`SELECT state, attempts, last_error FROM jobs WHERE key = $1`, [key]))[0];
const until = async (pred: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

it('a handler gets the parsed payload; a payload that does not parse fails for good after one attempt, logged with its kind and the field', async () => {
  const lines: Line[] = [];
  const log = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void lines.push([level, msg, data]);
  const seen: Array<{ requestId: string; tries: number }> = [];
  let runs = 0;
  const echo = defineJob({
    kind: 'test.echo',
    schema: z.object({ requestId: z.string().regex(/^CR-/), tries: z.coerce.number().default(1) }),
    handler: async (p) => {
      runs++;
      seen.push(p);
    },
  });
  const queue = new DurableQueue(store.db, { pollMs: 20, laneLimits: {}, retryBaseMs: 10, log });
  const registry = new JobRegistry(log).define(echo);
  registry.wire(queue);
  await queue.start();
  try {
    await queue.enqueue(echo.spec({ requestId: 'CR-GOOD22', tries: '3' }, { key: 'good', maxAttempts: 5 }));
    await queue.enqueue({ kind: 'test.echo', key: 'bad', payload: { requestId: 42 }, maxAttempts: 5 });
    await until(async () => (await jobRow('good'))?.state === 'done' && (await jobRow('bad'))?.state === 'failed');
    // The schema's output, not the raw row: the string was coerced and the default applied.
    expect(seen).toEqual([{ requestId: 'CR-GOOD22', tries: 3 }]);
    expect(runs).toBe(1);
    const bad = await jobRow('bad');
    expect(bad).toMatchObject({ state: 'failed', attempts: 1 });
    expect(bad?.last_error).toMatch(/job test\.echo: its payload does not match the schema \(requestId: /);
    const said = lines.find(([, msg]) => /payload does not match its schema/.test(msg));
    expect(said?.[0]).toBe('error');
    expect(said?.[2]).toMatchObject({ kind: 'test.echo' });
    expect(String((said?.[2]?.issues as string[])[0])).toMatch(/^requestId: /);
  } finally {
    await queue.stop(0);
  }
});

it('a kind is defined once; the registry is wired once, and a kind defined after wiring is handled too', async () => {
  const handled: string[] = [];
  const queue = { handle: (kind: string) => void handled.push(kind) };
  const job = (kind: string) => defineJob({ kind, schema: z.object({}), handler: async () => undefined });
  const registry = new JobRegistry().define(job('a'));
  expect(() => registry.define(job('a'))).toThrow(/job kind a is defined twice/);
  registry.wire(queue);
  registry.define(job('b'));
  expect(handled).toEqual(['a', 'b']);
  expect(() => registry.wire(queue)).toThrow(/already wired/);
  expect(registry.kinds()).toEqual(['a', 'b']);
});
