// Acknowledgement latency under load: the Slack slash command `/cmk new fluid-relay` (signed,
// until the HTTP ack) and the Teams message `new fluid-relay` (until POST /api/messages answers,
// i.e. the turn including the form's ARM reads and its post to the connector), at 1, 10 and 50
// concurrent clients; with a bare Bolt app and a bare Agents SDK echo bot measured in the same
// run on the same machine. Every server is a child process; autocannon runs in this process.
// `npm run bench -- ack`
import type { DepsInfo, DepsStats } from './servers/deps';
import { benchBuild } from './lib/build';
import { runLoad, runLoadWarm, slackSlash, teamsMessage, type Built, type LoadCell } from './lib/load';
import { cpuMs, sampleRss, type Child } from './lib/proc';
import { ratio, round } from './lib/stats';
import { botEnv, clearDeps, gauge, mintResponseUrls, mintTriggers, quiesce, readMemProbe, SLACK_SECRET, startDeps, startServer, tempDir, type StartedBot } from './lib/stack';

export type Channel = 'slack' | 'teams';

const LEVELS = [1, 10, 50] as const;
/** Requests per cell: bounded, so the work the bot does after each ack drains in seconds. */
export const AMOUNT: Record<number, number> = { 1: 150, 10: 400, 50: 600 };
export const COMMAND = 'new fluid-relay';

export interface AckRow extends LoadCell {
  channel: Channel;
  server: 'ours' | 'bare';
  command: string;
  /** The server's RSS peak during the cell. */
  rssPeakMB: number;
  /** After the last answer, until the work the cell's requests started had finished (ours). */
  drainMs?: number;
  /** Replies done / requests (ours): Slack forms filled in (views.update that succeeded, or opened whole) or response_url posts (help); Teams activities posted. */
  followUpDone?: string;
  /** Slack Web API errors in that follow-up work, by method:error (ours). */
  followUpErrors?: string;
  /** Our bot's V8 heap (total, at its peak so far) and ArrayBuffers (PGlite's WebAssembly memory) after the cell. */
  heapTotalPeakMB?: number;
  arrayBuffersMB?: number;
  /** TLS connections our bot opened (to the simulator) per request in the cell. */
  tlsConnectsPerReq?: number;
  /** ARM requests the simulator received per request (the form's pickers). */
  armCallsPerReq: number;
  /** Slack Web API calls per request, by method. */
  slackCallsPerReq: string;
  /** CPU ms per request of the server, the simulator's process, the chat stand-ins' process and the load generator (load + drain). */
  cpuMsPerReq: number;
  simCpuMsPerReq: number;
  chatCpuMsPerReq: number;
  driverCpuMsPerReq: number;
}

export interface AckSummary {
  channel: Channel;
  connections: number;
  oursP50: number;
  oursP95: number;
  oursP99: number;
  bareP99: number;
  p50Ratio: number | null;
  p95Ratio: number | null;
  p99Ratio: number | null;
  rpsRatio: number | null;
  p99Target: string;
  ratioTarget: string;
  /** What the cell's own counters say about a miss (see docs/benchmarks.md for the profile). */
  why: string;
}

export interface Stack {
  deps: DepsInfo;
  depsChildren: Child[];
  ours: StartedBot;
  /** The file bench/lib/memprobe.ts writes our bot's process.memoryUsage() to. */
  memprobe: string;
  bare?: { slack: StartedBot; teams: StartedBot };
  close(): Promise<void>;
}

/** The dependency processes, our bot (warm start) and, with `withBare`, the two bare bots. `profileDir`: --cpu-prof for our bot. */
export async function startStack(withBare: boolean, extraEnv: Record<string, string> = {}, profileDir?: string, nodeArgs: string[] = []): Promise<Stack> {
  const tmp = tempDir('ack');
  const dependencies = await startDeps(tmp.dir);
  const deps = dependencies.info;
  const env = botEnv(deps, `${tmp.dir}/data`, extraEnv);
  // The measured bot starts on an existing data folder, as after any restart: the first-ever start
  // creates the PGlite database (from the build’s empty one), which footprint measures on its own.
  const build = benchBuild();
  await (await startServer(build.bot, env)).child.stop();
  const memprobe = `${tmp.dir}/memprobe.json`;
  const ours = await startServer(build.bot, env, '/readyz', { memprobe, cpuProfDir: profileDir, nodeArgs });
  const bare = withBare
    ? {
        slack: await startServer(build.bareBolt, { SLACK_SIGNING_SECRET: SLACK_SECRET, SLACK_BOT_TOKEN: deps.slackBotToken, SLACK_API_URL: deps.slackApiUrl }, null),
        teams: await startServer(build.bareAgents, {}, null),
      }
    : undefined;
  return {
    deps,
    depsChildren: dependencies.children,
    ours,
    memprobe,
    bare,
    async close() {
      await Promise.all([ours.child.stop(), bare?.slack.child.stop(), bare?.teams.child.stop()]);
      await dependencies.stop();
      tmp.remove();
    },
  };
}

