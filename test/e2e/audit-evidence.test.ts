// The audit anchored outside the database, end to end: a request finished through /api/messages
// shows the chain's head on its card (Teams, and the same card in Slack), the JSON log carries a
// head line per append, and `evidence <id>` answers in Teams and Slack with a record that
// `npm run audit:verify -- --bundle` verifies offline — and refuses once it is tampered with.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postToBot, signedHeaders, slashCommandBody, startSlackStandIn, type SlackStandIn } from '../../src/dev';
import { SIM_KEY_VERSION_CURRENT } from '../../src/simulator';
import { evidenceText } from '../../src/chat/presenter';
import { buildEvidence, type EvidenceRecord, verifyEvidence } from '../../src/workflow/evidence';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, clickData } from '../helpers/connector';
import { ALICE, BOB, CAROL, cardAction, message, post } from '../helpers/teams';
import { fluidRelayForm } from '../helpers/forms';
import { runCli } from '../helpers/cli';

const SECRET = 'local-signing-secret-for-tests';
const POLICY = parsePolicy(
  `
version: 2
tenants: { teams: ["*"], slack: ["*"] }
# Riley reads requests from Slack, wherever they were made: an auditor.
auditors: ["slack:T0LOCAL01/U0RILEY"]
rules:
  - name: demo
    requesters: ["teams:tenant-1/${ALICE.aadObjectId}"]
    approvers: ["teams:tenant-1/${BOB.aadObjectId}", "teams:tenant-1/${CAROL.aadObjectId}"]
    approvalsRequired: 1
`,
  'test-policy',
);

let bot: TestBot;
let slack: SlackStandIn;
const logged: Array<{ msg: string; data?: Record<string, unknown> }> = [];
const dir = mkdtempSync(join(tmpdir(), 'cmk-evidence-'));

