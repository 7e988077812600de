// Footprint: start-up time to ready (spawn of `node --import tsx src/main.ts` → first 200 from
// GET /readyz, which needs the database and ARM to answer) on a cold PGlite (empty data folder:
// initdb + migrations), a warm PGlite (existing folder) and PostgreSQL (a throwaway database:
// cold = empty, migrations run; warm = migrated); RSS at ready, idle, and under scenario 1's load
// (50 concurrent clients, Slack then Teams), for PGlite and PostgreSQL.
// `npm run bench -- footprint`
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AMOUNT, oursCell } from './ack.bench';
import { rssMB, sleep } from './lib/proc';
import { median } from './lib/stats';
import { botEnv, readMemProbe, startDeps, startServer, tempDir } from './lib/stack';

const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface StartupRow {
  database: string;
  start: 'cold' | 'warm';
  runs: number;
  listeningMs: number;
  readyMs: number;
  readyMsAll: string;
  rssAtReadyMB: number;
  rssIdleMB: number;
  target: string;
}

export interface LoadRssRow {
  database: string;
  rssIdleMB: number;
  slackPeakMB: number;
  teamsPeakMB: number;
  afterMB: number;
  /** V8 heap (total) at its peak: the rest of RSS is PGlite's WebAssembly memory, code and buffers. */
  heapTotalPeakMB: number;
  slackP99: number;
  teamsP99: number;
  target: string;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function benchFootprint(runs = 3, idleMs = 2000): Promise<{ startup: StartupRow[]; load: LoadRssRow[] }> {
  const tmp = tempDir('footprint');
  const dependencies = await startDeps(tmp.dir);
  const deps = dependencies.info;
  const databases: string[] = [];
  const newDatabase = async () => {
    const name = `cmk_bench_${randomBytes(4).toString('hex')}`;
    await admin((c) => c.query(`CREATE DATABASE ${name}`));
    databases.push(name);
    return `postgres://postgres@127.0.0.1:5432/${name}`;
  };
  const startup: StartupRow[] = [];
  const load: LoadRssRow[] = [];
  const one = async (env: Record<string, string>) => {
    const bot = await startServer('src/main.ts', env);
    const atReady = rssMB(bot.child.pid);
    await sleep(idleMs);
    const idle = rssMB(bot.child.pid);
    await bot.child.stop();
    return { listeningMs: bot.listeningMs, readyMs: bot.readyMs, atReady, idle };
  };
  const row = (database: string, start: 'cold' | 'warm', got: Array<Awaited<ReturnType<typeof one>>>): StartupRow => {
    const readyMs = Math.round(median(got.map((g) => g.readyMs)));
    return {
      database,
      start,
      runs: got.length,
      listeningMs: Math.round(median(got.map((g) => g.listeningMs))),
      readyMs,
      readyMsAll: got.map((g) => Math.round(g.readyMs)).join(' / '),
      rssAtReadyMB: Math.round(median(got.map((g) => g.atReady))),
      rssIdleMB: Math.round(median(got.map((g) => g.idle))),
      target: start === 'warm' ? (readyMs <= 3000 ? 'met (≤ 3 s)' : 'MISSED (> 3 s)') : '— (no target)',
    };
  };
  try {
    // Not measured: the first start compiles the TypeScript into tsx's cache; every measured start below finds it warm.
    await one(botEnv(deps, `${tmp.dir}/prime`));

    const cold = [];
    let dir = '';
    for (let i = 0; i < runs; i++) {
      dir = `${tmp.dir}/pglite-${i}`;
      cold.push(await one(botEnv(deps, dir)));
    }
    startup.push(row('PGlite', 'cold', cold));
    const warm = [];
    for (let i = 0; i < runs; i++) warm.push(await one(botEnv(deps, dir)));
    startup.push(row('PGlite', 'warm', warm));

    const pgCold = [];
    let url = '';
    for (let i = 0; i < runs; i++) {
      url = await newDatabase();
      pgCold.push(await one(botEnv(deps, `${tmp.dir}/pg-${i}`, { DATABASE_URL: url })));
    }
    startup.push(row('PostgreSQL', 'cold', pgCold));
    const pgWarm = [];
    for (let i = 0; i < runs; i++) pgWarm.push(await one(botEnv(deps, `${tmp.dir}/pg-warm`, { DATABASE_URL: url })));
    startup.push(row('PostgreSQL', 'warm', pgWarm));

    // Under scenario 1's load: a warm start, idle, then 50 concurrent clients on each channel.
    for (const [database, env] of [
      ['PGlite', botEnv(deps, dir)],
      ['PostgreSQL', botEnv(deps, `${tmp.dir}/pg-load`, { DATABASE_URL: url })],
    ] as const) {
      const memprobe = `${tmp.dir}/memprobe-${database}.json`;
      const ours = await startServer('src/main.ts', env, '/readyz', { memprobe });
      try {
        await sleep(idleMs);
        const idle = rssMB(ours.child.pid);
        const stack = { deps, depsChildren: dependencies.children, ours, memprobe };
        await oursCell(stack, 'slack', 10, 100); // warm-up
        await oursCell(stack, 'teams', 10, 100);
        const slack = await oursCell(stack, 'slack', 50, AMOUNT[50]);
        const teams = await oursCell(stack, 'teams', 50, AMOUNT[50]);
        const after = rssMB(ours.child.pid);
        const peak = Math.max(slack.rssPeakMB, teams.rssPeakMB);
        const mem = readMemProbe(memprobe);
        load.push({
          database,
          rssIdleMB: Math.round(idle),
          slackPeakMB: slack.rssPeakMB,
          teamsPeakMB: teams.rssPeakMB,
          afterMB: Math.round(after),
          heapTotalPeakMB: Math.round((mem?.peak.heapTotal ?? 0) / 1e6),
          slackP99: slack.p99,
          teamsP99: teams.p99,
          target: peak <= 200 ? 'met (≤ 200 MB)' : `MISSED (${peak} MB)`,
        });
      } finally {
        await ours.child.stop();
      }
    }
  } finally {
    await dependencies.stop();
    for (const name of databases) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
    tmp.remove();
  }
  return { startup, load };
}
