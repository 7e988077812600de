// The watchdog end to end on the simulator, in a Teams channel and a Slack channel: `watch all`,
// a key disabled → one urgent alert per key naming every dependent resource; a snooze silences it
// until it ends; the key enabled again → one "resolved"; a scan with nothing changed posts nothing;
// a Key Vault event (KeyNewVersionCreated) through POST /events/eventgrid → alerts for the
// resources pinned to the old version; an unauthenticated delivery is refused.
import { SIM_FLUID_CMK, SIM_KEY, SIM_RBAC_VAULT, SIM_STORAGE_CMK } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { cardText } from '../helpers/connector';
import { viewSubmissionPayload } from '../../src/dev';
import { startSlackBot, type SlackHarness } from '../helpers/slack';
import { ALICE, BOB, cardAction, message, post } from '../helpers/teams';

const SECRET = 'event-grid-secret-for-tests-0123';
const ALEX = { id: 'U0ALEX', name: 'alex' };
const TEAMS_CONV = 'conv-keys';
const SLACK_CHANNEL = 'C0KEYS';

let h: SlackHarness;

beforeAll(async () => {
  const policy = parsePolicy(
    `version: 2\ntenants: { teams: ["*"], slack: ["*"] }\npeople:\n  alice: { teams: ["tenant-1/${ALICE.aadObjectId}"] }\n  alex: { slack: ["T0LOCAL01/${ALEX.id}"] }\nwatchers: ["person:alice", "person:alex"]\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["teams:tenant-1/${BOB.aadObjectId}", "teams:tenant-1/aad-carol-0004"]\n    irreversibleExtraApprovals: 0\n`,
    'watch-policy',
  );
  h = await startSlackBot(policy, [ALEX], SLACK_CHANNEL, {}, { env: { EVENT_GRID_WEBHOOK_SECRET: SECRET, WATCH_INTERVAL: '0' } });
});
afterAll(() => h?.close());

