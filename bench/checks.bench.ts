// Prerequisite run against the simulator with injected ARM latency: wall time, ARM calls made,
// distinct reads, and the ratio of wall time to the floor (dependency depth × latency), for the
// full Fluid Relay and Chaos Studio catalogues; plus the sequential sum for contrast.
// `npm run bench -- checks`
import { SdkArmGateway, staticTokenCredential } from '../src/azure/sdk-gateway';
import type { CmkSubject } from '../src/checks/facts';
import { runChecks } from '../src/checks/runner';
import type { Check } from '../src/checks/types';
import { SIM_KEY_VERSION_CURRENT, startSimulator } from '../src/simulator';
import { chaosTarget } from '../src/targets/chaos-experiment.target';
import { fluidRelayTarget } from '../src/targets/fluid-relay.target';
import { chaosExperimentForm, fluidRelayForm } from '../test/helpers/forms';
import { median, round } from './lib/stats';

/** lookup → vault → role assignments → role definitions: the longest chain of dependent reads. */
export const FLUID_RELAY_DEPTH = 4;
/** storage account (it names the key) → vault lookup → vault → role assignments at the key → role definitions. */
export const CHAOS_DEPTH = 5;

export interface ChecksRow {
  target: string;
  latencyMs: number;
  checks: number;
  armCalls: number;
  distinctReads: number;
  /** Round trips on the critical path, read off the simulator's arrival times (at 200 ms). */
  observedDepth: number | null;
  depth: number;
  wallMs: number;
  floorMs: number;
  ratioToFloor: number | null;
  sequentialMs: number;
  target13: string;
}

interface Case {
  name: string;
  depth: number;
  subject: CmkSubject;
  checks: readonly Check[];
}

export function checkCases(): Case[] {
  // The schemas take the form fields they know and ignore the rest (targetType, storagesku…).
  const fr = fluidRelayTarget.schema.parse(fluidRelayForm('fr-bench', { keyVersion: SIM_KEY_VERSION_CURRENT }));
  const chaos = chaosTarget.schema.parse(chaosExperimentForm('exp-bench'));
  return [
    { name: 'fluid-relay', depth: FLUID_RELAY_DEPTH, subject: fluidRelayTarget.subject(fr), checks: fluidRelayTarget.checks },
    { name: 'chaos-experiment', depth: CHAOS_DEPTH, subject: chaosTarget.subject(chaos), checks: chaosTarget.checks },
  ];
}

export async function benchChecks(latencies = [0, 50, 200], runs = 5): Promise<ChecksRow[]> {
  const sim = await startSimulator();
  const arm = new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries: 0 });
  const rows: ChecksRow[] = [];
  try {
    for (const c of checkCases()) {
      sim.setLatency(0);
      await runChecks(arm, c.subject, c.checks); // warm TLS session and JIT
      for (const latencyMs of latencies) {
        sim.setLatency(latencyMs);
        const walls: number[] = [];
        let calls = 0;
        let distinct = 0;
        let observed: number | null = null;
        for (let i = 0; i < runs; i++) {
          sim.requests.length = 0;
          const t0 = performance.now();
          const results = await runChecks(arm, c.subject, c.checks);
          walls.push(performance.now() - t0);
          if (results.some((r) => r.status === 'error')) throw new Error(`${c.name}: a check could not be evaluated: ${JSON.stringify(results.filter((r) => r.status === 'error'))}`);
          calls = sim.requests.length;
          distinct = new Set(sim.requests.map((r) => `${r.method} ${r.path.toLowerCase()}?${JSON.stringify(r.query)}`)).size;
          if (latencyMs >= 100) {
            const first = Math.min(...sim.requests.map((r) => r.at));
            observed = Math.max(...sim.requests.map((r) => Math.round((r.at - first) / latencyMs))) + 1;
          }
        }
        const wallMs = median(walls);
        const floorMs = c.depth * latencyMs;
        const r = floorMs ? round(wallMs / floorMs, 2) : null;
        rows.push({
          target: c.name,
          latencyMs,
          checks: c.checks.length,
          armCalls: calls,
          distinctReads: distinct,
          observedDepth: observed,
          depth: c.depth,
          wallMs: Math.round(wallMs),
          floorMs,
          ratioToFloor: r,
          sequentialMs: calls * latencyMs,
          target13: r === null ? (distinct === calls ? '— (reads once each)' : 'MISSED: a read repeated') : r <= 1.3 && distinct === calls ? 'met' : 'MISSED',
        });
      }
    }
  } finally {
    await sim.close();
  }
  return rows;
}
