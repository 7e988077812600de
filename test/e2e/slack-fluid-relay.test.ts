// The full flow in Slack over real HTTP: /cmk → modal → submission → checks in the message →
// approvals by two other users → ARM write in the simulator → verification in the thread; with
// the Web API calls asserted against the local stand-in, and the security rules of the endpoint.
import { blockActionPayload, eventBody, interactionBody, LOCAL_SLACK, postToBot, signedHeaders, slashCommandBody, startSlackStandIn, viewSubmissionPayload, type SlackStandIn } from '../../src/dev';
import { SIM_IDENTITY, SIM_KEY, SIM_RBAC_VAULT, SIM_RG, simIdentityId, simKeyUrl } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, type TestBot } from '../helpers/bot';

const SECRET = 'local-signing-secret-for-tests';
const CHANNEL = 'C0CMKREQ';
const ALEX = { id: 'U0ALEX', name: 'alex' };
const RILEY = { id: 'U0RILEY', name: 'riley' };
const SAM = { id: 'U0SAM', name: 'sam' };

let slack: SlackStandIn;
let bot: TestBot;

beforeAll(async () => {
  slack = await startSlackStandIn({ users: { U0ALEX: { name: 'alex' }, U0RILEY: { name: 'riley' }, U0SAM: { name: 'sam' } } });
  const policy = parsePolicy(
    `version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: slack\n    requesters: ["slack:T0LOCAL01/${ALEX.id}"]\n    approvers: ["slack:T0LOCAL01/${RILEY.id}", "slack:T0LOCAL01/${SAM.id}", "slack:T0LOCAL01/${ALEX.id}"]\n    approvalsRequired: 1\n`,
    'slack-policy',
  );
  bot = await startBot(policy, { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.url });
});
afterAll(async () => {
  await bot?.close();
  await slack?.close();
});

const endpoint = () => `${bot.app.url}/slack/events`;

async function send(raw: string, contentType: string, opts: Parameters<typeof signedHeaders>[2] = {}) {
  return postToBot(endpoint(), raw, signedHeaders(SECRET, raw, { contentType, ...opts }));
}
const slash = (user: typeof ALEX, text: string) =>
  send(
    slashCommandBody({ text, user_id: user.id, user_name: user.name, channel_id: CHANNEL, trigger_id: slack.triggerId({ user: user.id }), response_url: slack.responseUrl({ channel: CHANNEL, user: user.id }) }),
    'application/x-www-form-urlencoded',
  );
const interact = (payload: Record<string, unknown>) => send(interactionBody(payload), 'application/x-www-form-urlencoded');

/** The index an option has in a modal's select, by the text a person would pick. */
function option(view: Record<string, unknown>, blockId: string, text: RegExp): string {
  const block = (view.blocks as Array<{ block_id?: string; element?: { options?: Array<{ text: { text: string }; value: string }> } }>).find((b) => b.block_id === blockId);
  const opt = block?.element?.options?.find((o) => text.test(o.text.text));
  if (!opt) throw new Error(`no option ${text} in ${blockId}`);
  return opt.value;
}

async function openForm(user = ALEX) {
  const before = slack.callsTo('views.update').length;
  const res = await slash(user, 'new fluid-relay');
  expect(res.status).toBe(200);
  await slack.waitFor(() => slack.callsTo('views.update').length > before, 10000, 'form filled in');
  return [...slack.views.values()].at(-1)!;
}

