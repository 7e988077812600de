// Starting what a scenario measures: the dependency process and the bot as a child process on
// its production entry point (dist/main.js, bench/lib/build.ts), configured through the
// environment exactly as deployed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DepsInfo, DepsStats } from '../servers/deps';
import { benchBuild } from './build';
import { getJson, type RssSampler, sampleRss, sleep, spawnNode, type Child } from './proc';

export const SLACK_SECRET = 'bench-signing-secret';

export interface MemProbe {
  now: Record<string, number>;
  peak: Record<string, number>;
  tlsConnects: number;
}

/** What bench/lib/memprobe.ts (compiled by bench/lib/build.ts) last wrote, or undefined. */
export function readMemProbe(file: string): MemProbe | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as MemProbe;
  } catch {
    return undefined;
  }
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `cmk-bench-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Deps {
  info: DepsInfo;
  /** The simulator's process and, when started, the chat stand-ins' process. */
  children: Child[];
  stop(): Promise<void>;
}

/** The simulator in one process and (unless `chat` is false) the chat stand-ins in another. */
export async function startDeps(dir: string, latencyMs = 0, chat = true, budget = false): Promise<Deps> {
  const start = async (parts: string) => {
    const child = spawnNode('bench/servers/deps.ts', { BENCH_PARTS: parts, BENCH_TLS_DIR: join(dir, 'tls'), BENCH_SIM_LATENCY: String(latencyMs), BENCH_BUDGET: budget ? '1' : '0' });
    const m = await child.waitFor(/BENCH_DEPS (\{.*\})\n/, 60_000);
    return { child, info: JSON.parse(m[1]!) as Partial<DepsInfo> };
  };
  const started = await Promise.all([start('azure'), ...(chat ? [start('chat')] : [])]);
  const info = Object.assign({}, ...started.map((s) => s.info)) as DepsInfo;
  const children = started.map((s) => s.child);
  return { info, children, stop: async () => void (await Promise.all(children.map((c) => c.stop()))) };
}

/** The environment of `npm start` pointed at the benchmark's dependency process. */
export function botEnv(deps: DepsInfo, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    AZURE_MODE: 'simulator',
    ARM_ENDPOINT: deps.armEndpoint,
    ARM_CA_FILE: deps.caPath,
    POLICY_FILE: 'policy/local.policy.yaml',
    LOG_LEVEL: 'warn',
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    SLACK_BOT_TOKEN: deps.slackBotToken,
    SLACK_API_URL: deps.slackApiUrl,
    ...extra,
  };
}

export interface StartedBot {
  child: Child;
  url: string;
  /** spawn → the "listening on" line. */
  listeningMs: number;
  /** spawn → the first 200 from GET /readyz. */
  readyMs: number;
  /** RSS sampled from spawn on (ServerOptions.startRssEveryMs): the caller stops it. */
  startRss?: RssSampler;
}

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

export interface ServerOptions {
  /** Where the memory probe (bench/lib/memprobe.ts, compiled and preloaded) writes process.memoryUsage(). */
  memprobe?: string;
  /** `--cpu-prof` into this folder (written when the process exits). */
  cpuProfDir?: string;
  /** More node flags (diagnostics, e.g. a heap limit to see what the live set is). */
  nodeArgs?: string[];
  /** Sample RSS this often from spawn on (a start-up's peak passes within a few hundred ms). */
  startRssEveryMs?: number;
}

/**
 * `node <script>` (the bot: dist/main.js with start:prod's flags, see bench/lib/build.ts) until it
 * prints "listening on" and, unless readyPath is null, GET readyPath answers 200.
 */
export async function startServer(script: string, env: Record<string, string>, readyPath: string | null = '/readyz', opts: ServerOptions = {}): Promise<StartedBot> {
  const t0 = performance.now();
  const build = benchBuild();
  const child = spawnNode(script, opts.memprobe ? { ...env, BENCH_MEMPROBE_FILE: opts.memprobe } : env, {
    // Every measured server (ours and the bare bots) on the Node.js production runs.
    node: build.node,
    preload: opts.memprobe ? [build.memprobe] : [],
    // Our bot with production's flags (npm run start:prod), then any diagnostics.
    nodeArgs: [...(script === build.bot ? build.botNodeArgs : []), ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : []), ...(opts.nodeArgs ?? [])],
  });
  const startRss = opts.startRssEveryMs ? sampleRss(child.pid, opts.startRssEveryMs) : undefined;
  try {
    const m = await child.waitFor(LISTENING, 90_000);
    const listeningMs = performance.now() - t0;
    const url = m[1]!;
    if (readyPath === null) return { child, url, listeningMs, readyMs: listeningMs, startRss };
    for (;;) {
      try {
        const res = await fetch(`${url}${readyPath}`);
        await res.text();
        if (res.status === 200) break;
      } catch {
        // not accepting yet
      }
      if (performance.now() - t0 > 90_000) throw new Error(`${script} not ready within 90 s:\n${child.output().slice(-3000)}`);
      await sleep(10);
    }
    return { child, url, listeningMs, readyMs: performance.now() - t0, startRss };
  } catch (e) {
    startRss?.stop();
    throw e;
  }
}

/** Counters of both dependency processes, merged. */
async function depsStats(deps: DepsInfo): Promise<DepsStats> {
  const all = await Promise.all([deps.control, deps.chatControl].filter(Boolean).map((c) => getJson<DepsStats>(`${c}/stats`)));
  return all.reduce((a, b) => ({
    armRequests: a.armRequests + b.armRequests,
    armWrites: a.armWrites + b.armWrites,
    slackCalls: a.slackCalls + b.slackCalls,
    slackErrors: { ...a.slackErrors, ...b.slackErrors },
    slackByMethod: { ...a.slackByMethod, ...b.slackByMethod },
    slackOpened: { loading: a.slackOpened.loading + b.slackOpened.loading, form: a.slackOpened.form + b.slackOpened.form, other: a.slackOpened.other + b.slackOpened.other },
    slackResponses: a.slackResponses + b.slackResponses,
    connectorActivities: a.connectorActivities + b.connectorActivities,
    budgetThrottled: a.budgetThrottled ?? b.budgetThrottled,
  }));
}

/** A gauge from the bot's GET /metrics (Prometheus text), or undefined when it has none. */
export async function gauge(botUrl: string, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${botUrl}/metrics`)).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the bot's work after the answers has finished: no new ARM request, Slack Web API
 * call or connector activity for `quietMs`, and `done()` (when given) agrees. Returns how long
 * that took after the call.
 */