async function builderFor(deps: DepsInfo, channel: Channel, amount: number, connections: number, command = COMMAND): Promise<() => Built> {
  if (channel === 'teams') return teamsMessage(deps.connectorUrl, command);
  // One trigger id and response_url per request (views.open takes each trigger once), plus the
  // ones each connection builds ahead.
  const n = amount + 4 * connections + 10;
  const [triggers, urls] = await Promise.all([mintTriggers(deps, n), mintResponseUrls(deps, n)]);
  return slackSlash(SLACK_SECRET, command, triggers, urls);
}

interface Cpu {
  server: number;
  azure: number;
  chat: number;
  driver: number;
}

function cpuNow(serverPid: number, deps: Child[]): Cpu {
  const u = process.cpuUsage();
  return { server: cpuMs(serverPid), azure: cpuMs(deps[0]!.pid), chat: deps[1] ? cpuMs(deps[1].pid) : 0, driver: (u.user + u.system) / 1000 };
}

const perRequest = (a: number, b: number, n: number) => round((b - a) / Math.max(1, n), 2);

/** fresh: autocannon, a new connection per client per cell; warm: connections opened before the first measured request (runLoadWarm). */
export type Shape = 'fresh' | 'warm';

/**
 * One cell: the load, the server's RSS peak, then (ours) the wait until the work the requests
 * started after their answers — views.open, the form's ARM reads, views.update — has finished.
 * CPU per request is counted for each process over the load and that drain.
 */

async function cell(
  stack: Pick<Stack, 'deps' | 'depsChildren'> & { memprobe?: string },
  server: StartedBot,
  kind: 'ours' | 'bare',
  channel: Channel,
  connections: number,
  amount: number,
  command = COMMAND,
  shape: Shape = 'fresh',
): Promise<AckRow> {
  const build = await builderFor(stack.deps, channel, amount, connections, command);
  const rss = sampleRss(server.child.pid);
  const c0 = cpuNow(server.child.pid, stack.depsChildren);
  const tls0 = kind === 'ours' && stack.memprobe ? (readMemProbe(stack.memprobe)?.tlsConnects ?? 0) : 0;
  const load = await (shape === 'warm' ? runLoadWarm : runLoad)(server.url, connections, amount, build);
  // Every opened modal ends filled in (views.update) or with an ephemeral error; and the bot says
  // it runs no job any more (GET /metrics, when it has the gauge).
  const finished = async (st: DepsStats) => {
    if (server.child.proc.exitCode !== null || server.child.proc.signalCode !== null) throw new Error(`${kind}/${channel}/${connections}: the server exited:\n${server.child.output().slice(-2000)}`);
    if (kind === 'bare') return true;
    const failed = (m: string) =>
      Object.entries(st.slackErrors)
        .filter(([k]) => k.startsWith(`${m}:`))
        .reduce((a, [, v]) => a + v, 0);
    // A form opened whole (or a notice) is done at once: only loading modals wait for their update.
    const opened = st.slackOpened.loading;
    const ended = (st.slackByMethod['views.update'] ?? 0) - failed('views.update') + (st.slackByMethod['chat.postEphemeral'] ?? 0);
    return ended >= opened && ((await gauge(server.url, 'cmk_jobs_running')) ?? 0) === 0;
  };
  const q = await quiesce(stack.deps, kind === 'ours' ? 1000 : 300, 240_000, finished);
  const c1 = cpuNow(server.child.pid, stack.depsChildren);
  const { peakMB } = rss.stop();
  const where = `${kind}/${channel}/${connections}`;
  if (load.non2xx || load.errors > load.timeouts) throw new Error(`${where}: ${load.errors} errors, ${load.non2xx} non-2xx, ${load.timeouts} timeouts`);
  const work = q.stats;
  const calls = Object.entries(work.slackByMethod)
    .map(([m, v]) => `${m} ${round(v / load.requests, 2)}`)
    .join(', ');
  const errors = Object.values(work.slackErrors).reduce((a, b) => a + b, 0);
  const done =
    channel === 'teams'
      ? work.connectorActivities
      : command === COMMAND
        ? (work.slackByMethod['views.update'] ?? 0) -
          Object.entries(work.slackErrors)
            .filter(([k]) => k.startsWith('views.update:'))
            .reduce((a, [, v]) => a + v, 0) +
          work.slackOpened.form
        : work.slackResponses;
  await clearDeps(stack.deps);
  const mem = kind === 'ours' && stack.memprobe ? readMemProbe(stack.memprobe) : undefined;
  return {
    channel,
    server: kind,
    command,
    ...load,
    rssPeakMB: peakMB,
    ...(mem ? { heapTotalPeakMB: Math.round((mem.peak.heapTotal ?? 0) / 1e6), arrayBuffersMB: Math.round((mem.now.arrayBuffers ?? 0) / 1e6), tlsConnectsPerReq: round((mem.tlsConnects - tls0) / load.requests, 2) } : {}),
    ...(kind === 'ours' ? { drainMs: q.ms, followUpDone: `${done}/${load.requests}`, followUpErrors: errors ? JSON.stringify(work.slackErrors) : '' } : {}),
    armCallsPerReq: round(work.armRequests / load.requests, 1),
    slackCallsPerReq: calls,
    cpuMsPerReq: perRequest(c0.server, c1.server, load.requests),
    simCpuMsPerReq: perRequest(c0.azure, c1.azure, load.requests),
    chatCpuMsPerReq: perRequest(c0.chat, c1.chat, load.requests),
    driverCpuMsPerReq: perRequest(c0.driver, c1.driver, load.requests),
  };
}