const teamsAlerts = () => h.bot.connector.log.filter((a) => a.conversationId === TEAMS_CONV && a.kind !== 'update' && /Watch W-/.test(cardText(a.activity)));
const slackAlerts = () => h.slack.messages.filter((m) => m.channel === SLACK_CHANNEL && !m.thread_ts && /Watch W-/.test(JSON.stringify(m.blocks ?? [])));
async function scansDone(): Promise<number> {
  const rows = await h.bot.store.db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_log WHERE event = 'watch_scanned'`);
  return Number(rows[0]!.n);
}
/** Wait until `n` more watch scans have settled and their alerts are out. */
async function afterScans(before: number, n: number) {
  await h.slack.waitFor(async () => (await scansDone()) >= before + n, 30_000, `${n} scans`).catch(() => undefined);
  const deadline = Date.now() + 30_000;
  while ((await scansDone()) < before + n) {
    if (Date.now() > deadline) throw new Error(`scans did not finish: ${JSON.stringify(await h.bot.store.db.query(`SELECT kind, state, attempts, last_error FROM jobs WHERE kind LIKE 'watch%' OR kind LIKE 'slack%'`))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Alerts are jobs committed with the scan: let the queue deliver them.
  await new Promise((r) => setTimeout(r, 1500));
}
const scanNow = async () => {
  const before = await scansDone();
  await post(h.bot.app.url, message(h.bot.connector.url, ALICE, 'scan now', TEAMS_CONV));
  await h.slash(ALEX, 'scan now', SLACK_CHANNEL);
  await afterScans(before, 2);
};

describe('watchdog', () => {
  it('watch all in Teams and in Slack; a disabled key → one urgent alert per key naming its resources; snooze; resolved; quiet when nothing changes', async () => {
    const before = await scansDone();
    const r1 = await post(h.bot.app.url, message(h.bot.connector.url, ALICE, 'watch all', TEAMS_CONV));
    expect(r1.status).toBe(200);
    await h.bot.connector.waitFor((a) => a.conversationId === TEAMS_CONV && /now watches all \(W-/.test(a.activity.text ?? ''), 5000, 'watch reply');
    await h.slash(ALEX, 'watch all', SLACK_CHANNEL);
    await h.slack.waitFor(() => h.slack.responses.find((r) => /now watches all/.test(JSON.stringify(r.body))), 5000, 'slack watch reply');
    // The first scan of each watch tells what is wrong already (the seeded tenant has problems).
    await afterScans(before, 2);
    const baselineTeams = teamsAlerts().length;
    const baselineSlack = slackAlerts().length;
    expect(baselineTeams).toBeGreaterThan(0);
    expect(baselineSlack).toBe(baselineTeams);

    // A second scan with nothing changed posts nothing.
    await scanNow();
    expect(teamsAlerts().length).toBe(baselineTeams);
    expect(slackAlerts().length).toBe(baselineSlack);

    // The key is disabled: one urgent alert for it in each channel, naming every dependent resource.
    h.bot.sim.setKeyEnabled(SIM_RBAC_VAULT, SIM_KEY, false);
    await scanNow();
    const newTeams = teamsAlerts().slice(baselineTeams);
    expect(newTeams).toHaveLength(1);
    const alert = cardText(newTeams[0]!.activity);
    expect(alert).toMatch(new RegExp(`Urgent: Key ${SIM_KEY} \\(vault ${SIM_RBAC_VAULT}\\) is disabled — \\d+ resources depend on it`));
    expect(alert).toContain(SIM_FLUID_CMK);
    expect(alert).toContain(SIM_STORAGE_CMK);
    const newSlack = slackAlerts().slice(baselineSlack);
    expect(newSlack).toHaveLength(1);
    expect(JSON.stringify(newSlack[0]!.blocks)).toContain(`${SIM_KEY} (vault ${SIM_RBAC_VAULT}) is disabled`);
    // Acknowledged in Slack: recorded and said in the alert's thread.
    expect((await h.press(ALEX, SLACK_CHANNEL, newSlack[0]!.ts, 'finding.ack')).status).toBe(200);
    await h.slack
      .waitFor(() => h.slack.thread(SLACK_CHANNEL, newSlack[0]!.ts).find((m) => /alex acknowledged this alert \(\d+ findings?\)/.test(m.text ?? '')), 10_000, 'acknowledged in the thread')
      .catch(async (e) => {
        throw new Error(`${(e as Error).message.slice(0, 300)}\n${JSON.stringify(await h.bot.store.db.query(`SELECT kind, state, attempts, last_error, payload FROM jobs WHERE kind = 'slack.finding'`))}`);
      });
    const acked = await h.bot.store.db.query<{ n: string }>(`SELECT count(*) AS n FROM findings WHERE acked_by IS NOT NULL`);
    expect(Number(acked[0]!.n)).toBeGreaterThan(0);
    // Snoozed in Slack: a modal asks for how long and why; too short a reason comes back on its field.
    await h.press(ALEX, SLACK_CHANNEL, newSlack[0]!.ts, 'finding.snooze');
    const modal = await h.slack.waitFor(() => [...h.slack.views.values()].find((v) => v.view.callback_id === 'cmk_snooze'), 5000, 'snooze modal');
    const short = await h.interact(viewSubmissionPayload({ user: ALEX, view: { ...modal.view, id: modal.id, hash: modal.hash }, values: { reason: { value: { type: 'plain_text_input', value: 'no' } } } }));
    expect(short.json).toEqual({ response_action: 'errors', errors: { reason: 'Give a reason (at least 3 characters): it is recorded.' } });
    const ok = await h.interact(viewSubmissionPayload({ user: ALEX, view: { ...modal.view, id: modal.id, hash: modal.hash }, values: { reason: { value: { type: 'plain_text_input', value: 'rotation planned Monday' } } } }));
    expect(ok.status).toBe(200);
    await h.slack.waitFor(() => h.slack.thread(SLACK_CHANNEL, newSlack[0]!.ts).find((m) => /alex snoozed this alert for 24 hours: rotation planned Monday/.test(m.text ?? '')), 10_000, 'snoozed in the thread');

    // Snoozed in Teams with a reason (audited) — for 7 seconds here (the card offers hours; any length
    // up to 30 days is taken) — scans say nothing about it meanwhile.
    const data = (newTeams[0]!.activity.attachments![0]!.content.actions as Array<{ type: string; data?: Record<string, string>; card?: { actions: Array<{ data: Record<string, string> }> } }>).find((a) => a.type === 'Action.ShowCard')!
      .card!.actions[0]!.data;
    const snoozedAt = Date.now();
    const snooze = await post(h.bot.app.url, cardAction(h.bot.connector.url, ALICE, 'finding.snooze', { ...data, snoozeHours: '0.002', snoozeReason: 'vault maintenance until noon' }, newTeams[0]!.id, TEAMS_CONV));
    expect(JSON.stringify(snooze.body)).toContain('snoozed this alert until');
    const audited = await h.bot.store.db.query<{ data: { reason: string } }>(`SELECT data FROM audit_log WHERE event = 'finding_snoozed' ORDER BY seq`);
    expect(audited.map((r) => r.data.reason)).toEqual(['rotation planned Monday', 'vault maintenance until noon']);
    await scanNow();
    expect(teamsAlerts()).toHaveLength(baselineTeams + 1);
    // The snooze ends: still disabled, so it is said once more.
    await new Promise((r) => setTimeout(r, Math.max(0, snoozedAt + 7_500 - Date.now())));
    await scanNow();
    const again = teamsAlerts().slice(baselineTeams + 1);
    expect(again).toHaveLength(1);
    expect(cardText(again[0]!.activity)).toMatch(/is disabled .*still so after the snooze ended/);

    // Enabled again: one "resolved" in each channel, then quiet.
    h.bot.sim.setKeyEnabled(SIM_RBAC_VAULT, SIM_KEY, true);
    await scanNow();
    const resolvedTeams = teamsAlerts().slice(baselineTeams + 2);
    expect(resolvedTeams).toHaveLength(1);
    expect(cardText(resolvedTeams[0]!.activity)).toMatch(/Resolved: key/);
    const resolvedSlack = slackAlerts().slice(baselineSlack + 1);
    expect(resolvedSlack).toHaveLength(1);
    await scanNow();
    expect(teamsAlerts()).toHaveLength(baselineTeams + 3);
    expect(slackAlerts()).toHaveLength(baselineSlack + 2);
    // Findings by severity and scan durations in /metrics.
    const metrics = await (await fetch(`${h.bot.app.url}/metrics`)).text();
    expect(metrics).toMatch(/^cmk_watch_findings\{severity="urgent"\} \d+$/m);
    expect(metrics).toMatch(/^cmk_watch_scan_duration_seconds_count [1-9]\d*$/m);
  });

  it('Event Grid: the handshake, a refused unauthenticated delivery, and KeyNewVersionCreated → alerts for the resources pinned to the old version', async () => {
    const endpoint = `${h.bot.app.url}/events/eventgrid`;
    const unauthenticated = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
      body: JSON.stringify([{ id: '1', eventType: 'Microsoft.KeyVault.KeyNewVersionCreated', subject: 'k', eventTime: new Date().toISOString(), data: {}, dataVersion: '1' }]),
    });
    expect(unauthenticated.status).toBe(401);
    // Watched in both channels (the first test's watches, or new ones when this test runs alone).
    await post(h.bot.app.url, message(h.bot.connector.url, ALICE, 'watch all', TEAMS_CONV));
    await h.slash(ALEX, 'watch all', SLACK_CHANNEL);
    await new Promise((r) => setTimeout(r, 3000));
    const before = await scansDone();
    const teamsBefore = teamsAlerts().length;
    // The simulator subscribes the bot's endpoint (handshake included) and delivers the event of a rotation.
    const unsubscribe = await h.bot.sim.deliverEventsTo(`${endpoint}?code=${SECRET}`);
    try {
      h.bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
      const deliveries = await h.bot.sim.flushEvents();
      expect(deliveries.filter((d) => d.status === 200).length).toBeGreaterThanOrEqual(1);
      await afterScans(before, 2);
      const alerts = teamsAlerts()
        .slice(teamsBefore)
        .map((a) => cardText(a.activity));
      expect(alerts.some((t) => new RegExp(`A newer version of key ${SIM_KEY} \\(vault ${SIM_RBAC_VAULT}\\) exists`).test(t) && t.includes(SIM_FLUID_CMK))).toBe(true);
    } finally {
      unsubscribe();
    }
  });
});
