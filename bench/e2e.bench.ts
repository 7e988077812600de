// End-to-end request over Teams: the form submission to the verified result, with the two
// approvals sent by the driver the moment the request card shows them — for a Fluid Relay server
// (synchronous PUT) and a Chaos Studio experiment (long-running PUT, Retry-After 1 s, 2 polls).
// The bot runs in this process (createApp, embedded PGlite) so every ARM call it makes can be
// timed; the simulator runs in its own process. Time is split into:
//   arm      — at least one ARM call in flight (waiting on the simulator, injected latency included)
//   lroWait  — the Retry-After pauses the simulator asked for between polls
//   ours     — the rest: our code, the Agents SDK, PGlite, the card updates (db is the PGlite share of it);
//              of that, busy is this process's event loop at work (ELU) and timers the remainder:
//              durable-job polls and the bot's per-conversation pacing of posts (Teams' limits)
// `npm run bench -- e2e`
import { createApp, type App } from '../src/app';
import { loadConfig } from '../src/config';
import { parsePolicy } from '../src/workflow/policy';
import { cardText, startConnector, type FakeConnector } from '../test/helpers/connector';
import { chaosExperimentForm, fluidRelayForm } from '../test/helpers/forms';
import { ALICE, BOB, CAROL, cardAction, post } from '../test/helpers/teams';
import { getJson } from './lib/proc';
import { startDeps, tempDir } from './lib/stack';
import { clip, median, round, unionMs } from './lib/stats';
import { clickData } from '../test/helpers/connector';

const POLICY = parsePolicy(
  `version: 2
tenants: { teams: ["*"], slack: ["*"] }
groups:
  approvers: ["teams:tenant-1/${BOB.aadObjectId}", "teams:tenant-1/${CAROL.aadObjectId}"]
rules:
  - name: bench
    requesters: ["teams:tenant-1/${ALICE.aadObjectId}"]
    approvers: ["group:approvers"]
    approvalsRequired: 1
`,
  'bench-policy',
);

export interface E2eRow {
  target: string;
  latencyMs: number;
  approvals: number;
  armCalls: number;
  /** Activities the bot sent to the conversation (posts and card updates); the bot keeps within Teams' 7 per 2 s per conversation. */
  chatPosts: number;
  totalMs: number;
  /** Submission → the request card with the checks (the checks run as a job after the invoke answers). */
  checksMs: number;
  /** The approvers' clicks (automated: sent at once) until their invokes answered. */
  approvalMs: number;
  /** Last approval → the card saying "verified" (checks again, write, poll, verify, card updates). */
  executionMs: number;
  armMs: number;
  lroWaitMs: number;
  oursMs: number;
  /** This process's event loop busy (our code, the Agents SDK, PGlite's WebAssembly, the connector stand-in). */
  busyMs: number;
  /** ours − busy: waiting on our own timers — job queue polls and the per-conversation post pacing. */
  timersMs: number;
  dbMs: number;
  oursShare: string;
}

interface Interval {
  start: number;
  end: number;
  path: string;
}

const forms: Record<string, (name: string) => Record<string, string>> = { 'fluid-relay': (name) => fluidRelayForm(name), 'chaos-experiment': (name) => chaosExperimentForm(name) };

const POLL = /\/operation(Statuses|Results)\//i;

let n = 0;

