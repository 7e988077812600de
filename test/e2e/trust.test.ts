// What an approval means, tried as an insider would, through both HTTP endpoints (one bot with
// Teams and Slack on). The policy names people with all their accounts; one human is one vote;
// none of the requester's accounts may approve; a decision names the digest its card showed;
// decisions and reads happen where the request lives; every rule over every scope the change
// touches must be satisfied, under the policy in force at the write. See docs/operations.md.
import { blockActionPayload, interactionBody, postToBot, signedHeaders, slashCommandBody, startSlackStandIn, type SlackStandIn } from '../../src/dev';
import { SIM_CHAOS_EXISTING, SIM_KEY, SIM_RBAC_VAULT, SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION_ID, simChaosId, simVaultId } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, clickData } from '../helpers/connector';
import { chaosExperimentForm, fluidRelayForm } from '../helpers/forms';
import { ALICE, BOB, CAROL, MALLORY, cardAction, message, post, type TestUser } from '../helpers/teams';

const SECRET = 'trust-test-signing-secret';
const TEAM = 'T0LOCAL01';
const DAVE: TestUser = { id: '29:dave', aadObjectId: 'aad-dave-0005', name: 'Dave Approver' };
const S_ALICE = { id: 'U0ALICE', name: 'alice' };
const S_BOB = { id: 'U0BOB', name: 'bob' };
const S_STRANGER = { id: 'U0STRANGER', name: 'stranger' };

const policyText = (approvers: string, sandboxRequired = 3) => `
version: 2
tenants: { teams: ["tenant-1"], slack: ["${TEAM}"] }
people:
  alice: { teams: "tenant-1/${ALICE.aadObjectId}", slack: "${TEAM}/${S_ALICE.id}" }
  bob: { teams: "tenant-1/${BOB.aadObjectId}", slack: "${TEAM}/${S_BOB.id}" }
  carol: { teams: "tenant-1/${CAROL.aadObjectId}" }
  dave: { teams: "tenant-1/${DAVE.aadObjectId}" }
  erin: { teams: "tenant-1/aad-erin-0006" }
groups:
  security: [${approvers}]
rules:
  - name: platform
    match: { subscriptions: ["${SIM_SUBSCRIPTION_ID}"] }
    requesters: ["person:alice"]
    approvers: ["group:security"]
    approvalsRequired: 2
    irreversibleExtraApprovals: 0
  - name: sandbox-production
    match: { subscriptions: ["${SIM_SUBSCRIPTION2_ID}"] }
    requesters: ["person:alice"]
    approvers: ["group:security", "person:erin"]
    approvalsRequired: ${sandboxRequired}
    irreversibleExtraApprovals: 0
`;
const POLICY = parsePolicy(policyText('bob, carol, dave'), 'trust-policy');

let bot: TestBot;
let slack: SlackStandIn;
beforeAll(async () => {
  slack = await startSlackStandIn({ users: { U0ALICE: { name: 'alice' }, U0BOB: { name: 'bob' }, U0STRANGER: { name: 'stranger' } } });
  bot = await startBot(POLICY, { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.url });
});
afterAll(async () => {
  await bot?.close();
  await slack?.close();
});
beforeEach(() => {
  bot.sim.reset();
  bot.app.reloadPolicy(POLICY);
});

const name = () => `fr-trust-${Math.random().toString(36).slice(2, 8)}`;
const teams = (activity: unknown) => post(bot.app.url, activity);
/** What the person sees: a text answer, or a card's text. */
const says = (r: Awaited<ReturnType<typeof post>>) => (typeof r.body?.value === 'string' ? r.body.value : cardText(r.body?.value as never));
const state = async (id: string) => (await bot.store.getRequest(id))!;

/** A Teams activity from `user`, with parts of the envelope replaced (tenant, conversation, ids). */
function from(activity: ReturnType<typeof cardAction>, over: { tenantId?: string; conversation?: Record<string, unknown>; aadObjectId?: string | undefined }) {
  const a = JSON.parse(JSON.stringify(activity)) as Omit<ReturnType<typeof cardAction>, 'conversation' | 'from'> & { conversation: Record<string, unknown>; from: Record<string, unknown> };
  if ('tenantId' in over) a.conversation.tenantId = over.tenantId;
  if (over.conversation) a.conversation = { ...a.conversation, ...over.conversation };
  if ('aadObjectId' in over) {
    if (over.aadObjectId === undefined) delete a.from.aadObjectId;
    else a.from.aadObjectId = over.aadObjectId;
  }
  return a;
}

