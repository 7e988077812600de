// `npm run bench [-- scenario…]`: runs the benchmarks, prints a table per scenario and writes
// JSON to bench/results/. Not part of `npm test`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchChecks, FLUID_RELAY_DEPTH } from './checks.bench';

const scenarios: Record<string, () => Promise<unknown>> = {
  checks: async () => {
    const rows = await benchChecks();
    console.log(`\nPrerequisite run (Fluid Relay, full catalogue), median of 5; floor = depth ${FLUID_RELAY_DEPTH} × latency; target ratio ≤ 1.3`);
    console.table(rows.map((r) => ({ ...r, target: r.ratioToFloor === null ? '—' : r.ratioToFloor <= 1.3 ? 'met' : 'MISSED' })));
    return rows;
  },
};

async function main() {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length ? wanted : Object.keys(scenarios);
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) };
  console.log(`machine: ${JSON.stringify(machine)}`);
  mkdirSync('bench/results', { recursive: true });
  for (const name of names) {
    const run = scenarios[name];
    if (!run) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
    const result = await run();
    writeFileSync(`bench/results/${name}.json`, JSON.stringify({ at: new Date().toISOString(), machine, result }, null, 2));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
