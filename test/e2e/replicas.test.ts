// Two bot processes on one real PostgreSQL database (DATABASE_URL), behind "one endpoint": every
// delivery may reach either. Concurrent duplicate approvals → exactly one ARM write; one expiry →
// one message; a replica killed mid-write → the other finishes it after the lease runs out.
// The machine runs PostgreSQL on 127.0.0.1:5432 (.ci/run starts it when it is down).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { SIM_RG, SIM_RG_WEST, startSimulator, type Simulator } from '../../src/simulator';
import { startChildBot, type ChildBot } from '../helpers/child-bot';
import { cardText, startConnector, type FakeConnector, clickData } from '../helpers/connector';
import { chaosExperimentForm, fluidRelayForm } from '../helpers/forms';
import { ALICE, BOB, CAROL, cardAction, message, post } from '../helpers/teams';
import { throwawayDatabase, type ThrowawayDatabase } from '../helpers/postgres';

let database: ThrowawayDatabase | undefined;
let dir: string;
let sim: Simulator;
let connector: FakeConnector;
let url: string;
const replicas: ChildBot[] = [];

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  database = await throwawayDatabase('cmk_replicas', 'replicas.test');
  if (!database) return;
  url = database.url;
  dir = mkdtempSync(join(tmpdir(), 'cmk-replicas-'));
  writeFileSync(
    join(dir, 'policy.yaml'),
    [
      'version: 2',
      'tenants: { teams: ["*"], slack: ["*"] }',
      'rules:',
      '  - name: quick-expiry',
      `    match: { resourceGroups: ["${SIM_RG_WEST}"] }`,
      '    requesters: ["*"]',
      '    approvers: ["*"]',
      '    pendingHours: 0.0005',
      '  - name: all',
      '    requesters: ["*"]',
      '    approvers: ["*"]',
      '    approvalsRequired: 2',
      '    irreversibleExtraApprovals: 0',
      '',
    ].join('\n'),
  );
  [sim, connector] = await Promise.all([startSimulator({ tlsDir: join(dir, 'tls'), lro: { retryAfterSeconds: 1, pollsToComplete: 4 } }), startConnector()]);
  const env = { DATABASE_URL: url, DATA_DIR: join(dir, 'data'), POLICY_FILE: join(dir, 'policy.yaml'), JOB_LEASE_MS: '2000' };
  // The second replica looks for work only once a second: the first claims what it is given.
  replicas.push(await startChildBot(sim, env), await startChildBot(sim, { ...env, JOB_POLL_MS: '1000' }));
}, 90_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  await Promise.all([sim?.close(), connector?.close()]);
  await database?.drop().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const fluid = (name: string, rg = SIM_RG) => fluidRelayForm(name, { resourceGroup: rg });

async function submit(via: string, form: Record<string, string>) {
  const formMsg = `form-${form.name}`;
  const res = await post(via, cardAction(connector.url, ALICE, 'form.submit', form, formMsg));
  expect(res.status).toBe(200);
  const card = await connector.waitFor((a) => a.id === formMsg && /Request: CR-/.test(cardText(a.activity)), 30_000, 'request card');
  return { formMsg, requestId: /Request: (CR-[A-Z0-9]{6})/.exec(cardText(card.activity))![1]! };
}