async function request() {
  const r = await submitForm(bot, fluidRelayForm(name()));
  expect(r.text).toMatch(/Waiting for 2 more approvals/);
  return { requestId: r.requestId!, formMsg: r.formMsg, click: clickData(bot.connector, r.formMsg) };
}

// Slack: signed deliveries to /slack/events.
async function slackSend(raw: string) {
  return postToBot(`${bot.app.url}/slack/events`, raw, signedHeaders(SECRET, raw, { contentType: 'application/x-www-form-urlencoded' }));
}
function slackClick(user: { id: string; name: string }, channel: string, actionId: string, value: unknown, teamId = TEAM) {
  return slackSend(interactionBody(blockActionPayload({ user, channel, messageTs: '1733400000.000100', actionId, value: typeof value === 'string' ? value : JSON.stringify(value), triggerId: slack.triggerId({ user: user.id }), teamId })));
}
function slackCommand(user: { id: string; name: string }, channel: string, text: string) {
  return slackSend(slashCommandBody({ text, user_id: user.id, user_name: user.name, channel_id: channel, trigger_id: slack.triggerId({ user: user.id }), response_url: slack.responseUrl({ channel, user: user.id }) }));
}
const ephemeral = (user: string, pattern: RegExp, label: string) => slack.waitFor(() => slack.messages.find((m) => m.ephemeralFor === user && pattern.test(`${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`)), 10_000, label);