beforeAll(async () => {
  slack = await startSlackStandIn({ users: { U0RILEY: { name: 'riley' } } });
  bot = await startBot(POLICY, { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.url }, undefined, {
    log: (_level, msg, data) => void logged.push({ msg, data }),
  });
});
afterAll(async () => {
  await bot?.close();
  await slack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const verifyCli = (file: string) => runCli('src/cli/audit-verify.ts', ['--bundle', file]).then(({ code, out, err }) => ({ code, out: out + err }));

/** A Fluid Relay request made by Alice and approved by Bob and Carol, finished. */
async function finishedRequest() {
  const name = `fr-ev-${Math.random().toString(36).slice(2, 8)}`;
  const { formMsg, requestId } = await submitForm(bot, fluidRelayForm(name, { keyVersion: SIM_KEY_VERSION_CURRENT }));

  const click = clickData(bot.connector, formMsg);
  await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', click, formMsg));
  await post(bot.app.url, cardAction(bot.connector.url, CAROL, 'request.approve', click, formMsg));
  const done = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /This request is done/.test(cardText(a.activity)), 20000, 'final card');
  return { requestId: requestId!, card: cardText(done.activity) };
}

describe('audit anchored outside the database', () => {
  let requestId: string;
  let card: string;
  beforeAll(async () => {
    ({ requestId, card } = await finishedRequest());
  }, 60_000);

  it('the finished card shows the audit head, equal to the request’s last audit row and logged as it was appended', async () => {
    const last = (await bot.store.auditTrail(requestId)).at(-1)!;
    expect(last.event).toBe('verified');
    expect(card).toContain(`Audit head: seq ${last.seq} · ${last.hash.slice(0, 12)}`);
    expect(card).toContain(`Audit anchor: ${last.seq}:${last.hash}`);
    // One JSON log line per append, the newest being that head.
    const heads = logged.filter((l) => l.msg === 'audit head').map((l) => l.data);
    expect(heads).toContainEqual({ seq: last.seq, hash: last.hash, event: 'verified', request: requestId });
    expect(heads.length).toBeGreaterThanOrEqual((await bot.store.auditTrail(requestId)).length);
    // The Slack rendering of the same request carries it too.
    const before = slack.responses.length;
    const raw = slashCommandBody({
      text: `status ${requestId}`,
      user_id: 'U0RILEY',
      user_name: 'riley',
      channel_id: 'C0CMK',
      trigger_id: slack.triggerId({ user: 'U0RILEY' }),
      response_url: slack.responseUrl({ channel: 'C0CMK', user: 'U0RILEY' }),
    });
    expect((await postToBot(`${bot.app.url}/slack/events`, raw, signedHeaders(SECRET, raw, { contentType: 'application/x-www-form-urlencoded' }))).status).toBe(200);
    const status = await slack.waitFor(() => slack.responses.slice(before).find((r) => JSON.stringify(r.body).includes('Audit anchor')), 5000, 'status in Slack');
    expect(JSON.stringify(status.body)).toContain(`${last.seq}:${last.hash}`);
  });

  it('`evidence <id>` answers in Teams: a Fluid Relay record is larger than a Teams message, so a summary and how to export it', async () => {
    await post(bot.app.url, message(bot.connector.url, BOB, `evidence ${requestId.toLowerCase()}`));
    const answer = await bot.connector.waitFor((a) => (a.activity.text ?? '').includes(`**Evidence of ${requestId}**`), 5000, 'evidence answer');
    const text = answer.activity.text!;
    const req = (await bot.store.getRequest(requestId))!;
    const last = (await bot.store.auditTrail(requestId)).at(-1)!;
    const write = bot.sim.writes().find((w) => w.path.endsWith(req.resourceId.split('/').pop()!))!;
    expect(text).toMatch(new RegExp(`^\\*\\*Evidence of ${requestId}\\*\\* is \\d+ KB, more than one chat message can carry`));
    expect(text).toContain(`\`npm run audit:export -- ${requestId} --out ${requestId}.json\``);
    expect(text).toContain(`- digest ${req.digest}`);
    expect(text).toMatch(new RegExp(`- approved by Bob Approver \\(teams:tenant-1/${BOB.aadObjectId}\\) at \\S+ · digest ${req.digest.slice(0, 12)}…\n- approved by Carol Approver`));
    expect(text).toContain(`- ARM PUT 200 · correlation ${write.headers['x-ms-correlation-request-id']}`);
    expect(text).toMatch(/- verification fluidrelay.verify: pass/);
    expect(text).toContain(`request head ${last.seq}:${last.hash}`);
    expect(Buffer.byteLength(JSON.stringify(text))).toBeLessThan(26_000);
  });

  it('the record verifies offline with `npm run audit:verify -- --bundle`; a tampered copy fails naming what', async () => {
    const record = (await buildEvidence(bot.store, requestId))!;
    const last = (await bot.store.auditTrail(requestId)).at(-1)!;
    expect(record.request.auditHead).toEqual({ seq: last.seq, hash: last.hash });
    expect(record.digest).toBe((await bot.store.getRequest(requestId))!.digest);
    expect(record.approvals.map((a) => [a.who, a.decision, a.digest])).toEqual([
      ['Bob Approver', 'approved', record.digest],
      ['Carol Approver', 'approved', record.digest],
    ]);
    const write = bot.sim.writes().find((w) => w.path.endsWith(record.change!.resourceId.split('/').pop()!))!;
    expect(record.armCalls).toContainEqual(expect.objectContaining({ event: 'arm_call', method: 'PUT', correlationId: write.headers['x-ms-correlation-request-id'] }));
    expect(record.result?.verification?.[0]).toMatchObject({ id: 'fluidrelay.verify', status: 'pass' });
    expect(verifyEvidence(record)).toMatchObject({ ok: true });

    const file = join(dir, `${requestId}.json`);
    writeFileSync(file, JSON.stringify(record, null, 2));
    expect(await verifyCli(file)).toEqual({ code: 0, out: `evidence bundle ${requestId} verified: ${record.auditRows.length} audit rows, their hashes, the payload, the digest and the approvals hold\n` });

    // Someone edits the payload (another region) — the digest no longer matches and the hashed `requested` row disagrees.
    const edited = structuredClone(record);
    (edited.change!.payload as { location: string }).location = 'westeurope';
    writeFileSync(file, JSON.stringify(edited));
    const r1 = await verifyCli(file);
    expect(r1.code).toBe(1);
    expect(r1.out).toMatch(new RegExp(`^evidence bundle ${requestId} FAILS verification:\n  - payload differs from the one audit row \\d+ \\(requested\\) recorded\n  - digest [0-9a-f]{12}… does not match the payload and check evidence`));
    // …or an audit row (who approved).
    const forged = structuredClone(record);
    const row = forged.auditRows.find((r) => r.event === 'approved')!;
    (row.actor as { name: string }).name = 'Mallory Outsider';
    expect(verifyEvidence(forged)).toEqual({ ok: false, notes: [], problems: [`audit row ${row.seq} (approved): content does not match its hash`] });
    // …or drops an approval from the record.
    const fewer = structuredClone(record);
    fewer.approvals = fewer.approvals.slice(1);
    expect(verifyEvidence(fewer)).toMatchObject({
      ok: false,
      problems: expect.arrayContaining([expect.stringMatching(/records a decision \(approved\) by aad-bob-0002 that the record's approvals lack/), expect.stringMatching(/was executed \(audit row \d+\) with 1 of 2 approvals naming it/)]),
    });
  }, 60_000);

  it('`/cmk evidence <id>` answers in Slack, privately, with the same record', async () => {
    const before = slack.responses.length;
    const raw = slashCommandBody({
      text: `evidence ${requestId}`,
      user_id: 'U0RILEY',
      user_name: 'riley',
      channel_id: 'C0CMK',
      trigger_id: slack.triggerId({ user: 'U0RILEY' }),
      response_url: slack.responseUrl({ channel: 'C0CMK', user: 'U0RILEY' }),
    });
    expect((await postToBot(`${bot.app.url}/slack/events`, raw, signedHeaders(SECRET, raw, { contentType: 'application/x-www-form-urlencoded' }))).status).toBe(200);
    const r = await slack.waitFor(() => slack.responses.slice(before).find((x) => JSON.stringify(x.body).includes(`Evidence of ${requestId}`)), 5000, 'evidence in Slack');
    const body = r.body as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text.startsWith(`*Evidence of ${requestId}*`)).toBe(true);
    expect(body.text.length).toBeLessThanOrEqual(40_000);
    const json = /```\n([\s\S]*)\n```$/.exec(body.text)?.[1];
    const record = JSON.parse(json!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as EvidenceRecord;
    expect(verifyEvidence(record)).toMatchObject({ ok: true });
    expect(record.request.id).toBe(requestId);
  });

  it('the record goes whole, as JSON, when the channel can carry it', async () => {
    const record = (await buildEvidence(bot.store, requestId))!;
    const text = evidenceText(record, (t) => t.length < 1_000_000);
    expect(JSON.parse(/```json\n([\s\S]*)\n```$/.exec(text)![1]!)).toEqual(record);
    expect(evidenceText(record, (t) => !t.includes('\n  '))).toContain(`\`\`\`json\n${JSON.stringify(record)}\n\`\`\``);
  });
});
