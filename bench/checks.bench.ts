// Prerequisite run against the simulator with injected ARM latency: wall time, ARM calls made,
// distinct reads, and the ratio of wall time to the floor (dependency depth × latency).
// `npm run bench -- checks`
import { SdkArmGateway, staticTokenCredential } from '../src/azure/sdk-gateway';
import { runChecks } from '../src/checks/runner';
import {
  SIM_IDENTITY,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_LOCATION,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_SUBSCRIPTION_ID,
  simIdentityId,
  simKeyUrl,
  startSimulator,
} from '../src/simulator';
import { fluidRelayTarget } from '../src/targets/fluid-relay.target';

/** lookup → vault → role assignments → role definitions: the longest chain of dependent reads. */
export const FLUID_RELAY_DEPTH = 4;

export interface ChecksRow {
  latencyMs: number;
  checks: number;
  armCalls: number;
  distinctReads: number;
  wallMs: number;
  floorMs: number;
  ratioToFloor: number | null;
  sequentialMs: number;
}

export async function benchChecks(latencies = [0, 50, 200], runs = 5): Promise<ChecksRow[]> {
  const sim = await startSimulator();
  const arm = new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries: 0 });
  const params = fluidRelayTarget.schema.parse({
    subscriptionId: SIM_SUBSCRIPTION_ID,
    resourceGroup: SIM_RG,
    name: 'fr-bench',
    location: SIM_LOCATION,
    identityId: simIdentityId(SIM_IDENTITY),
    keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
    keyVersion: SIM_KEY_VERSION_CURRENT,
  });
  const subject = fluidRelayTarget.subject(params);
  const rows: ChecksRow[] = [];
  try {
    await runChecks(arm, subject, fluidRelayTarget.checks); // warm TLS session and JIT
    for (const latencyMs of latencies) {
      sim.setLatency(latencyMs);
      const walls: number[] = [];
      let calls = 0;
      let distinct = 0;
      for (let i = 0; i < runs; i++) {
        sim.requests.length = 0;
        const t0 = performance.now();
        const results = await runChecks(arm, subject, fluidRelayTarget.checks);
        walls.push(performance.now() - t0);
        if (results.some((r) => r.status === 'error')) throw new Error(`a check could not be evaluated: ${JSON.stringify(results.filter((r) => r.status === 'error'))}`);
        calls = sim.requests.length;
        distinct = new Set(sim.requests.map((r) => `${r.path.toLowerCase()}?${JSON.stringify(r.query)}`)).size;
      }
      walls.sort((a, b) => a - b);
      const wallMs = walls[Math.floor(walls.length / 2)]!;
      const floorMs = FLUID_RELAY_DEPTH * latencyMs;
      rows.push({
        latencyMs,
        checks: fluidRelayTarget.checks.length,
        armCalls: calls,
        distinctReads: distinct,
        wallMs: Math.round(wallMs),
        floorMs,
        ratioToFloor: floorMs ? Math.round((wallMs / floorMs) * 100) / 100 : null,
        sequentialMs: calls * latencyMs,
      });
    }
  } finally {
    await sim.close();
  }
  return rows;
}
