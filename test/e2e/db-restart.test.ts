// PostgreSQL goes away under load and comes back (issue 17, item 8). The bot (the real entry
// point, a child process) runs on a PostgreSQL server of the test's own, which the test stops
// with its own `pg_ctl stop -m fast` — every connection dropped — while approved requests are
// executing, and starts again. Meanwhile: /readyz says not ready, the bot stays up, a Slack event
// is refused with a non-2xx (Slack retries Events API deliveries; a slash command refused so is shown
// to the person as failed — Slack does not retry those) and a Teams user is told to try again; afterwards
// the bot has reconnected by itself, every acknowledged request completes exactly once (one ARM
// write, one "done" message), and the refused ones go through when sent again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventBody, postToBot, signedHeaders, slashCommandBody, startSlackStandIn, type SlackStandIn } from '../../src/dev';
import { SIM_RG, startSimulator, type Simulator } from '../../src/simulator';
import { startChildBot, type ChildBot } from '../helpers/child-bot';
import { cardText, clickData, startConnector, type FakeConnector } from '../helpers/connector';
import { fluidRelayForm } from '../helpers/forms';
import { describeWithPostgres, startPgCluster, type PgCluster } from '../helpers/pg-cluster';
import { ALICE, BOB, cardAction, message, post } from '../helpers/teams';

const SIGNING_SECRET = 'db-restart-signing-secret';
const TRY_AGAIN = /database.*try again/i;

let pg: PgCluster;
let dir: string;
let sim: Simulator;
let connector: FakeConnector;
let slack: SlackStandIn;
let bot: ChildBot;

const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) => pg.admin<T>(text, params, 'cmk');

/** `/cmk help` from Alice, signed as Slack signs it (a new trigger id each time). */
const slashHelp = () =>
  slashCommandBody({
    text: 'help',
    user_id: 'U0ALICE',
    user_name: 'alice',
    channel_id: 'C0CMKREQ',
    trigger_id: slack.triggerId({ user: 'U0ALICE' }),
    response_url: slack.responseUrl({ channel: 'C0CMKREQ', user: 'U0ALICE' }),
  });

