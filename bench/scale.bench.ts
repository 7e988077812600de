// Scale of the work: N requests at once (1, 10, 100) — N form submissions (each runs the full
// Fluid Relay check run) and then `check <id>` on the N pending requests — through Teams (one
// conversation per request, so Teams' per-conversation post limits do not pace the cards), against
// the simulator with 50 ms per ARM call behind ARM's per-subscription throttling (token bucket:
// reads 250 burst, 25 per second; bench/servers/arm-budget.ts). Counts ARM reads per request (each
// run has its own read cache), the reads ARM would have refused (429), and how the requests ended.
// `npm run bench -- scale`
import { createApp, type App } from '../src/app';
import { loadConfig } from '../src/config';
import { SIM_KEY_VERSION_CURRENT } from '../src/simulator';
import { parsePolicy } from '../src/workflow/policy';
import type { DepsInfo, DepsStats, JournalEntry } from './servers/deps';
import { cardText, startConnector, type FakeConnector } from '../test/helpers/connector';
import { fluidRelayForm } from '../test/helpers/forms';
import { ALICE, BOB, cardAction, message, post } from '../test/helpers/teams';
import { getJson } from './lib/proc';
import { startDeps, tempDir } from './lib/stack';
import { round } from './lib/stats';
import { ARM_BUDGET } from './servers/arm-budget';

const POLICY = parsePolicy(
  `version: 2
tenants: { teams: ["*"], slack: ["*"] }
rules:
  - name: bench
    requesters: ["teams:tenant-1/${ALICE.aadObjectId}"]
    approvers: ["teams:tenant-1/${BOB.aadObjectId}"]
    approvalsRequired: 1
    irreversibleExtraApprovals: 0
`,
  'bench-policy',
);

export const SCALE_LATENCY_MS = 50;

export interface ScaleRow {
  phase: 'submit' | 'recheck';
  requests: number;
  wallMs: number;
  /** Reads that reached the simulator (past the throttling front). */
  armReads: number;
  readsPerRequest: number;
  /** Distinct (path, query) reads across all N runs: what one cache shared by the runs would have read. */
  distinctOverall: number;
  /** Reads ARM's budget answered with 429 (the bot's pacer and retries decide what happens next). */
  throttled429: number;
  readSpanMs: number;
  peakReadsPerSecond: number;
  /** The requests afterwards: waiting for approval, or blocked because a check ended in `error`. */
  outcome: string;
  withinBudget: string;
}

async function journal(deps: DepsInfo, from: number): Promise<JournalEntry[]> {
  return (await getJson<{ entries: JournalEntry[] }>(`${deps.control}/journal?from=${from}`)).entries;
}

const stats = (deps: DepsInfo) => getJson<DepsStats>(`${deps.control}/stats`);

async function outcome(app: App, ids: string[]): Promise<string> {
  const reqs = await Promise.all(ids.map((id) => app.store.getRequest(id)));
  const pending = reqs.filter((r) => r?.state === 'pending_approval').length;
  const errored = reqs.filter((r) => r?.checks.some((c) => c.status === 'error')).length;
  return errored ? `${pending} pending, ${errored} blocked by a check in error` : `${pending} pending`;
}

function row(phase: ScaleRow['phase'], n: number, wallMs: number, entries: JournalEntry[], throttled: number, result: string): ScaleRow {
  const reads = entries.filter((e) => e.method === 'GET');
  const at = reads.map((r) => r.at);
  const perSecond = new Map<number, number>();
  for (const t of at) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
  return {
    phase,
    requests: n,
    wallMs: Math.round(wallMs),
    armReads: reads.length,
    readsPerRequest: round(reads.length / n, 1),
    distinctOverall: new Set(reads.map((r) => `${r.path.toLowerCase()}?${JSON.stringify(r.query)}`)).size,
    throttled429: throttled,
    readSpanMs: at.length ? Math.max(...at) - Math.min(...at) : 0,
    peakReadsPerSecond: Math.max(0, ...perSecond.values()),
    outcome: result,
    withinBudget: throttled === 0 ? 'yes' : `NO: ${throttled} reads answered 429`,
  };
}

const formData = (name: string) => fluidRelayForm(name, { keyVersion: SIM_KEY_VERSION_CURRENT });

let batch = 0;

async function atOnce(app: App, connector: FakeConnector, deps: DepsInfo, n: number, refillMs: number): Promise<ScaleRow[]> {
  const b = ++batch;
  const s0 = await stats(deps);
  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const formMsg = `form-scale-${b}-${i}`;
      const conv = `conv-scale-${b}-${i}`;
      const res = await post(app.url, cardAction(connector.url, ALICE, 'form.submit', formData(`fr-scale-${b}-${i}`), formMsg, conv));
      if (res.status !== 200) throw new Error(`submit answered ${res.status}`);
      const card = await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Prerequisite checks:/.test(cardText(a.activity)), 180_000, `request card ${i}`);
      const id = /Request: (CR-[A-Z0-9]{6})/.exec(cardText(card.activity))?.[1];
      if (!id) throw new Error(`request ${i}: no request id on the card:\n${cardText(card.activity)}`);
      return { id, conv };
    }),
  );
  const t1 = performance.now();
  const s1 = await stats(deps);
  const submit = row(
    'submit',
    n,
    t1 - t0,
    await journal(deps, s0.armRequests),
    (s1.budgetThrottled?.reads ?? 0) - (s0.budgetThrottled?.reads ?? 0),
    await outcome(
      app,
      ids.map((x) => x.id),
    ),
  );
  // The same N requests checked again at once (`check <id>` answers with the card), once the
  // budget has refilled.
  await new Promise((r) => setTimeout(r, refillMs));
  const s2 = await stats(deps);
  const t2 = performance.now();
  await Promise.all(
    ids.map(async ({ id, conv }) => {
      const res = await post(app.url, message(connector.url, ALICE, `check ${id}`, conv));
      if (res.status !== 200) throw new Error(`check answered ${res.status}`);
    }),
  );
  const t3 = performance.now();
  const s3 = await stats(deps);
  const recheck = row(
    'recheck',
    n,
    t3 - t2,
    await journal(deps, s2.armRequests),
    (s3.budgetThrottled?.reads ?? 0) - (s2.budgetThrottled?.reads ?? 0),
    await outcome(
      app,
      ids.map((x) => x.id),
    ),
  );
  return [submit, recheck];
}

export async function benchScale(sizes = [1, 10, 100]): Promise<ScaleRow[]> {
  const tmp = tempDir('scale');
  const deps = await startDeps(tmp.dir, SCALE_LATENCY_MS, false, true);
  const info = deps.info;
  const connector = await startConnector();
  const app = await createApp({
    config: loadConfig({ PORT: '0', LOG_LEVEL: 'silent', AZURE_MODE: 'simulator', ARM_ENDPOINT: info.budgetEndpoint!, ARM_CA_FILE: info.caPath, DATA_DIR: `${tmp.dir}/data` }),
    policy: POLICY,
  });
  const rows: ScaleRow[] = [];
  // A bucket of 250 refilled at 25/s is full again after 10 s of quiet.
  const refillMs = (ARM_BUDGET.reads.burst / ARM_BUDGET.reads.perSecond) * 1000;
  try {
    await atOnce(app, connector, info, 1, 0); // warm-up
    for (const n of sizes) {
      await new Promise((r) => setTimeout(r, refillMs));
      rows.push(...(await atOnce(app, connector, info, n, refillMs)));
    }
  } finally {
    await app.close();
    await connector.close();
    await deps.stop();
    tmp.remove();
  }
  return rows;
}