const puts = (name: string) => sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/${name}`));

describe('two replicas on one PostgreSQL', () => {
  const it_ = (name: string, fn: () => Promise<void>, timeout?: number) => it(name, async () => (database ? fn() : undefined), timeout);

  it_(
    'concurrent duplicate approvals on both replicas: each approver counts once, exactly one ARM write',
    async () => {
      const [a, b] = replicas.map((r) => r.url) as [string, string];
      const name = `fr-two-${Math.random().toString(36).slice(2, 8)}`;
      const { formMsg, requestId } = await submit(a, fluid(name));
      const digest = (await sql<{ digest: string }>(`SELECT digest FROM change_requests WHERE id = $1`, [requestId]))[0]!.digest;
      // Bob's click delivered to both replicas at once (a redelivery), and again under a new activity
      // id; Carol's likewise — eight deliveries, two decisions.
      const bob = cardAction(connector.url, BOB, 'request.approve', { requestId, digest }, formMsg);
      const carol = cardAction(connector.url, CAROL, 'request.approve', { requestId, digest }, formMsg);
      const clicks = [
        post(a, bob),
        post(b, bob),
        post(a, carol),
        post(b, carol),
        post(b, { ...bob, id: `${bob.id}-again` }),
        post(a, { ...carol, id: `${carol.id}-again` }),
        post(a, { ...bob, id: `${bob.id}-third` }),
        post(b, { ...carol, id: `${carol.id}-third` }),
      ];
      const answers = await Promise.all(clicks);
      expect(answers.every((r) => r.status === 200)).toBe(true);
      await connector.waitFor((x) => x.kind === 'update' && x.id === formMsg && /Created and verified/.test(cardText(x.activity)), 30_000, 'final card');
      await new Promise((r) => setTimeout(r, 1500)); // anything still to come from either replica
      expect(puts(name)).toHaveLength(1);
      const events = (await sql<{ event: string }>(`SELECT event FROM audit_log WHERE request_id = $1 ORDER BY seq`, [requestId])).map((r) => r.event);
      expect(events.filter((e) => e === 'approved')).toHaveLength(2);
      expect(events.filter((e) => e === 'executing')).toHaveLength(1);
      expect(events.filter((e) => e === 'verified')).toHaveLength(1);
      expect(connector.log.filter((x) => new RegExp(`${requestId} done:`).test(x.activity.text ?? ''))).toHaveLength(1);
    },
    90_000,
  );

  it_(
    'several requests approved across both replicas at once: one write each',
    async () => {
      const [a, b] = replicas.map((r) => r.url) as [string, string];
      const made = await Promise.all([0, 1, 2, 3].map((i) => submit(i % 2 ? a : b, fluid(`fr-many-${i}-${Math.random().toString(36).slice(2, 6)}`))));
      await Promise.all(
        made.flatMap(({ formMsg }, i) => [
          post(i % 2 ? a : b, cardAction(connector.url, BOB, 'request.approve', clickData(connector, formMsg), formMsg)),
          post(i % 2 ? b : a, cardAction(connector.url, CAROL, 'request.approve', clickData(connector, formMsg), formMsg)),
        ]),
      );
      for (const { formMsg } of made) await connector.waitFor((x) => x.kind === 'update' && x.id === formMsg && /Created and verified/.test(cardText(x.activity)), 40_000, `final card ${formMsg}`);
      for (const { formMsg } of made) expect(puts(formMsg.replace(/^form-/, ''))).toHaveLength(1);
    },
    120_000,
  );

  it_(
    'one expiry is announced once, whichever replicas notice it',
    async () => {
      const [a, b] = replicas.map((r) => r.url) as [string, string];
      const { requestId } = await submit(a, fluid(`fr-exp-${Math.random().toString(36).slice(2, 6)}`, SIM_RG_WEST));
      await new Promise((r) => setTimeout(r, 2500)); // pendingHours 0.0005 = 1.8 s
      await Promise.all([a, b, a, b].map((u) => post(u, message(connector.url, BOB, `status ${requestId}`))));
      await connector.waitFor((x) => new RegExp(`${requestId} expired at`).test(x.activity.text ?? ''), 10_000, 'expiry notice');
      await new Promise((r) => setTimeout(r, 1500));
      expect(connector.log.filter((x) => new RegExp(`${requestId} expired at`).test(x.activity.text ?? ''))).toHaveLength(1);
      const events = (await sql<{ event: string }>(`SELECT event FROM audit_log WHERE request_id = $1`, [requestId])).map((r) => r.event);
      expect(events.filter((e) => e === 'expired')).toHaveLength(1);
    },
    60_000,
  );

  it_(
    'a replica killed while it follows a long-running write: the other takes the job over when its lease runs out, one PUT',
    async () => {
      const [a] = replicas.map((r) => r.url) as [string, string];
      const name = `exp-two-${Math.random().toString(36).slice(2, 6)}`;
      const { formMsg, requestId } = await submit(a, chaosExperimentForm(name));
      // Either replica may claim the execution: kill the one that holds it (its job row names its
      // pid), at its first poll of the operation — the next poll is a Retry-After (1 s) away.
      let killing: Promise<ChildBot | undefined> | undefined;
      const off = sim.onRequest((r) => {
        if (killing || !(r.method === 'GET' && r.path.includes('/operationStatuses/'))) return;
        killing = sql<{ locked_by: string | null }>(`SELECT locked_by FROM jobs WHERE key = $1 AND state = 'running'`, [`execute:${requestId}`]).then(([job]) => {
          const holder = replicas.find((x) => x.child.pid === Number(job?.locked_by?.split(':')[1]));
          holder?.child.kill('SIGKILL');
          return holder;
        });
      });
      const click = clickData(connector, formMsg);
      await post(a, cardAction(connector.url, BOB, 'request.approve', click, formMsg));
      await post(a, cardAction(connector.url, CAROL, 'request.approve', click, formMsg));
      for (const until = Date.now() + 30_000; !killing && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
      const killed = await killing;
      expect(killed).toBeDefined();
      await killed!.exited;
      off();
      await connector.waitFor((x) => x.kind === 'update' && x.id === formMsg && /Created with customer data storage and verified/.test(cardText(x.activity)), 60_000, 'finished by the other replica');
      expect(puts(name)).toHaveLength(1);
      const events = (await sql<{ event: string }>(`SELECT event FROM audit_log WHERE request_id = $1 ORDER BY seq`, [requestId])).map((r) => r.event);
      expect(events).toContain('recovering');
      expect(events.filter((e) => e === 'verified')).toHaveLength(1);
    },
    90_000,
  );
});