export async function quiesce(deps: DepsInfo, quietMs = 1000, maxMs = 240_000, done?: (s: DepsStats) => Promise<boolean>): Promise<{ ms: number; stats: DepsStats }> {
  const t0 = performance.now();
  let last = await depsStats(deps);
  let since = performance.now();
  for (;;) {
    await sleep(200);
    const s = await depsStats(deps);
    if (s.armRequests !== last.armRequests || s.slackCalls !== last.slackCalls || s.connectorActivities !== last.connectorActivities) {
      last = s;
      since = performance.now();
    } else if (performance.now() - since >= quietMs && (!done || (await done(s)))) {
      return { ms: Math.round(since - t0), stats: s };
    }
    if (performance.now() - t0 > maxMs) throw new Error(`the bot did not go quiet within ${maxMs} ms: ${JSON.stringify(s)}`);
  }
}

export async function mintTriggers(deps: DepsInfo, n: number): Promise<string[]> {
  return (await getJson<{ ids: string[] }>(`${deps.chatControl}/triggers`, { n, user: 'U0ALEX' })).ids;
}

/** Fresh response_url values (each takes 5 posts, as Slack's). */
export async function mintResponseUrls(deps: DepsInfo, n: number): Promise<string[]> {
  return (await getJson<{ urls: string[] }>(`${deps.chatControl}/responseUrls`, { n, user: 'U0ALEX' })).urls;
}

export async function clearDeps(deps: DepsInfo): Promise<void> {
  await Promise.all([deps.control, deps.chatControl].filter(Boolean).map((c) => getJson(`${c}/clear`, {})));
}
