// The local Slack harness, driven by the real @slack/web-api WebClient (and once by a real Bolt App).
import { WebClient, ErrorCode, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import { App, LogLevel, verifySlackRequest } from '@slack/bolt';
import type { Server } from 'node:http';
import { blockActionPayload, eventBody, interactionBody, LOCAL_SLACK, postToBot, signedHeaders, slackBlockErrors, slackSignature, slashCommandBody, startSlackStandIn, viewSubmissionPayload, type SlackStandIn } from '../../src/dev';

// The WebClient logs every [ERROR] of a refusal; these tests provoke refusals on purpose.
const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => LogLevel.ERROR, setName() {} };
const client = (s: SlackStandIn, token: string | undefined = s.botToken, extra: Record<string, unknown> = {}) => new WebClient(token, { slackApiUrl: s.url, retryConfig: { retries: 0 }, timeout: 2000, logger: quiet, ...extra });

/** The Slack error code of a rejected WebClient call. */
async function slackError(p: Promise<unknown>): Promise<WebAPIPlatformError['data']> {
  try {
    await p;
  } catch (e) {
    const err = e as WebAPIPlatformError;
    expect(err.code).toBe(ErrorCode.PlatformError);
    return err.data;
  }
  throw new Error('expected the call to fail');
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const modal = (over: Record<string, unknown> = {}) => ({
  type: 'modal' as const,
  callback_id: 'cmk_enable',
  title: { type: 'plain_text' as const, text: 'Enable CMK' },
  close: { type: 'plain_text' as const, text: 'Cancel' },
  blocks: [section('Loading…')],
  ...over,
});

describe('slack stand-in', () => {
  let s: SlackStandIn;
  let web: WebClient;
  beforeAll(async () => {
    s = await startSlackStandIn({ users: { U0ALICE: { name: 'alice', real_name: 'Alice A', email: 'alice@example.com' } } });
    web = client(s);
  });
  afterAll(() => s.close());
  beforeEach(() => s.reset());

  it('answers auth.test, users.info and refuses unknown users and methods', async () => {
    const auth = await web.auth.test();
    expect(auth).toMatchObject({ ok: true, team_id: LOCAL_SLACK.teamId, user_id: LOCAL_SLACK.botUserId, bot_id: LOCAL_SLACK.botId, url: expect.stringMatching(/^https:\/\//) });
    const info = await web.users.info({ user: 'U0ALICE' });
    expect(info.user).toMatchObject({ id: 'U0ALICE', name: 'alice', real_name: 'Alice A', profile: { email: 'alice@example.com' } });
    expect((await slackError(web.users.info({ user: 'U0NOBODY' }))).error).toBe('user_not_found');
    expect((await slackError(web.apiCall('chat.scheduleMessage', { channel: 'C1', text: 'x', post_at: 1 }))).error).toBe('unknown_method');
    expect(s.callsTo('auth.test')[0]).toMatchObject({ token: s.botToken, status: 200 });
  });

  it('refuses a wrong token (invalid_auth) and a missing one (not_authed)', async () => {
    expect((await slackError(client(s, 'xoxb-wrong').chat.postMessage({ channel: 'C1', text: 'hi' }))).error).toBe('invalid_auth');
    // (a default parameter would turn `undefined` back into the bot token)
    const anonymous = new WebClient(undefined, { slackApiUrl: s.url, retryConfig: { retries: 0 }, timeout: 2000, logger: quiet });
    expect((await slackError(anonymous.auth.test())).error).toBe('not_authed');
    expect(s.messages).toHaveLength(0);
  });

  it('posts, updates and threads messages', async () => {
    const blocks = [section('*Enable CMK* on `kv-prod`')];
    const first = await web.chat.postMessage({ channel: 'C0OPS', text: 'Enable CMK', blocks });
    expect(first).toMatchObject({ ok: true, channel: 'C0OPS', message: { text: 'Enable CMK', user: s.botUserId, bot_id: LOCAL_SLACK.botId } });
    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    // Slack gives blocks without one a block_id.
    expect(first.message?.blocks?.[0]?.block_id).toEqual(expect.any(String));

    const reply = await web.chat.postMessage({ channel: 'C0OPS', text: 'step 1 ok', thread_ts: first.ts! });
    const reply2 = await web.chat.postMessage({ channel: 'C0OPS', text: 'step 2 ok', thread_ts: first.ts! });
    expect(Number(reply.ts) > Number(first.ts) && Number(reply2.ts) > Number(reply.ts)).toBe(true);
    expect(s.thread('C0OPS', first.ts!).map((m) => m.text)).toEqual(['step 1 ok', 'step 2 ok']);

    const upd = await web.chat.update({ channel: 'C0OPS', ts: first.ts!, text: 'Enabled', blocks: [section('Done')] });
    expect(upd).toMatchObject({ ok: true, channel: 'C0OPS', ts: first.ts, text: 'Enabled' });
    const m = s.message('C0OPS', first.ts!)!;
    expect(m).toMatchObject({ text: 'Enabled', updates: 1, blocks: [{ text: { text: 'Done' } }] });
    expect(s.messages.map((x) => x.text)).toEqual(['Enabled', 'step 1 ok', 'step 2 ok']);

    expect((await slackError(web.chat.update({ channel: 'C0OPS', ts: '1.000001', text: 'x' }))).error).toBe('message_not_found');

    const eph = await web.chat.postEphemeral({ channel: 'C0OPS', user: 'U0ALICE', text: 'only you' });
    expect(s.message('C0OPS', eph.message_ts!)).toMatchObject({ ephemeralFor: 'U0ALICE', text: 'only you' });
    // Ephemeral messages cannot be edited through chat.update.
    expect((await slackError(web.chat.update({ channel: 'C0OPS', ts: eph.message_ts!, text: 'x' }))).error).toBe('message_not_found');

    // A user id as channel posts to the app's DM with that user.
    const dm = await web.chat.postMessage({ channel: 'U0ALICE', text: 'approve?' });
    expect(dm.channel).toBe(s.imChannel('U0ALICE'));
    expect(dm.channel).toMatch(/^D/);
    expect((await slackError(web.apiCall('chat.postMessage', { channel: 'C0OPS' }))).error).toBe('no_text');
  });

  it('also understands JSON bodies', async () => {
    const res = await fetch(`${s.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.botToken}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0OPS', text: 'json', blocks: [section('json')] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0OPS' });
    expect(s.calls[0]!.args).toMatchObject({ channel: 'C0OPS', blocks: [{ type: 'section' }] });
  });

  it('refuses Block Kit output over Slack limits', async () => {
    const many = Array.from({ length: 51 }, (_, i) => section(`row ${i}`));
    const tooMany = await slackError(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: many }));
    expect(tooMany.error).toBe('invalid_blocks');
    expect(tooMany.response_metadata?.messages?.[0]).toMatch(/no more than 50 items \[json-pointer:\/blocks\]/);
    await expect(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: many.slice(0, 50) })).resolves.toMatchObject({ ok: true });

    const long = await slackError(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: [section('a'.repeat(3001))] }));
    expect(long.error).toBe('invalid_blocks');
    expect(long.response_metadata?.messages?.[0]).toContain('[json-pointer:/blocks/0/text/text]');
    expect((await slackError(web.chat.postMessage({ channel: 'C0OPS', text: 'a'.repeat(40001) }))).error).toBe('msg_too_long');
    expect((await slackError(web.chat.postMessage({ channel: 'C0OPS', text: 'x', blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } } as never] }))).error).toBe('invalid_blocks');
    expect(slackBlockErrors([section('ok'), { type: 'divider' }], 'message')).toEqual([]);

    const trigger = () => s.triggerId({ user: 'U0ALICE' });
    const title = await slackError(web.views.open({ trigger_id: trigger(), view: modal({ title: { type: 'plain_text', text: 'x'.repeat(25) } }) }));
    expect(title.error).toBe('invalid_arguments');
    expect(title.response_metadata?.messages?.[0]).toContain('[json-pointer:/view/title/text]');
    expect((await slackError(web.views.open({ trigger_id: trigger(), view: modal({ submit: { type: 'plain_text', text: 'y'.repeat(25) } }) }))).error).toBe('invalid_arguments');
    expect((await slackError(web.views.open({ trigger_id: trigger(), view: modal({ private_metadata: 'm'.repeat(3001) }) }))).error).toBe('invalid_arguments');
    const blocks101 = Array.from({ length: 101 }, (_, i) => section(`row ${i}`));
    expect((await slackError(web.views.open({ trigger_id: trigger(), view: modal({ blocks: blocks101 }) }))).error).toBe('invalid_arguments');
    const huge = Array.from({ length: 90 }, () => section('z'.repeat(2900)));
    expect((await slackError(web.views.open({ trigger_id: trigger(), view: modal({ blocks: huge }) }))).error).toBe('view_too_large');
    const input = { type: 'input', block_id: 'why', label: { type: 'plain_text', text: 'Why?' }, element: { type: 'plain_text_input', action_id: 'v' } };
    const noSubmit = await slackError(web.views.open({ trigger_id: trigger(), view: modal({ blocks: [input] }) }));
    expect(noSubmit.response_metadata?.messages?.[0]).toMatch(/submit is required/);
    expect(s.views.size).toBe(0);
  });

  it('surfaces 429 + Retry-After to a WebClient that rejects rate-limited calls', async () => {
    s.rateLimit('chat.postMessage', 7);
    const limited = client(s, s.botToken, { rejectRateLimitedCalls: true });
    const err = (await limited.chat.postMessage({ channel: 'C0OPS', text: 'x' }).catch((e: unknown) => e)) as WebAPIRateLimitedError;
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(7);
    expect(s.callsTo('chat.postMessage')[0]).toMatchObject({ status: 429, error: 'ratelimited' });
    await expect(limited.chat.postMessage({ channel: 'C0OPS', text: 'x' })).resolves.toMatchObject({ ok: true });

    s.rateLimit('views.update', 30, 2);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${s.url}views.update`, { method: 'POST', headers: { authorization: `Bearer ${s.botToken}` }, body: 'view_id=V1' });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(await res.json()).toEqual({ ok: false, error: 'ratelimited' });
    }
    const third = await fetch(`${s.url}views.update`, { method: 'POST', headers: { authorization: `Bearer ${s.botToken}` }, body: 'view_id=V1' });
    expect(third.status).toBe(200);
  });

  it('lets a response_url be used 5 times, then answers 404', async () => {
    const url = s.responseUrl();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/response\/[\w-]+$/);
    for (let i = 1; i <= 5; i++) {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `try ${i}` }) });
      expect(r.status).toBe(200);
    }
    const sixth = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'again' }) });
    expect(sixth.status).toBe(404);
    expect(s.responses.map((r) => (r.body as { text: string }).text)).toEqual(['try 1', 'try 2', 'try 3', 'try 4', 'try 5']);
  });

  it('applies replace_original and ephemeral responses when the response_url has a context', async () => {
    const posted = await web.chat.postMessage({ channel: 'C0OPS', text: 'Approve?' });
    const url = s.responseUrl({ channel: 'C0OPS', user: 'U0ALICE', messageTs: posted.ts! });
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ replace_original: true, text: 'Approved by alice' }) });
    expect(s.message('C0OPS', posted.ts!)).toMatchObject({ text: 'Approved by alice', updates: 1 });
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'noted' }) });
    expect(s.messages.at(-1)).toMatchObject({ channel: 'C0OPS', text: 'noted', ephemeralFor: 'U0ALICE' });
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x', blocks: Array.from({ length: 51 }, () => section('r')) }) });
    expect(bad.status).toBe(400);
  });

  it('waitFor resolves on a value and times out with a dump of the calls', async () => {
    setTimeout(() => void web.chat.postMessage({ channel: 'C0OPS', text: 'later' }), 30);
    const m = await s.waitFor(() => s.messages.find((x) => x.text === 'later'), 2000, 'the later message');
    expect(m.channel).toBe('C0OPS');
    await expect(s.waitFor(() => s.messages.find((x) => x.text === 'never'), 100, 'a message never posted')).rejects.toThrow(/a message never posted[\s\S]*chat\.postMessage -> 200 ok channel=C0OPS text="later"/);
  });
});

