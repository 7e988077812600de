// `npm run bench [-- scenario…]`: runs the benchmarks, prints a table per scenario and writes
// JSON to bench/results/<scenario>.json. Not part of `npm test`. Scenarios: ack, checks, e2e,
// footprint, sessions, scale, fleet, watch (all when none is named).
import { execFileSync, execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchAck } from './ack.bench';
import { benchChecks } from './checks.bench';
import { benchE2e } from './e2e.bench';
import { benchFootprint } from './footprint.bench';
import { productionNode } from './lib/build';
import { ROOT } from './lib/proc';
import { summarizeProfiles } from './lib/profile';
import { benchScale } from './scale.bench';
import { benchWatch } from './watch';
import { benchFleet } from './fleet.bench';
import { benchSessions } from './sessions.bench';

const profile = process.argv.includes('--profile');

const scenarios: Record<string, () => Promise<unknown>> = {
  ack: async () => {
    // --profile: our bot runs with --cpu-prof (slower: for finding out why, not for the numbers).
    const profileDir = profile ? join(ROOT, 'bench', 'results', 'profiles', `ack-${Date.now()}`) : undefined;
    const r = await benchAck(profileDir);
    console.log('\nAcknowledgement latency (ms) under load; every server a child process, autocannon in the driver');
    console.table(
      r.rows.map(({ channel, server, command, connections, requests, timeouts, rps, p50, p95, p99, max, rssPeakMB, cpuMsPerReq, armCallsPerReq, followUpDone }) => ({
        channel,
        server,
        command,
        connections,
        requests,
        timeouts,
        rps,
        p50,
        p95,
        p99,
        max,
        rssPeakMB,
        cpuMsPerReq,
        armCallsPerReq,
        followUpDone,
      })),
    );
    console.log('ours / bare (target at 50 concurrent: p99 ≤ 250 ms and ≤ 1.5 × bare)');
    console.table(r.summary);
    if (!profileDir) return r;
    const profiles = summarizeProfiles(profileDir);
    for (const p of profiles) {
      console.log(`\nCPU profile of our bot (${p.totalMs} ms busy): ${p.file}`);
      console.table(p.byPackage);
      console.table(p.topFunctions);
    }
    return { ...r, profiles };
  },
  checks: async () => {
    const rows = await benchChecks();
    console.log('\nPrerequisite run (full catalogue), median of 5; floor = dependency depth × latency; target ratio ≤ 1.3 and each read once');
    console.table(rows);
    return rows;
  },
  e2e: async () => {
    const rows = await benchE2e();
    console.log('\nEnd-to-end request over Teams (submission → verified, approvals automated), the median of 5 runs');
    console.table(rows);
    return rows;
  },
  footprint: async () => {
    const r = await benchFootprint();
    console.log('\nStart-up to ready (spawn → GET /readyz 200) and RSS; target ready ≤ 3 s warm');
    console.table(r.startup);
    console.log(
      'Under load, rounds of 50 clients (Slack, Teams), the bare bots in the same rounds; p99 ms ours · bare per round; targets: PostgreSQL peak ≤ 256 MB and p99 ≤ 250 ms, PGlite peak ≤ 400 MB and p99 ≤ 3 × bare (median of the rounds); slackHelpP99/teamsHelpP99: our `help` (ack and one reply, no form) in the same rounds, for contrast',
    );
    console.table(r.load);
    return r;
  },
  sessions: async () => {
    const rows = await benchSessions();
    console.log("\nThe database statements on a Slack form's path, embedded PGlite, production's runtime and flags; CPU per statement over 600");
    console.table(rows);
    return rows;
  },
  scale: async () => {
    const rows = await benchScale();
    console.log('\nCheck runs for N requests at once; ARM reads against the subscription read budget (token bucket 250, +25/s)');
    console.table(rows);
    return rows;
  },
  fleet: async () => {
    const rows = await benchFleet();
    console.log('\nFleet rotation: one rotate-key request over 200 resources in 3 subscriptions, approved once; writes against the write budget (the simulator answers 429 past it)');
    console.table(rows);
    return rows;
  },
  watch: async () => {
    const rows = await benchWatch();
    console.log('\nWatchdog scan: 5,000 CMK resources over 50 subscriptions sharing 40 keys; ARM reads against the read budget (token bucket 250, +25/s per subscription)');
    console.table(rows);
    return rows;
  },
};

function gitHead(): string | undefined {
  try {
    const head = execSync('git rev-parse --short HEAD', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execSync('git status --porcelain -- src', { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    return dirty ? `${head} (+ uncommitted changes in src/)` : head;
  } catch {
    return undefined;
  }
}

async function main() {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length ? wanted : Object.keys(scenarios);
  for (const name of names) if (!scenarios[name]) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  // The scenarios that measure in child processes (ack, footprint, sessions) run them on the image's
  // Node.js major (bench/lib/build.ts); the others run the bot in this process.
  const childServers = names.some((n) => n === 'ack' || n === 'footprint' || n === 'sessions');
  const machine = {
    node: process.version,
    ...(childServers ? { serversNode: execFileSync(productionNode(), ['-v'], { encoding: 'utf8' }).trim() } : {}),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    loadAvg1m: Math.round(loadavg()[0]! * 100) / 100,
    commit: gitHead(),
  };
  console.log(`machine: ${JSON.stringify(machine)}`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    const started = performance.now();
    const result = await scenarios[name]!();
    const seconds = Math.round((performance.now() - started) / 1000);
    console.log(`${name}: ${seconds} s`);
    const file = profile ? `${name}-profile.json` : `${name}.json`;
    writeFileSync(join(dir, file), JSON.stringify({ at: new Date().toISOString(), command: `npm run bench -- ${name}${profile ? ' --profile' : ''}`, machine, seconds, result }, null, 2));
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
