// The database's share of a Slack form: the statements on the form's path, timed one by one on
// embedded PGlite in a process of their own (the production runtime and flags: bench/sessions.bench.ts).
// Prints one line `BENCH_SESSIONS {json}`.
//   node --import tsx bench/servers/session-writes.ts
import { randomUUID } from 'node:crypto';
import { SdkArmGateway, staticTokenCredential } from '../../src/azure/sdk-gateway';
import { startSimulator } from '../../src/simulator';
import { Store } from '../../src/store/store';
import { tempDir } from '../lib/stack';
import { round } from '../lib/stats';
import { FormCatalog } from '../../src/workflow/catalog';

const N = 600;
const BLOCK = 100;
const WARM = 50;

/** The session a new Slack form keeps (src/chat/slack/channel.ts; no note, no carry): the seeded simulator's choices, read through the bot's own catalog. */
async function formSession(): Promise<Record<string, unknown>> {
  const sim = await startSimulator();
  try {
    const arm = new SdkArmGateway({ endpoint: sim.endpoint, graphEndpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential() });
    const choices = await new FormCatalog(arm, 0).choices();
    return { channel: 'C0CMKREQ', targetType: 'fluid-relay', choices, fixed: {} };
  } finally {
    await sim.close();
  }
}

async function main() {
  const folder = tempDir('sessions');
  const store = await Store.open({ kind: 'pglite', dataDir: folder.dir });
  try {
    const doc = await formSession();
    const bytes = Buffer.byteLength(JSON.stringify(doc));
    // The way the session was stored before migration 006, for the comparison.
    await store.db.exec(`CREATE TABLE bench_sessions_jsonb (id text PRIMARY KEY, doc jsonb NOT NULL, expires_at timestamptz NOT NULL)`);
    const cases: Array<{ statement: string; sessionBytes?: number; run: () => Promise<unknown> }> = [
      { statement: 'form session (text, uncompressed: what the bot writes)', sessionBytes: bytes, run: () => store.putFormSession(randomUUID(), doc, 900_000) },
      {
        statement: 'form session as jsonb (before migration 006)',
        sessionBytes: bytes,
        run: () =>
          store.db.query(`INSERT INTO bench_sessions_jsonb (id, doc, expires_at) VALUES ($1, $2::jsonb, now() + ($3::integer * interval '1 millisecond')) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc`, [
            randomUUID(),
            JSON.stringify(doc),
            900_000,
          ]),
      },
      { statement: 'delivery claim', run: () => store.claimDelivery(`slack:${randomUUID()}`) },
      { statement: 'SELECT 1', run: () => store.db.query('SELECT 1') },
    ];
    // Each case warmed up, then measured in blocks taken in turn, so no case has the table (or the
    // process) to itself at its best or worst moment.
    for (const c of cases) for (let i = 0; i < WARM; i++) await c.run();
    const spent = cases.map(() => ({ cpuUs: 0, wallMs: 0 }));
    for (let block = 0; block < N / BLOCK; block++) {
      for (const [k, c] of cases.entries()) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < BLOCK; i++) await c.run();
        const cpu = process.cpuUsage(cpu0);
        spent[k]!.cpuUs += cpu.user + cpu.system;
        spent[k]!.wallMs += performance.now() - t0;
      }
    }
    const perStatement = (v: number) => round(v / N, 3);
    const rows = cases.map((c, k) => ({
      statement: c.statement,
      sessionBytes: c.sessionBytes ?? null,
      statements: N,
      cpuMsPerStatement: perStatement(spent[k]!.cpuUs / 1000),
      wallMsPerStatement: perStatement(spent[k]!.wallMs),
    }));
    console.log(`BENCH_SESSIONS ${JSON.stringify(rows)}`);
  } finally {
    await store.close();
    folder.remove();
  }
}

void main();