describe('slack stand-in views', () => {
  let clock = Date.parse('2024-11-22T12:00:00Z');
  let s: SlackStandIn;
  let web: WebClient;
  beforeAll(async () => {
    s = await startSlackStandIn({ now: () => clock });
    web = client(s);
  });
  afterAll(() => s.close());

  it('opens a modal with a fresh trigger_id once, and refuses used, stale and unknown ones', async () => {
    const fresh = s.triggerId({ user: 'U0ALICE' });
    clock += 2500;
    const opened = await web.views.open({ trigger_id: fresh, view: modal({ private_metadata: 'req-1' }) });
    expect(opened.view).toMatchObject({ id: expect.stringMatching(/^V[A-Z0-9]+$/), hash: expect.any(String), type: 'modal', callback_id: 'cmk_enable', private_metadata: 'req-1' });
    expect(opened.view?.root_view_id).toBe(opened.view?.id);
    expect(s.views.get(opened.view!.id!)).toMatchObject({ user: 'U0ALICE', hash: opened.view!.hash });

    expect((await slackError(web.views.open({ trigger_id: fresh, view: modal() }))).error).toBe('exchanged_trigger_id');
    const stale = s.triggerId();
    clock += 3001;
    expect((await slackError(web.views.open({ trigger_id: stale, view: modal() }))).error).toBe('expired_trigger_id');
    expect((await slackError(web.views.open({ trigger_id: '123.456.abc', view: modal() }))).error).toBe('invalid_trigger_id');
  });

  it('updates a view by id or external_id, refusing a stale hash', async () => {
    const opened = await web.views.open({ trigger_id: s.triggerId({ user: 'U0BOB' }), view: modal({ external_id: 'req-42' }) });
    const id = opened.view!.id!;
    const h1 = opened.view!.hash!;
    const u1 = await web.views.update({ view_id: id, hash: h1, view: modal({ blocks: [section('Key vault: kv-prod')] }) });
    expect(u1.view).toMatchObject({ id, root_view_id: id, external_id: 'req-42' });
    expect(u1.view!.hash).not.toBe(h1);
    expect((await slackError(web.views.update({ view_id: id, hash: h1, view: modal() }))).error).toBe('hash_conflict');
    const u2 = await web.views.update({ external_id: 'req-42', view: modal({ blocks: [section('Done')] }) });
    expect(u2.view!.id).toBe(id);
    expect(s.views.get(id)!.hash).toBe(u2.view!.hash);
    expect(s.views.get(id)!.view.blocks).toMatchObject([{ text: { text: 'Done' } }]);
    expect((await slackError(web.views.update({ view_id: 'VNOPE', view: modal() }))).error).toBe('not_found');
    expect((await slackError(web.views.open({ trigger_id: s.triggerId(), view: modal({ external_id: 'req-42' }) }))).error).toBe('duplicate_external_id');
  });

  it('pushes up to 3 views onto a stack', async () => {
    const root = (await web.views.open({ trigger_id: s.triggerId({ user: 'U0CAROL' }), view: modal() })).view!;
    const second = (await web.views.push({ trigger_id: s.triggerId({ user: 'U0CAROL', viewId: root.id! }), view: modal() })).view!;
    expect(second).toMatchObject({ root_view_id: root.id, previous_view_id: root.id });
    await web.views.push({ trigger_id: s.triggerId({ user: 'U0CAROL', viewId: second.id! }), view: modal() });
    expect((await slackError(web.views.push({ trigger_id: s.triggerId({ user: 'U0CAROL', viewId: second.id! }), view: modal() }))).error).toBe('push_limit_reached');
  });
});