describe('one person, one vote', () => {
  it('the requester’s other account (Slack) cannot approve their Teams request', async () => {
    const { requestId, click } = await request();
    // From a DM with the bot: the place would be allowed for a named approver, but Alice is the requester.
    expect((await slackClick(S_ALICE, 'D0ALICE', 'request.approve', click)).status).toBe(200);
    await ephemeral(S_ALICE.id, /You requested .* the same person as the requester/, 'self-approval refusal');
    expect((await state(requestId)).approvals).toHaveLength(0);
  });

  it('a person with a Teams and a Slack account counts once', async () => {
    const { requestId, formMsg, click } = await request();
    const first = await teams(cardAction(bot.connector.url, BOB, 'request.approve', click, formMsg));
    expect(says(first)).toMatch(/Waiting for 1 more approval/);
    // Bob again, from his Slack DM with the bot (a named approver may decide there).
    await slackClick(S_BOB, 'D0BOB', 'request.approve', click);
    await ephemeral(S_BOB.id, /already decided on .*teams:tenant-1\/aad-bob-0002, which the policy counts as you/, 'second vote refused');
    const req = await state(requestId);
    expect(req.approvals).toHaveLength(1);
    expect(req.state).toBe('pending_approval');
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('an id in another letter case is the same person: the requester cannot approve as AAD-ALICE', async () => {
    const { requestId, formMsg, click } = await request();
    const shouting = from(cardAction(bot.connector.url, { ...ALICE, name: 'Not Alice' }, 'request.approve', click, formMsg), { aadObjectId: ALICE.aadObjectId.toUpperCase(), tenantId: 'TENANT-1' });
    expect(says(await teams(shouting))).toMatch(/You requested .* so you cannot approve it/);
    expect((await state(requestId)).approvals).toHaveLength(0);
  });

  it('the same object id from another tenant is a stranger, refused before anything is looked at', async () => {
    const { requestId, formMsg, click } = await request();
    const other = from(cardAction(bot.connector.url, BOB, 'request.approve', click, formMsg), { tenantId: 'tenant-evil' });
    expect(says(await teams(other))).toMatch(/Teams tenant \(tenant-evil\) is not one this bot's policy admits/);
    // Slack: a workspace the policy does not list.
    await slackClick(S_BOB, 'D0BOB', 'request.approve', click, 'T0EVIL');
    await ephemeral(S_BOB.id, /Slack workspace \(T0EVIL\) is not one/, 'other workspace refused');
    expect((await state(requestId)).approvals).toHaveLength(0);
  });

  it('an activity without a signed object id identifies nobody (from.id and the name do not count)', async () => {
    const { requestId, formMsg, click } = await request();
    const anonymous = from(cardAction(bot.connector.url, BOB, 'request.approve', click, formMsg), { aadObjectId: undefined });
    expect(says(await teams(anonymous))).toMatch(/I cannot tell who you are/);
    expect((await state(requestId)).approvals).toHaveLength(0);
  });
});

describe('a decision names the digest it saw, on every path', () => {
  it('Teams Action.Execute without a digest: not counted, and the person gets the current card', async () => {
    const { requestId, formMsg } = await request();
    const r = await teams(cardAction(bot.connector.url, BOB, 'request.approve', { requestId }, formMsg));
    expect(r.body?.type).toBe('application/vnd.microsoft.card.adaptive');
    const text = says(r);
    expect(text).toMatch(/did not say which version of .* you saw, so it was not counted/);
    expect(text).toContain(`Request: ${requestId}`);
    expect(text).toMatch(/\[Approve\]/);
    expect((await state(requestId)).approvals).toHaveLength(0);
  });

  it('Teams Action.Submit fallback and a plain message carrying `value`: without a digest, or with a stale one, nothing counts', async () => {
    const { requestId, formMsg } = await request();
    const submit = (value: Record<string, unknown>) => ({ ...message(bot.connector.url, BOB, ''), text: undefined, replyToId: formMsg, value });
    await teams(submit({ verb: 'request.approve', requestId }));
    await teams(submit({ verb: 'request.reject', requestId, reason: 'no digest' }));
    await teams({ ...message(bot.connector.url, CAROL, 'approve'), value: { verb: 'request.approve', requestId, digest: 'f'.repeat(64) } });
    await bot.connector.waitFor((a) => /changed after you looked at it/.test(cardText(a.activity)), 5000, 'stale refusal');
    const req = await state(requestId);
    expect(req.approvals).toHaveLength(0);
    expect(req.state).toBe('pending_approval');
  });

  it('Slack: a malformed or stale digest is refused privately, with the request as it is now', async () => {
    const { requestId } = await request();
    await slackClick(S_BOB, 'D0BOB', 'request.approve', { requestId, digest: 'not-a-digest' });
    await ephemeral(S_BOB.id, /did not say which version/, 'malformed digest refused');
    await slackClick(S_BOB, 'D0BOB', 'request.reject', { requestId, digest: 'a'.repeat(64) });
    // Reject opens the reason modal first; the stale digest is refused when the reason is submitted.
    await slackClick(S_BOB, 'D0BOB', 'request.approve', { requestId, digest: 'a'.repeat(64) });
    const shown = await ephemeral(S_BOB.id, /changed after you looked at it/, 'stale digest refused');
    expect(JSON.stringify(shown.blocks)).toContain(requestId);
    expect((await state(requestId)).approvals).toHaveLength(0);
  });
});

describe('decisions and reads happen where the request lives', () => {
  it('a decision from another channel, another Slack channel, or a private chat of someone the policy does not name is refused', async () => {
    const { requestId, formMsg, click } = await request();
    const elsewhere = await teams(cardAction(bot.connector.url, BOB, 'request.approve', click, formMsg, 'conv-random'));
    expect(says(elsewhere)).toMatch(/made in the conversation where it was requested, or in your private chat with the bot, not here/);
    await slackClick(S_BOB, 'C0OTHER', 'request.approve', click);
    await ephemeral(S_BOB.id, /made in the conversation where it was requested/, 'other Slack channel refused');
    // Mallory, in her private chat, is no approver at all.
    const dm = from(cardAction(bot.connector.url, MALLORY, 'request.approve', click, formMsg), { conversation: { id: 'dm-mallory', conversationType: 'personal' } });
    expect(says(await teams(dm))).toMatch(/not an approver/);
    expect((await state(requestId)).approvals).toHaveLength(0);
  });

  it('a named approver may decide from their private chat with the bot', async () => {
    const { requestId, formMsg, click } = await request();
    const dm = from(cardAction(bot.connector.url, CAROL, 'request.approve', click, formMsg), { conversation: { id: 'dm-carol', conversationType: 'personal' } });
    expect(says(await teams(dm))).toMatch(/Waiting for 1 more approval/);
    expect((await state(requestId)).approvals.map((a) => a.approver.id)).toEqual([CAROL.aadObjectId]);
  });

  it('status, audit, list and check show a request only in its conversation or to the people the policy names', async () => {
    const { requestId } = await request();
    const ask = async (user: TestUser, text: string, conversationId: string) => {
      const m = message(bot.connector.url, user, text, conversationId);
      const answer = bot.connector.waitFor((x) => x.replyToId === m.id, 5000, `answer to ${text}`);
      await teams(m);
      return cardText((await answer).activity);
    };
    // Mallory in another channel: nothing.
    for (const cmd of [`status ${requestId}`, `audit ${requestId}`, `check ${requestId}`]) {
      expect(await ask(MALLORY, cmd, 'conv-random')).toMatch(/You cannot see .* from here/);
    }
    expect(await ask(MALLORY, 'list pending', 'conv-random')).toMatch(/No request is waiting/);
    // In the request's own conversation, anyone there sees it.
    expect(await ask(MALLORY, `status ${requestId}`, 'conv-general')).toContain(`Request: ${requestId}`);
    // An approver the policy names sees it anywhere.
    expect(await ask(CAROL, 'list pending', 'conv-random')).toContain(requestId);
    // Slack: a stranger in another channel.
    await slackCommand(S_STRANGER, 'C0OTHER', `status ${requestId}`);
    await ephemeral(S_STRANGER.id, /You cannot see .* from here/, 'Slack status refused');
  });

  it('--from and check <resource id> read Azure only for people the policy names for that place', async () => {
    const source = simChaosId(SIM_CHAOS_EXISTING);
    const m = message(bot.connector.url, MALLORY, `new chaos-experiment --from ${source}`, 'conv-general');
    const answer = bot.connector.waitFor((x) => x.replyToId === m.id, 5000, 'answer');
    await teams(m);
    const a = await answer;
    expect(cardText(a.activity)).toMatch(/only where the policy names you as a requester or approver/);
    const reads = bot.sim.requests.filter((r) => r.method === 'GET' && r.path.toLowerCase().includes(SIM_CHAOS_EXISTING));
    expect(reads).toHaveLength(0);
  });
});

describe('the whole blast radius, and the policy at the write', () => {
  it('a Chaos selector in another subscription is listed on the card and brings that subscription’s rule in', async () => {
    const target = `/subscriptions/${SIM_SUBSCRIPTION2_ID}/resourceGroups/rg-prod-payments/providers/Microsoft.Compute/virtualMachines/vm-payments-1/providers/Microsoft.Chaos/targets/Microsoft-VirtualMachine`;
    const r = await submitForm(bot, chaosExperimentForm(`exp-${Math.random().toString(36).slice(2, 8)}`, { targetResourceId: target }));
    expect(r.text).toContain(`selector target: /subscriptions/${SIM_SUBSCRIPTION2_ID}/resourceGroups/rg-prod-payments/providers/Microsoft.Compute/virtualMachines/vm-payments-1`);
    expect(r.text).toContain('storage account: /subscriptions/');
    expect(r.text).toContain('key vault: /subscriptions/');
    expect(r.text).toMatch(/rule "platform": 0 of 2 .* rule "sandbox-production": 0 of 3/);
    const req = await state(r.requestId!);
    expect(req.policyRules).toEqual(['platform', 'sandbox-production']);
    expect(req.requiredApprovals).toBe(3);
  });

  it('a pasted definition with a field Chaos Studio does not know is refused, naming it', async () => {
    const definition = JSON.stringify({
      steps: [{ name: 's', branches: [{ name: 'b', actions: [{ type: 'delay', name: 'urn:csci:microsoft:chaosStudio:timedDelay/1.0', duration: 'PT1M', runAs: 'root' }] }] }],
      selectors: [{ type: 'List', id: 'x', targets: [{ type: 'ChaosTarget', id: 'y' }] }],
    });
    const res = await teams(cardAction(bot.connector.url, ALICE, 'form.submit', chaosExperimentForm('exp-unknown', { template: '', definition }), 'form-unknown'));
    expect(says(res)).toMatch(/"runAs" is not part of Chaos Studio's experiment definition/);
  });

  it('a change too large to show in full is refused, never clipped', async () => {
    // Over the form's limit: refused on the field, on the server too.
    const huge = JSON.stringify({
      steps: [{ name: 's', branches: [{ name: 'b', actions: Array.from({ length: 200 }, (_, i) => ({ type: 'delay', name: `urn:x#${i}${'y'.repeat(60)}`, duration: 'PT1M' })) }] }],
      selectors: [{ type: 'List', id: 'x', targets: [{ type: 'ChaosTarget', id: 'y' }] }],
    });
    const refused = await teams(cardAction(bot.connector.url, ALICE, 'form.submit', chaosExperimentForm('exp-huge', { template: '', definition: huge }), 'form-huge'));
    expect(says(refused)).toMatch(/Definition is at most 12,000 characters/);
    // Inside the form's limit, but its payload as the card shows it (pretty-printed) is larger.
    const actions = Array.from({ length: 70 }, (_, i) => ({ type: 'delay', name: `urn:csci:microsoft:chaosStudio:timedDelay/1.0#${'x'.repeat(60)}${i}`, duration: 'PT1M' }));
    const definition = JSON.stringify({
      steps: [{ name: 's', branches: [{ name: 'b', actions }] }],
      selectors: [{ type: 'List', id: 'x', targets: [{ type: 'ChaosTarget', id: `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/rg-cmk-demo/providers/Microsoft.Compute/virtualMachines/vm1` }] }],
    });
    const r = await submitForm(bot, chaosExperimentForm(`exp-big-${Math.random().toString(36).slice(2, 6)}`, { template: '', definition }));
    expect(r.text).toMatch(/too large to show in full on a card .* approvers must see everything they approve/);
    expect(r.requestId).toBeUndefined();
  });

  it('approvals by people the policy no longer names drop out, at the next decision and before the write', async () => {
    const { requestId, formMsg, click } = await request();
    expect(says(await teams(cardAction(bot.connector.url, BOB, 'request.approve', click, formMsg)))).toMatch(/Waiting for 1 more approval/);
    // Bob leaves the security group.
    bot.app.reloadPolicy(parsePolicy(policyText('carol, dave'), 'trust-policy-2'));
    const carol = await teams(cardAction(bot.connector.url, CAROL, 'request.approve', click, formMsg));
    expect(says(carol)).toMatch(/Waiting for 1 more approval/);
    expect((await state(requestId)).state).toBe('pending_approval');

    // Dave approves: approved. Between the approval and the write, Dave leaves too; the executor
    // applies the policy in force and sends the request back to waiting, writing nothing.
    bot.sim.setLatency(400);
    const dave = await teams(cardAction(bot.connector.url, DAVE, 'request.approve', click, formMsg));
    expect(says(dave)).toMatch(/approved and about to run|being applied/);
    bot.app.reloadPolicy(parsePolicy(policyText('carol, erin', 2), 'trust-policy-3'));
    const notice = await bot.connector.waitFor(
      (a) => new RegExp(`${requestId}: nothing was changed in Azure yet\\. The policy changed before the write: approvals by Bob Approver, Dave Approver no longer count`).test(a.activity.text ?? ''),
      20_000,
      'policy re-applied',
    );
    expect(notice.activity.text).toMatch(/"platform" has 1 of 2/);
    bot.sim.setLatency(0);
    await bot.app.queue.drain();
    const req = await state(requestId);
    expect(req.state).toBe('pending_approval');
    expect(req.policyNote).toMatch(/approvals by Bob Approver, Dave Approver no longer count/);
    expect(bot.sim.writes()).toHaveLength(0);
    const trail = await bot.store.auditTrail(requestId);
    expect(trail.find((r) => r.event === 'policy_reapplied')?.data).toMatchObject({ outcome: 'waiting', dropped: ['Bob Approver', 'Dave Approver'] });
  });

  it('changed evidence with every check still passing voids the approvals before the write (the key got a new version)', async () => {
    const { requestId, formMsg, click } = await request();
    await teams(cardAction(bot.connector.url, BOB, 'request.approve', click, formMsg));
    // Someone rotates the key: "latest" now means another version than the one approved.
    const newVersion = 'c0ffee00c0ffee00c0ffee00c0ffee01';
    const keyId = `${simVaultId(SIM_RBAC_VAULT)}/keys/${SIM_KEY}`;
    bot.sim.state.patch(keyId, { properties: { keyUriWithVersion: `https://${SIM_RBAC_VAULT}.vault.azure.net:443/keys/${SIM_KEY}/${newVersion}` } });
    await teams(cardAction(bot.connector.url, CAROL, 'request.approve', click, formMsg));
    const stopped = await bot.connector.waitFor((a) => new RegExp(`${requestId}: nothing was changed in Azure — the evidence the approvals were bound to changed`).test(a.activity.text ?? ''), 20_000, 'voided');
    expect(stopped.activity.text).toMatch(/Earlier approvals no longer count/);
    await bot.app.queue.drain();
    const req = await state(requestId);
    expect(req.state).toBe('pending_approval');
    expect(req.digest).not.toBe(click.digest);
    expect(bot.sim.writes()).toHaveLength(0);
  });
});