/** One cell against our bot (also used by the footprint scenario). */
export function oursCell(stack: Pick<Stack, 'deps' | 'depsChildren' | 'ours'> & { memprobe?: string }, channel: Channel, connections: number, amount = AMOUNT[connections] ?? 500, command = COMMAND, shape: Shape = 'fresh'): Promise<AckRow> {
  return cell(stack, stack.ours, 'ours', channel, connections, amount, command, shape);
}

export function bareCell(stack: Stack, channel: Channel, connections: number, amount = AMOUNT[connections] ?? 500, shape: Shape = 'fresh'): Promise<AckRow> {
  return cell(stack, stack.bare![channel], 'bare', channel, connections, amount, COMMAND, shape);
}

function whyOf(o: AckRow, b: AckRow): string {
  const parts: string[] = [];
  const authTests = /auth\.test ([\d.]+)/.exec(o.slackCallsPerReq)?.[1];
  if (o.channel === 'slack' && authTests && Number(authTests) >= 0.5) parts.push(`each ack waits for auth.test (${authTests}/request, bare ${/auth\.test ([\d.]+)/.exec(b.slackCallsPerReq)?.[1] ?? 0})`);
  if (o.channel === 'teams' && o.armCallsPerReq > 0) parts.push(`the turn makes ${o.armCallsPerReq} ARM reads before it answers`);
  parts.push(`${o.cpuMsPerReq} ms bot CPU + ${round(o.simCpuMsPerReq + o.chatCpuMsPerReq, 1)} ms stand-ins per request (bare ${b.cpuMsPerReq} ms) on 2 cores`);
  if (o.timeouts) parts.push(`${o.timeouts} acks timed out (20 s)`);
  if (o.followUpErrors) parts.push(`follow-up errors ${o.followUpErrors}`);
  return parts.join('; ');
}

export async function benchAck(profileDir?: string): Promise<{ rows: AckRow[]; summary: AckSummary[] }> {
  const stack = await startStack(true, {}, profileDir);
  const rows: AckRow[] = [];
  try {
    // Warm-up: JIT, TLS sessions to the simulator, connection pools. Not recorded.
    for (const channel of ['slack', 'teams'] as const) {
      await oursCell(stack, channel, 10, 200);
      await bareCell(stack, channel, 10, 200);
    }
    for (const channel of ['slack', 'teams'] as const) {
      for (const c of LEVELS) {
        rows.push(await bareCell(stack, channel, c));
        rows.push(await oursCell(stack, channel, c));
      }
      // For contrast, not a target: `help` needs no Azure read, so this is our turn without the form's work.
      rows.push(await oursCell(stack, channel, 50, AMOUNT[50], 'help'));
    }
  } finally {
    await stack.close();
  }
  const summary: AckSummary[] = [];
  for (const channel of ['slack', 'teams'] as const) {
    for (const c of LEVELS) {
      const o = rows.find((r) => r.channel === channel && r.server === 'ours' && r.connections === c && r.command === COMMAND)!;
      const b = rows.find((r) => r.channel === channel && r.server === 'bare' && r.connections === c)!;
      const p99Ratio = ratio(o.p99, b.p99);
      summary.push({
        channel,
        connections: c,
        oursP50: o.p50,
        oursP95: o.p95,
        oursP99: o.p99,
        bareP99: b.p99,
        p50Ratio: ratio(o.p50, b.p50),
        p95Ratio: ratio(o.p95, b.p95),
        p99Ratio,
        rpsRatio: ratio(o.rps, b.rps),
        p99Target: c === 50 ? (o.p99 <= 250 ? 'met (≤ 250 ms)' : 'MISSED (> 250 ms)') : '—',
        ratioTarget: c === 50 ? (p99Ratio !== null && p99Ratio <= 1.5 ? 'met (≤ 1.5×)' : 'MISSED (> 1.5×)') : '—',
        why: whyOf(o, b),
      });
    }
  }
  return { rows, summary };
}