describe('slack requests', () => {
  it('signs like Slack (documented example)', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', 1531420618, body)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  it('builds bodies and headers that Bolt verifies and parses', async () => {
    const body = slashCommandBody({ text: 'enable kv-prod now', user_id: 'U0ALICE', channel_id: 'C0OPS', trigger_id: '1.2.3', response_url: 'http://127.0.0.1:1/response/x' });
    expect([...new URLSearchParams(body).keys()]).toEqual(['token', 'team_id', 'team_domain', 'channel_id', 'channel_name', 'user_id', 'user_name', 'command', 'text', 'api_app_id', 'is_enterprise_install', 'response_url', 'trigger_id']);
    expect(body).toContain('command=%2Fcmk&text=enable+kv-prod+now');
    const headers = signedHeaders('secret', body, { retryNum: 1, retryReason: 'http_timeout' });
    expect(headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded', 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    expect(() => verifySlackRequest({ signingSecret: 'secret', body, headers: headers as never })).not.toThrow();
    expect(() => verifySlackRequest({ signingSecret: 'other', body, headers: headers as never })).toThrow(/signature mismatch/);
    expect(signedHeaders('secret', eventBody({ type: 'app_mention', user: 'U0ALICE', text: 'hi', channel: 'C0OPS', ts: '1.000100' }))['content-type']).toBe('application/json');
    const envelope = JSON.parse(eventBody({ type: 'app_mention' }, { event_id: 'Ev1' }));
    expect(envelope).toMatchObject({ type: 'event_callback', event_id: 'Ev1', team_id: LOCAL_SLACK.teamId, api_app_id: LOCAL_SLACK.appId, event: { type: 'app_mention', event_ts: expect.any(String) } });
  });

  it('builds block_actions and view_submission payloads from what the stand-in holds', async () => {
    const s = await startSlackStandIn();
    try {
      const web = client(s);
      const posted = await web.chat.postMessage({
        channel: 'C0OPS',
        text: 'Approve?',
        blocks: [section('Approve CMK on kv-prod?'), { type: 'actions', block_id: 'decide', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'req-1', style: 'primary' }] }],
      });
      const msg = s.message('C0OPS', posted.ts!)!;
      const click = blockActionPayload({ user: { id: 'U0ALICE', name: 'alice' }, channel: 'C0OPS', messageTs: msg.ts, actionId: 'approve', triggerId: s.triggerId(), responseUrl: s.responseUrl(), message: msg });
      expect(click).toMatchObject({
        type: 'block_actions',
        container: { type: 'message', message_ts: msg.ts, channel_id: 'C0OPS', is_ephemeral: false },
        message: { type: 'message', ts: msg.ts, text: 'Approve?' },
        actions: [{ type: 'button', block_id: 'decide', action_id: 'approve', value: 'req-1', text: { text: 'Approve' } }],
      });
      expect(() => blockActionPayload({ user: { id: 'U0ALICE' }, channel: 'C0OPS', messageTs: msg.ts, actionId: 'nope', triggerId: 't', message: msg })).toThrow(/decide\/approve/);
      expect(interactionBody(click).startsWith('payload=%7B%22type%22%3A%22block_actions%22')).toBe(true);

      const view = modal({
        submit: { type: 'plain_text', text: 'Enable' },
        private_metadata: 'req-1',
        blocks: [
          { type: 'input', block_id: 'key', label: { type: 'plain_text', text: 'Key' }, element: { type: 'static_select', action_id: 'pick', options: [{ text: { type: 'plain_text', text: 'kv-prod/cmk' }, value: 'k1' }] } },
          { type: 'input', block_id: 'why', optional: true, label: { type: 'plain_text', text: 'Why?' }, element: { type: 'plain_text_input', action_id: 'v' } },
        ],
      });
      const opened = await web.views.open({ trigger_id: s.triggerId({ user: 'U0ALICE' }), view });
      const held = s.views.get(opened.view!.id!)!.view;
      const submit = viewSubmissionPayload({ user: { id: 'U0ALICE' }, view: held, values: { key: { pick: { type: 'static_select', selected_option: { value: 'k1' } } } } });
      expect(submit).toMatchObject({
        type: 'view_submission',
        view: {
          id: held.id,
          hash: held.hash,
          callback_id: 'cmk_enable',
          private_metadata: 'req-1',
          state: { values: { key: { pick: { type: 'static_select', selected_option: { value: 'k1', text: { text: 'kv-prod/cmk' } } } }, why: { v: { type: 'plain_text_input', value: null } } } },
        },
      });
    } finally {
      await s.close();
    }
  });

  it('drives a real Bolt App: slash command → views.open with the trigger, a button click, a view submission', async () => {
    const s = await startSlackStandIn();
    const app = new App({
      token: s.botToken,
      signingSecret: 'shh',
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: s.url, retryConfig: { retries: 0 }, timeout: 2000 },
    });
    app.command('/cmk', async ({ ack, client: c, body, respond }) => {
      await ack();
      await c.views.open({ trigger_id: body.trigger_id, view: modal() });
      await respond({ text: `got ${body.text}` });
    });
    const seen: string[] = [];
    app.action('approve', async ({ ack, body }) => {
      await ack();
      seen.push(`action ${(body as { actions: Array<{ value: string }> }).actions[0]!.value}`);
    });
    app.view('cmk_enable', async ({ ack, view }) => {
      await ack();
      seen.push(`submit ${view.private_metadata} ${view.state.values.why!.v!.value}`);
    });
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    try {
      const port = (server.address() as { port: number }).port;
      const body = slashCommandBody({ text: 'enable kv-prod', user_id: 'U0ALICE', channel_id: 'C0OPS', trigger_id: s.triggerId({ user: 'U0ALICE' }), response_url: s.responseUrl() });
      const res = await postToBot(`http://127.0.0.1:${port}/slack/events`, body, signedHeaders('shh', body));
      expect(res.status).toBe(200);
      await s.waitFor(() => s.responses.length > 0, 3000, 'the respond() call');
      expect(s.callsTo('views.open').map((c) => c.error ?? 'ok')).toEqual(['ok']);
      expect([...s.views.values()][0]).toMatchObject({ user: 'U0ALICE' });
      expect(s.responses[0]!.body).toEqual({ text: 'got enable kv-prod' });
      const click = blockActionPayload({ user: { id: 'U0ALICE' }, channel: 'C0OPS', messageTs: '1.000100', actionId: 'approve', value: 'req-9', triggerId: s.triggerId(), responseUrl: s.responseUrl() });
      const clickBody = interactionBody(click);
      expect((await postToBot(`http://127.0.0.1:${port}/slack/events`, clickBody, signedHeaders('shh', clickBody))).status).toBe(200);
      const held = [...s.views.values()][0]!.view;
      const withInput = { ...held, private_metadata: 'req-9', blocks: [{ type: 'input', block_id: 'why', label: { type: 'plain_text', text: 'Why?' }, element: { type: 'plain_text_input', action_id: 'v' } }] };
      const submitBody = interactionBody(viewSubmissionPayload({ user: { id: 'U0ALICE' }, view: withInput, values: { why: { v: 'rotation policy' } } }));
      expect((await postToBot(`http://127.0.0.1:${port}/slack/events`, submitBody, signedHeaders('shh', submitBody))).status).toBe(200);
      expect(seen).toEqual(['action req-9', 'submit req-9 rotation policy']);
      const forged = await postToBot(`http://127.0.0.1:${port}/slack/events`, body, signedHeaders('wrong', body));
      expect(forged.status).toBe(401);
    } finally {
      await app.stop();
      await s.close();
    }
  });
});