async function submitForm(name: string, over: Record<string, RegExp> = {}, opened?: Awaited<ReturnType<typeof openForm>>) {
  const form = opened ?? (await openForm());
  const view = form.view;
  const pick = (block: string, dflt: RegExp) => ({ value: { type: 'static_select', selected_option: { value: option(view, block, over[block] ?? dflt) } } });
  const payload = viewSubmissionPayload({
    user: ALEX,
    view: { ...view, id: form.id, hash: form.hash },
    values: {
      resourceGroup: pick('resourceGroup', new RegExp(`^${SIM_RG} `)),
      name: { value: { type: 'plain_text_input', value: name } },
      location: pick('location', /\(eastus\)/),
      identityId: pick('identityId', new RegExp(`^${SIM_IDENTITY} `)),
      keyUrl: pick('keyUrl', new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_KEY} `)),
    },
  });
  return interact(payload);
}

function text(blocks: unknown): string {
  return JSON.stringify(blocks ?? []);
}

describe('Slack: Fluid Relay with CMK, end to end', () => {
  it('slash command → modal → checks → two approvals → ARM write → verification in the thread', async () => {
    const calls0 = slack.calls.length;
    const name = `fr-slack-${Math.random().toString(36).slice(2, 7)}`;
    const ack = await submitForm(name);
    expect(ack.status).toBe(200);
    expect(ack.text).toBe('');

    // The request message, with the checks and the buttons.
    const posted = await slack.waitFor(() => slack.messages.find((m) => m.channel === CHANNEL && text(m.blocks).includes(name) && !m.thread_ts && !m.ephemeralFor), 15000, 'request message');
    expect(text(posted.blocks)).toMatch(/Waiting for 2 more approvals/);
    expect(text(posted.blocks)).toMatch(/Prerequisite checks:\* 19 passed, 4 for information/);
    expect(text(posted.blocks)).toContain('"action_id":"request.approve"');
    const requestId = /Request\*\\n(CR-[A-Z0-9]{6})/.exec(text(posted.blocks))?.[1];
    expect(requestId).toBeDefined();

    const press = (user: typeof ALEX, actionId: string) => interact(blockActionPayload({ user, channel: CHANNEL, messageTs: posted.ts, actionId, triggerId: slack.triggerId({ user: user.id }), message: slack.message(CHANNEL, posted.ts)! }));

    // The requester's own Approve is refused, privately.
    expect((await press(ALEX, 'request.approve')).status).toBe(200);
    await slack.waitFor(() => slack.messages.find((m) => m.ephemeralFor === ALEX.id && /so you cannot approve it/.test(m.text ?? '')), 5000, 'self-approval refusal');

    await press(RILEY, 'request.approve');
    await slack.waitFor(() => /Waiting for 1 more approval/.test(text(slack.message(CHANNEL, posted.ts)?.blocks)), 5000, '1 of 2');
    await press(SAM, 'request.approve');
    await slack.waitFor(() => /Created and verified/.test(text(slack.message(CHANNEL, posted.ts)?.blocks)), 15000, 'done');
    await slack.waitFor(() => slack.thread(CHANNEL, posted.ts).find((m) => /done: .* — Created and verified/.test(m.text ?? '')), 5000, 'result in thread');

    const writes = bot.sim.writes();
    expect(writes).toHaveLength(1);
    expect(writes[0]!.body).toMatchObject({
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } },
      properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY) } } },
    });
    const methods = slack.calls.slice(calls0).map((c) => c.method);
    expect(methods).toEqual(expect.arrayContaining(['views.open', 'views.update', 'chat.postMessage', 'chat.update', 'chat.postEphemeral']));
    expect(slack.calls.filter((c) => c.error)).toEqual([]);
  });

  it('acknowledges before any Azure work: with slow ARM the ack comes back before the form or the request is ready', async () => {
    bot.sim.setLatency(1000);
    try {
      const updates = slack.callsTo('views.update').length;
      const res = await slash(ALEX, 'new fluid-relay');
      expect(res.status).toBe(200);
      // Loading the pickers takes several ARM round trips: none had finished when Slack got its answer.
      expect(slack.callsTo('views.update').length).toBe(updates);
      await slack.waitFor(() => slack.callsTo('views.update').length > updates, 20000, 'form filled in later');

      const form = [...slack.views.values()].at(-1)!;
      const posts = slack.callsTo('chat.postMessage').length;
      const name = `fr-slow-${Math.random().toString(36).slice(2, 7)}`;
      const sel = (block: string, re: RegExp) => ({ value: { type: 'static_select', selected_option: { value: option(form.view, block, re) } } });
      const ack = await interact(
        viewSubmissionPayload({
          user: ALEX,
          view: { ...form.view, id: form.id, hash: form.hash },
          values: {
            resourceGroup: sel('resourceGroup', new RegExp(`^${SIM_RG} `)),
            name: { value: { type: 'plain_text_input', value: name } },
            location: sel('location', /\(eastus\)/),
            identityId: sel('identityId', new RegExp(`^${SIM_IDENTITY} `)),
            keyUrl: sel('keyUrl', new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_KEY} `)),
          },
        }),
      );
      expect(ack.status).toBe(200);
      // The checks need at least four dependent ARM reads: the request message comes after the ack.
      expect(slack.callsTo('chat.postMessage').length).toBe(posts);
      await slack.waitFor(() => slack.messages.find((m) => JSON.stringify(m.blocks ?? []).includes(name)), 30000, 'request message later');
    } finally {
      bot.sim.setLatency(0);
    }
  }, 60_000);

  it('modal validation errors come back on the named field within the ack, and nothing is stored', async () => {
    const before = (await bot.store.listRequests({ limit: 500 })).length;
    const ack = await submitForm('x');
    expect(ack.json).toEqual({ response_action: 'errors', errors: { name: expect.stringMatching(/Server name must be 3-50 letters/) } });
    expect((await bot.store.listRequests({ limit: 500 })).length).toBe(before);
  });

  it('a modal fixed after an error and submitted again is taken, not dropped as a repeat', async () => {
    const form = await openForm();
    const bad = await submitForm('x', {}, form);
    expect(bad.json).toMatchObject({ response_action: 'errors' });
    // The same modal (same view id and hash: an error answer does not update the view), fixed.
    const name = `fr-slack-${Math.random().toString(36).slice(2, 7)}`;
    const good = await submitForm(name, {}, form);
    expect(good.status).toBe(200);
    await slack.waitFor(() => slack.messages.find((m) => m.channel === CHANNEL && text(m.blocks).includes(name) && !m.thread_ts && !m.ephemeralFor), 15000, 'request message after the fix');
  });

  it('a rejection asks for a reason, and user text cannot inject mentions', async () => {
    const name = `fr-slack-${Math.random().toString(36).slice(2, 7)}`;
    await submitForm(name);
    const posted = await slack.waitFor(() => slack.messages.find((m) => text(m.blocks).includes(name) && !m.thread_ts && !m.ephemeralFor), 15000, 'request');
    await interact(blockActionPayload({ user: RILEY, channel: CHANNEL, messageTs: posted.ts, actionId: 'request.reject', triggerId: slack.triggerId({ user: RILEY.id }), message: slack.message(CHANNEL, posted.ts)! }));
    const modal = await slack.waitFor(() => [...slack.views.values()].find((v) => v.view.callback_id === 'cmk_reject'), 5000, 'reason modal');
    // Too short first: the error comes back on the field; the same modal, fixed, is then taken.
    const short = await interact(viewSubmissionPayload({ user: RILEY, view: { ...modal.view, id: modal.id, hash: modal.hash }, values: { reason: { value: { type: 'plain_text_input', value: 'no' } } } }));
    expect(short.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringMatching(/at least 3 characters/) } });
    const submit = await interact(
      viewSubmissionPayload({ user: RILEY, view: { ...modal.view, id: modal.id, hash: modal.hash }, values: { reason: { value: { type: 'plain_text_input', value: 'nope <!channel> see <https://evil.example|your bank>' } } } }),
    );
    expect(submit.status).toBe(200);
    const note = await slack.waitFor(() => slack.thread(CHANNEL, posted.ts).find((m) => /rejected by riley/.test(m.text ?? '')), 5000, 'rejection in thread');
    expect(note.text).toContain('&lt;!channel&gt;');
    expect(note.text).not.toContain('<!channel>');
    expect(note.text).toContain('&lt;https://evil.example|your bank&gt;');
    expect(bot.sim.writes()).toHaveLength(1); // only the first test's
  });

  it.each([
    ['a forged signature', { signature: 'v0=' + '0'.repeat(64) }],
    ['a stale timestamp (6 minutes old)', { timestamp: Math.floor(Date.now() / 1000) - 360 }],
    ['a future timestamp (6 minutes ahead)', { timestamp: Math.floor(Date.now() / 1000) + 360 }],
    ['no signature at all', { strip: true }],
  ])('%s gets 401 and changes nothing', async (_name, how) => {
    const calls = slack.calls.length;
    const raw = slashCommandBody({ text: 'new fluid-relay', user_id: ALEX.id, channel_id: CHANNEL, trigger_id: slack.triggerId({ user: ALEX.id }), response_url: slack.responseUrl() });
    const headers = signedHeaders(SECRET, raw, { contentType: 'application/x-www-form-urlencoded', timestamp: (how as { timestamp?: number }).timestamp });
    if ((how as { signature?: string }).signature) headers['x-slack-signature'] = (how as { signature: string }).signature;
    if ((how as { strip?: boolean }).strip) {
      delete headers['x-slack-signature'];
      delete headers['X-Slack-Signature'];
    }
    const res = await postToBot(endpoint(), raw, headers);
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.calls.length).toBe(calls);
  });

  it('an oversized body is refused with 413 before its signature is checked or it is parsed', async () => {
    const calls = slack.calls.length;
    const raw = slashCommandBody({ text: `status ${'x'.repeat(1.2 * 1024 * 1024)}`, user_id: ALEX.id, channel_id: CHANNEL, trigger_id: slack.triggerId({ user: ALEX.id }), response_url: slack.responseUrl() });
    const res = await send(raw, 'application/x-www-form-urlencoded');
    expect(res.status).toBe(413);
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.calls.length).toBe(calls);
  });

  it('an approval that cannot be stored is answered 500 (Slack retries it), and the retry is taken, not dropped as a duplicate', async () => {
    const payload = blockActionPayload({ user: RILEY, channel: CHANNEL, messageTs: '1732280000.777700', actionId: 'request.approve', value: JSON.stringify({ requestId: 'CR-222222' }), triggerId: slack.triggerId({ user: RILEY.id }) });
    const ephemerals = () => slack.callsTo('chat.postEphemeral').filter((c) => /There is no request CR-222222/.test(String(c.args.text ?? ''))).length;
    await bot.store.db.exec('ALTER TABLE jobs RENAME TO jobs_away');
    let first;
    try {
      first = await interact(payload);
    } finally {
      await bot.store.db.exec('ALTER TABLE jobs_away RENAME TO jobs');
    }
    expect(first.status).toBe(500);
    await new Promise((r) => setTimeout(r, 300));
    expect(ephemerals()).toBe(0);
    const retry = await interact(payload);
    expect(retry.status).toBe(200);
    await slack.waitFor(() => ephemerals() === 1, 5000, 'the refusal, shown to the approver');
  });

  it('asks Slack who the bot is once, not before every acknowledgement', async () => {
    for (let i = 0; i < 3; i++) expect((await slash(ALEX, 'help')).status).toBe(200);
    await slack.waitFor(() => slack.responses.length > 0, 5000, 'help answers');
    expect(slack.callsTo('auth.test').length).toBe(1);
  });

  it('a retried event is processed once', async () => {
    const calls = slack.callsTo('chat.postMessage').length;
    const raw = eventBody({ type: 'app_mention', user: ALEX.id, text: `<@${LOCAL_SLACK.botUserId}> help`, channel: CHANNEL, ts: '1732280000.000900' }, { event_id: 'Ev0RETRY1' });
    expect((await send(raw, 'application/json')).status).toBe(200);
    expect((await send(raw, 'application/json', { retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    await slack.waitFor(() => slack.callsTo('chat.postMessage').length > calls, 5000, 'help reply');
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.callsTo('chat.postMessage').length).toBe(calls + 1);
  });

  it('an identical signed slash command replayed within the window runs once', async () => {
    const opens = slack.callsTo('views.open').length;
    const responses = slack.responses.length;
    const raw = slashCommandBody({
      text: 'new fluid-relay',
      user_id: ALEX.id,
      user_name: ALEX.name,
      channel_id: CHANNEL,
      trigger_id: slack.triggerId({ user: ALEX.id }),
      response_url: slack.responseUrl({ channel: CHANNEL, user: ALEX.id }),
    });
    const headers = signedHeaders(SECRET, raw, { contentType: 'application/x-www-form-urlencoded' });
    // The same bytes with the same signature, three times: a replay, not three people.
    const answers = await Promise.all([0, 1, 2].map(() => postToBot(endpoint(), raw, headers)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await slack.waitFor(() => slack.callsTo('views.open').length > opens, 5000, 'the form opened');
    await new Promise((r) => setTimeout(r, 500));
    expect(slack.callsTo('views.open').length).toBe(opens + 1);
    // Nobody is told that a trigger expired or a form could not be opened.
    expect(slack.responses.length).toBe(responses);
    expect(slack.callsTo('chat.postEphemeral').filter((c) => /trigger|could not/i.test(JSON.stringify(c))).length).toBe(0);
  });

  it('other verbs answer through response_url, escaped', async () => {
    const before = slack.responses.length;
    await slash(ALEX, 'status <!here>');
    const r = await slack.waitFor(() => slack.responses.slice(before).find((x) => /is not a request id/.test(JSON.stringify(x.body))), 5000, 'usage reply');
    expect(JSON.stringify(r.body)).toContain('&lt;!here&gt;');
    expect(JSON.stringify(r.body)).not.toContain('<!here>');
    // The cause, then where to read on — not the whole help, which would push the cause off screen.
    expect(JSON.stringify(r.body)).toMatch(/Send `\/cmk help[ a-z]*` for /);
    expect(JSON.stringify(r.body)).not.toContain('/cmk new fluid-relay');
  });

  it('a 429 from the Web API is retried after Retry-After, not dropped', async () => {
    const calls = slack.callsTo('chat.postMessage').length;
    slack.rateLimit('chat.postMessage', 1);
    const raw = eventBody({ type: 'app_mention', user: ALEX.id, text: 'help', channel: CHANNEL, ts: '1732280000.000950' }, { event_id: 'Ev0RATE1' });
    await send(raw, 'application/json');
    await slack.waitFor(
      () =>
        slack
          .callsTo('chat.postMessage')
          .slice(calls)
          .find((c) => c.status === 200),
      8000,
      'retried post',
    );
    const tries = slack.callsTo('chat.postMessage').slice(calls);
    expect(tries.map((c) => c.status)).toEqual([429, 200]);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(900);
  });
});