async function readyz(): Promise<{ status: number; body: { status?: string; database?: string } }> {
  const res = await fetch(`${bot.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as { status?: string; database?: string } };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeWithPostgres('db-restart.test', 'PostgreSQL restarted under load', () => {
  beforeAll(async () => {
    pg = await startPgCluster();
    await pg.admin('CREATE DATABASE cmk');
    dir = mkdtempSync(join(tmpdir(), 'cmk-db-restart-'));
    writeFileSync(join(dir, 'policy.yaml'), 'version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n');
    // Each write is a long-running operation of a few seconds: executions are in flight when the database goes.
    [sim, connector, slack] = await Promise.all([startSimulator({ tlsDir: join(dir, 'tls'), lro: { retryAfterSeconds: 1, pollsToComplete: 3 } }), startConnector(), startSlackStandIn({ users: { U0ALICE: { name: 'alice' } } })]);
    bot = await startChildBot(sim, {
      DATABASE_URL: pg.url({ database: 'cmk' }),
      DATA_DIR: join(dir, 'data'),
      POLICY_FILE: join(dir, 'policy.yaml'),
      JOB_LEASE_MS: '2000',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.url,
    });
  }, 90_000);

  afterAll(async () => {
    await bot?.kill('SIGKILL');
    await Promise.all([sim?.close(), connector?.close(), slack?.close()]);
    await pg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('reports not ready while it is down, refuses what arrives meanwhile, reconnects, and finishes every acknowledged request once', async () => {
    expect((await readyz()).status).toBe(200);
    // Requests made and approved: each approval is acknowledged (200) and its execution is a durable job.
    const names = [0, 1, 2, 3].map((i) => `fr-restart-${i}-${Math.random().toString(36).slice(2, 6)}`);
    const made: Array<{ name: string; formMsg: string; requestId: string }> = [];
    for (const name of names) {
      const formMsg = `form-${name}`;
      expect((await post(bot.url, cardAction(connector.url, ALICE, 'form.submit', fluidRelayForm(name, { resourceGroup: SIM_RG }), formMsg))).status).toBe(200);
      const card = await connector.waitFor((a) => a.id === formMsg && /Request: CR-/.test(cardText(a.activity)), 30_000, `request card ${name}`);
      made.push({ name, formMsg, requestId: /Request: (CR-[A-Z0-9]{6})/.exec(cardText(card.activity))![1]! });
    }
    // Load throughout: Teams messages and Slack commands, one after another, until the database is back.
    const load = { on: true, teams: [] as number[], slack: [] as number[], teamsAnswered: [] as string[], slackAnswered: [] as string[] };
    const loading = (async () => {
      for (let i = 0; load.on; i++) {
        const raw = slashHelp();
        const msg = message(connector.url, ALICE, i % 2 ? 'help' : 'list');
        // A connection the bot dropped (or a bot that died) counts as status 0.
        const [t, s] = await Promise.all([
          post(bot.url, msg).then(
            (r) => r.status,
            () => 0,
          ),
          postToBot(`${bot.url}/slack/events`, raw, signedHeaders(SIGNING_SECRET, raw)).then(
            (r) => r.status,
            () => 0,
          ),
        ]);
        load.teams.push(t);
        load.slack.push(s);
        if (t === 200) load.teamsAnswered.push(msg.id);
        if (s === 200) load.slackAnswered.push(new URLSearchParams(raw).get('response_url')!.split('/').pop()!);
      }
    })();
    // The database goes the moment the first write reaches Azure: the others are approved, queued or mid-way.
    let stopping: Promise<void> | undefined;
    const off = sim.onRequest((r) => {
      if (!stopping && r.method === 'PUT' && names.some((n) => r.path.endsWith(`/${n}`))) stopping = pg.stop();
    });
    const approvals = await Promise.all(made.map(({ formMsg }) => post(bot.url, cardAction(connector.url, BOB, 'request.approve', clickData(connector, formMsg), formMsg))));
    // Acknowledged before the outage (or refused, if the database went first: then said so).
    const acknowledged = made.filter((_, i) => approvals[i]!.status === 200 && !TRY_AGAIN.test(JSON.stringify(approvals[i]!.body)));
    expect(acknowledged.length).toBeGreaterThan(0);
    await until('the database to stop', async () => (stopping ? true : undefined), 30_000);
    await stopping;
    off();

    // Down: not ready, naming the database; the process is still running.
    const down = await until('/readyz to report not ready', async () => ((r) => (r.status === 503 ? r : undefined))(await readyz()), 15_000);
    expect(down.body.status).toBe('not ready');
    expect(down.body.database).toMatch(/^unavailable/);
    expect(bot.child.exitCode).toBeNull();

    // Slack: an event is refused with a non-2xx, so Slack delivers it again (the Events API retries
    // three times, minutes apart); a slash command is refused the same way, which Slack shows the
    // person as failed rather than the bot taking it on and losing it.
    const mention = eventBody({ type: 'app_mention', user: 'U0ALICE', text: 'help', channel: 'C0CMKREQ', ts: '1733480000.000100' }, { event_id: `Ev0DBDOWN${Math.random().toString(36).slice(2, 6)}` });
    const refusedEvent = await postToBot(`${bot.url}/slack/events`, mention, signedHeaders(SIGNING_SECRET, mention, { contentType: 'application/json' }));
    expect(refusedEvent.status).toBeGreaterThanOrEqual(500);
    const slashRaw = slashHelp();
    expect((await postToBot(`${bot.url}/slack/events`, slashRaw, signedHeaders(SIGNING_SECRET, slashRaw))).status).toBeGreaterThanOrEqual(500);
    // Teams: a card action is answered with a message to try again; a message gets a reply saying so.
    const late = `fr-restart-late-${Math.random().toString(36).slice(2, 6)}`;
    const lateSubmit = cardAction(connector.url, ALICE, 'form.submit', fluidRelayForm(late, { resourceGroup: SIM_RG }), `form-${late}`);
    const refusedClick = await post(bot.url, lateSubmit);
    expect(refusedClick.status).toBe(200);
    expect(JSON.stringify(refusedClick.body)).toMatch(TRY_AGAIN);
    const refusedMessage = message(connector.url, ALICE, 'list');
    await post(bot.url, refusedMessage);
    await connector.waitFor((a) => a.activity.replyToId === refusedMessage.id && TRY_AGAIN.test(a.activity.text ?? ''), 10_000, 'a Teams reply saying to try again');
    // Longer than a job lease: the bot's own claims run out while it cannot renew them.
    await new Promise((r) => setTimeout(r, 2500));
    expect(bot.child.exitCode).toBeNull();

    // Back, with the same command that stopped it; the bot reconnects on its own.
    await pg.start();
    await until('/readyz to report ready again', async () => ((r) => (r.status === 200 ? r : undefined))(await readyz()), 30_000);
    load.on = false;
    await loading;
    // Every request under load was answered: Teams with 200 (the answer, or "try again"); Slack with
    // 200, or refused with a 5xx so that Slack sends it again — and some of each kind happened.
    expect(load.teams.length).toBeGreaterThan(5);
    expect(load.teams.filter((s) => s !== 200)).toEqual([]);
    expect(load.slack.filter((s) => s !== 200 && s < 500)).toEqual([]);
    expect(load.slack.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(load.slack.filter((s) => s >= 500).length).toBeGreaterThan(0);
    // And an acknowledgement is kept: each Teams message taken gets exactly one reply (its answer, or
    // "try again"); each Slack command taken gets exactly one answer at its response_url.
    await until('a reply to every acknowledged message', async () => (load.teamsAnswered.every((id) => connector.log.some((x) => x.activity.replyToId === id)) ? true : undefined), 30_000);
    await until('an answer to every acknowledged command', async () => (load.slackAnswered.every((id) => slack.responses.some((r) => r.id === id)) ? true : undefined), 30_000);

    // Every acknowledged request completes, exactly once: one write, one "done" message.
    for (const { formMsg, requestId } of acknowledged) {
      await connector.waitFor((x) => x.kind === 'update' && x.id === formMsg && /Created and verified/.test(cardText(x.activity)), 60_000, `final card ${formMsg}`);
      await connector
        .waitFor((x) => new RegExp(`${requestId} done:`).test(x.activity.text ?? ''), 30_000, `the done message of ${requestId}`)
        .catch((e: Error) => {
          throw new Error(`${e.message}\nthe bot said:\n${bot.output().slice(-6000)}`);
        });
    }
    // Anything still to come: every job of theirs done, then longer than a lease (a second run after
    // a lease taken over would come in that time).
    await until('no job left to run', async () => ((await sql(`SELECT 1 FROM jobs WHERE state IN ('queued', 'running')`)).length ? undefined : true), 30_000);
    await new Promise((r) => setTimeout(r, 2500));
    // Counted only now, after that wait: a second reply from a job run twice would have come by now.
    for (const id of load.teamsAnswered) expect(connector.log.filter((x) => x.activity.replyToId === id)).toHaveLength(1);
    for (const id of load.slackAnswered) expect(slack.responses.filter((r) => r.id === id)).toHaveLength(1);
    for (const { name, requestId } of acknowledged) {
      expect(sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/${name}`))).toHaveLength(1);
      expect(connector.log.filter((x) => new RegExp(`${requestId} done:`).test(x.activity.text ?? ''))).toHaveLength(1);
      const events = (await sql<{ event: string }>(`SELECT event FROM audit_log WHERE request_id = $1 ORDER BY seq`, [requestId])).map((r) => r.event);
      expect(events.filter((e) => e === 'executing')).toHaveLength(1);
      expect(events.filter((e) => e === 'verified')).toHaveLength(1);
    }
    expect(await sql(`SELECT key, state, last_error FROM jobs WHERE state = 'failed'`)).toEqual([]);

    // What was refused was not lost: Slack's retry of the event and the Teams user's second try go through.
    const retried = await postToBot(`${bot.url}/slack/events`, mention, signedHeaders(SIGNING_SECRET, mention, { contentType: 'application/json', retryNum: 1, retryReason: 'http_error' }));
    expect(retried.status).toBe(200);
    await slack.waitFor(() => slack.callsTo('chat.postMessage').find((c) => c.args.thread_ts === '1733480000.000100'), 15_000, 'the answer to the retried event');
    expect((await post(bot.url, { ...lateSubmit, id: `${lateSubmit.id}-again` })).status).toBe(200);
    await connector.waitFor((a) => a.id === `form-${late}` && /Request: CR-/.test(cardText(a.activity)), 30_000, 'the resubmitted request');
    expect(bot.child.exitCode).toBeNull();
    expect(bot.output()).not.toMatch(/uncaught|unhandled/i);
  }, 180_000);
});
