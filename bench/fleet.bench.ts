// Fleet rotation at scale: one `rotate-key` request over 200 resources (80 Fluid Relay servers in
// one subscription, 60 storage accounts in each of two others), approved once, written with
// bounded concurrency through the real SDK gateway. The simulator enforces ARM's per-subscription
// write budget (token bucket, throttling on): a write ARM would refuse is answered 429 and counted,
// and the row shows whether every member still ended verified (no 429 left unhandled). Two budgets:
// - `arm`: ARM's documented buckets (writes 200 burst, refilled 10/s per subscription; reads 250, 25/s);
// - `tight`: writes 20 burst, refilled 2/s — a budget already mostly spent by other tools.
// The bot runs in this process (createApp, embedded PGlite, Teams over the connector stand-in).
// `npm run bench -- fleet`
import { SIM_KEY, SIM_RBAC_VAULT, simKeyUrl } from '../src/simulator';
import { parsePolicy } from '../src/workflow/policy';
import { stateWords } from '../src/workflow/texts';
import { startBot } from '../test/helpers/bot';
import { cardText, clickData } from '../test/helpers/connector';
import { seedFleet, submitRotation } from '../test/helpers/fleet';
import { BOB, cardAction, post } from '../test/helpers/teams';
import { round } from './lib/stats';

const POLICY = parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n`, 'bench-policy');

export const FLEET_BENCH = { servers: 80, sandboxAccounts: 60, labsAccounts: 60 };

export interface FleetRow {
  budget: 'arm' | 'tight';
  /** How the request ended: done, partly done, failed. */
  state: string;
  writeBudget: string;
  members: number;
  /** Submission → the request card listing them all (inventory, one plan and the checks per member). */
  checksMs: number;
  /** Approval → done (checks again, every write, every verification). */
  executionMs: number;
  patches: number;
  /** Writes ARM (the simulator) refused with 429 — each retried after its Retry-After by the gateway. */
  throttled: number;
  verified: number;
  failed: number;
  /** The failed members' codes and messages (none expected: a 429 is waited out, not a failure). */
  failures: string;
  writesPerSecond: number;
  /** The most PATCHes any one subscription took in one second: ARM refills 10/s (`arm`) or 2/s (`tight`). */
  peakWritesPerSecondOneSubscription: number;
  armReads: number;
}

async function run(budget: FleetRow['budget']): Promise<FleetRow> {
  const bot = await startBot(POLICY, {}, undefined, { armTuning: { maxRetries: 8, defaultPollMs: 50 } });
  try {
    const writes = budget === 'arm' ? { burst: 200, perSecond: 10 } : { burst: 20, perSecond: 2 };
    bot.sim.setThrottle({ reads: { burst: 250, perSecond: 25 }, writes });
    const ids = seedFleet(bot.sim, FLEET_BENCH, 'bn');
    const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    const formMsg = `form-bench-${budget}`;
    const started = performance.now();
    await submitRotation(bot.app.url, bot.connector, `rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`, formMsg, { timeoutMs: 30_000 });
    await bot.connector.waitFor((a) => a.id === formMsg && /Waiting for 1 more approval/.test(cardText(a.activity)), 600_000, 'request card');
    const checksMs = performance.now() - started;
    const readsBefore = bot.sim.requests.filter((r) => r.method === 'GET').length;
    const writesFrom = bot.sim.requests.length;
    const approved = performance.now();
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg));
    // The end: the request done, partly done or failed (not a progress line on the way).
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /This request is (done|partly done|failed)/.test(cardText(a.activity)), 900_000, 'done');
    const executionMs = performance.now() - approved;
    const requestId = /Request: (CR-[A-Z0-9]{6})/.exec(cardText(bot.connector.messages.get(formMsg)))?.[1];
    const req = requestId ? await bot.store.getRequest(requestId) : null;
    const during = bot.sim.requests.slice(writesFrom);
    const patches = during.filter((r) => r.method === 'PATCH');
    const perSubSecond = new Map<string, number>();
    for (const p of patches.filter((r) => r.status !== 429)) {
      const k = `${p.path.split('/')[2]}|${Math.floor(p.at / 1000)}`;
      perSubSecond.set(k, (perSubSecond.get(k) ?? 0) + 1);
    }
    const outcomes = req?.result?.members ?? [];
    return {
      budget,
      state: req ? stateWords(req) : 'unknown',
      writeBudget: `${writes.burst} burst, ${writes.perSecond}/s per subscription`,
      members: ids.length,
      checksMs: round(checksMs),
      executionMs: round(executionMs),
      patches: patches.length,
      throttled: patches.filter((r) => r.status === 429).length,
      verified: outcomes.filter((o) => o.status === 'verified').length,
      failed: outcomes.filter((o) => o.status === 'failed').length,
      failures: [...new Set(outcomes.filter((o) => o.status === 'failed').map((o) => `${o.code}: ${o.message.slice(0, 120)}`))].join(' | '),
      writesPerSecond: round(patches.filter((r) => r.status !== 429).length / (executionMs / 1000)),
      peakWritesPerSecondOneSubscription: Math.max(0, ...perSubSecond.values()),
      armReads: bot.sim.requests.filter((r) => r.method === 'GET').length - readsBefore,
    };
  } finally {
    await bot.close();
  }
}

export async function benchFleet(): Promise<FleetRow[]> {
  return [await run('arm'), await run('tight')];
}