async function oneRequest(app: App, connector: FakeConnector, target: string, calls: Interval[], db: Array<[number, number]>, latencyMs: number): Promise<E2eRow> {
  const formMsg = `form-e2e-${++n}`;
  // A conversation of its own: the bot paces posts per conversation (Teams' limits), and one
  // request should not wait behind the previous run's posts.
  const conv = `conv-e2e-${n}-${Math.random().toString(36).slice(2, 6)}`;
  const name = `${target === 'fluid-relay' ? 'fr' : 'exp'}-bench-${n}-${Math.random().toString(36).slice(2, 6)}`;
  calls.length = 0;
  db.length = 0;
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const submitted = await post(app.url, cardAction(connector.url, ALICE, 'form.submit', forms[target]!(name), formMsg, conv));
  if (submitted.status !== 200) throw new Error(`submit answered ${submitted.status}`);
  const card = await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Prerequisite checks:|Request refused/.test(cardText(a.activity)), 30_000, 'request card');
  const t1 = performance.now();
  const text = cardText(card.activity);
  const requestId = /Request: (CR-[A-Z0-9]{6})/.exec(text)?.[1];
  if (!requestId || !/Waiting for \d+ more approval/.test(text)) throw new Error(`${target}: the request is not waiting for approval:\n${text}`);
  let approvals = 0;
  for (const approver of [BOB, CAROL]) {
    const r = await post(app.url, cardAction(connector.url, approver, 'request.approve', clickData(connector, formMsg), formMsg, conv));
    approvals++;
    if (!/Waiting for \d+ more approval/.test(cardText(r.body?.value as never))) break;
  }
  const t2 = performance.now();
  const done = await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /and verified|This request (is )?failed|Stopped before the write/.test(cardText(a.activity)), 60_000, 'verified card');
  const t3 = performance.now();
  const busyMs = performance.eventLoopUtilization(elu0).active;
  if (!/and verified/.test(cardText(done.activity))) throw new Error(`${target}: did not verify:\n${cardText(done.activity)}`);

  const arm = calls.map((c) => [c.start, c.end] as [number, number]);
  // A poll's Retry-After pause: from the end of the ARM call before it to its start.
  const pauses: Array<[number, number]> = [];
  for (const c of calls.filter((x) => POLL.test(x.path))) {
    const before = calls.filter((x) => x.end <= c.start).reduce((m, x) => Math.max(m, x.end), -Infinity);
    if (Number.isFinite(before)) pauses.push([before, c.start]);
  }
  const totalMs = t3 - t0;
  const armMs = unionMs(clip(arm, t0, t3));
  const lroWaitMs = unionMs(clip(pauses, t0, t3));
  const oursMs = totalMs - armMs - lroWaitMs;
  return {
    target,
    latencyMs,
    approvals,
    armCalls: calls.length,
    chatPosts: connector.log.filter((a) => a.conversationId === conv).length,
    totalMs: Math.round(totalMs),
    checksMs: Math.round(t1 - t0),
    approvalMs: Math.round(t2 - t1),
    executionMs: Math.round(t3 - t2),
    armMs: Math.round(armMs),
    lroWaitMs: Math.round(lroWaitMs),
    oursMs: Math.round(oursMs),
    busyMs: Math.round(busyMs),
    timersMs: Math.max(0, Math.round(oursMs - busyMs)),
    dbMs: Math.round(unionMs(clip(db, t0, t3))),
    oursShare: `${round((oursMs / totalMs) * 100, 0)} %`,
  };
}

/** Times every query and transaction of the app's database (PGlite here). */
function timeDatabase(app: App, into: Array<[number, number]>) {
  const db = app.store.db as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const m of ['query', 'exec', 'transaction']) {
    const orig = db[m]!.bind(db);
    db[m] = async (...a: unknown[]) => {
      const s = performance.now();
      try {
        return await orig(...a);
      } finally {
        into.push([s, performance.now()]);
      }
    };
  }
}

export async function benchE2e(latencies = [0, 50], runs = 5): Promise<E2eRow[]> {
  const tmp = tempDir('e2e');
  const deps = await startDeps(tmp.dir, 0, false);
  const info = deps.info;
  const connector = await startConnector();
  const app = await createApp({
    config: loadConfig({ PORT: '0', LOG_LEVEL: 'silent', AZURE_MODE: 'simulator', ARM_ENDPOINT: info.armEndpoint, ARM_CA_FILE: info.caPath, DATA_DIR: `${tmp.dir}/data` }),
    policy: POLICY,
  });
  const calls: Interval[] = [];
  const db: Array<[number, number]> = [];
  app.arm.onCall((c) => {
    const end = performance.now();
    calls.push({ start: end - c.durationMs, end, path: c.path });
  });
  timeDatabase(app, db);
  const rows: E2eRow[] = [];
  try {
    for (const target of Object.keys(forms)) {
      await getJson(`${info.control}/latency`, { ms: 0 });
      await oneRequest(app, connector, target, calls, db, 0); // warm-up
      for (const latencyMs of latencies) {
        await getJson(`${info.control}/latency`, { ms: latencyMs });
        const got: E2eRow[] = [];
        for (let i = 0; i < runs; i++) got.push(await oneRequest(app, connector, target, calls, db, latencyMs));
        // The run with the median total, so its parts add up.
        const mid = median(got.map((r) => r.totalMs));
        rows.push(got.find((r) => r.totalMs === mid)!);
      }
    }
  } finally {
    await app.close();
    await connector.close();
    await deps.stop();
    tmp.remove();
  }
  return rows;
}
