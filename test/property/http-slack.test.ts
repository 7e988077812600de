// Hostile Slack traffic through the real endpoint (POST /slack/events → SlackReceiver → Bolt):
// signed slash commands with any text, modal submissions with any values, button presses with
// any value, arbitrary bodies; and unsigned or forged requests. Signed input is answered (never a
// 5xx or a trace, never "something went wrong"), forged input gets 401, and nothing changes: no
// request row, no approval, no ARM write.
import fc from 'fast-check';
import { interactionBody, LOCAL_SLACK, postToBot, signedHeaders, slashCommandBody, slackSignature, startSlackStandIn, type SlackStandIn, type SlackView } from '../../src/dev';
import { SIM_IDENTITY, SIM_KEY, SIM_RBAC_VAULT, SIM_RG, SIM_SUBSCRIPTION_ID } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { BREAK } from './gen-forms';
import { type Counts, describeErrors, expectNoFaultText, FAULT_TEXT, type Harness, startHarness } from './harness';
import { brokenResourceId, hostileText, parsedJson, protoKey, requestId, STACK_TRACE, unstorablePath, validFluidRelayId, validStorageId } from './support';

const SECRET = 'property-signing-secret';
const CHANNEL = 'C0CMKREQ';
const ALEX = { id: 'U0ALEX', name: 'alex' };
const RILEY = { id: 'U0RILEY', name: 'riley' };
const MALLORY = { id: 'U0MALLORY', name: 'mallory' };
/** A run that hangs is a counterexample too (fast-check reports it with its seed). */
const RUNS = { numRuns: 15, timeout: 8000 } as const;

let slack: SlackStandIn;
let h: Harness;
let form: SlackView;
let baseline: Counts;
let seq = 0;

beforeAll(async () => {
  // The Web API client writes refused calls to console.error; the logged failures are what we assert.
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  slack = await startSlackStandIn({ users: { U0ALEX: { name: 'alex' }, U0RILEY: { name: 'riley' }, U0MALLORY: { name: 'mallory' } } });
  const policy = parsePolicy(
    `version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: slack\n    requesters: ["slack:T0LOCAL01/${ALEX.id}"]\n    approvers: ["slack:T0LOCAL01/${RILEY.id}"]\n    irreversibleExtraApprovals: 0\n`,
    'property-policy',
  );
  h = await startHarness(policy, { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.url });
  // One open form, as a person who ran /cmk new fluid-relay has.
  const updates = slack.callsTo('views.update').length;
  expect((await slash(ALEX, 'new fluid-relay')).status).toBe(200);
  await slack.waitFor(() => slack.callsTo('views.update').length > updates, 15_000, 'form filled in');
  form = [...slack.views.values()].at(-1)!;
  await h.settle();
  baseline = await h.counts();
}, 60_000);

afterAll(async () => {
  await h?.close();
  await slack?.close();
});

const endpoint = () => `${h.url}/slack/events`;
const send = (raw: string, contentType: string) => postToBot(endpoint(), raw, signedHeaders(SECRET, raw, { contentType }));
function slash(user: { id: string; name: string }, text: string, userName = user.name) {
  const raw = slashCommandBody({ text, user_id: user.id, user_name: userName, channel_id: CHANNEL, trigger_id: slack.triggerId({ user: user.id }), response_url: slack.responseUrl({ channel: CHANNEL, user: user.id }) });
  return send(raw, 'application/x-www-form-urlencoded');
}
const interact = (payload: unknown) => send(interactionBody(payload as Record<string, unknown>), 'application/x-www-form-urlencoded');

/**
 * Wait until the bot is done: its jobs and queue, and the tail of Bolt handlers that keep calling
 * the Web API after the ack (modals, ephemerals) — until two looks 25 ms apart see no new call.
 */
async function quiet() {
  await h.settle();
  let n = -1;
  for (let i = 0; i < 50 && n !== slack.calls.length + slack.responses.length; i++) {
    n = slack.calls.length + slack.responses.length;
    await new Promise((r) => setTimeout(r, 25));
    await h.settle();
  }
}

/** Nothing changed, nothing failed inside, and what the bot sent to Slack holds no fault. */
async function expectNothingChanged(mark: number, callMark: number, responseMark: number) {
  await quiet();
  const errors = h.errorsSince(mark);
  if (errors.length) throw new Error(`the bot logged internal failures:\n${describeErrors(errors)}`);
  expect(await h.counts()).toEqual(baseline);
  for (const c of slack.calls.slice(callMark)) expectNoFaultText(JSON.stringify(c.args));
  for (const r of slack.responses.slice(responseMark)) expectNoFaultText(JSON.stringify(r.body));
}
/** Where this run starts in the log, the Web API calls and the response_url posts (each run begins after the previous one went quiet). */
const marks = () => [h.mark(), slack.calls.length, slack.responses.length] as const;

/** An answer within the ack: no 5xx, no trace, no fault text. */
function expectAck(res: { status: number; text: string }) {
  expect(res.status).toBe(200);
  expect(res.text).not.toMatch(STACK_TRACE);
  expect(res.text).not.toMatch(FAULT_TEXT);
}

describe('Slack: signed slash commands with hostile text', () => {
  const text = fc.oneof(
    hostileText(200),
    fc.tuple(fc.constantFrom('status', 'cancel', 'audit', 'check'), fc.oneof(requestId(), hostileText(30))).map(([v, a]) => `${v} ${a}`),
    fc.tuple(fc.constantFrom('rotate', 'check'), fc.oneof(validFluidRelayId(), validStorageId().chain(brokenResourceId))).map(([v, a]) => `${v} ${a}`),
    fc.constantFrom('new chaos-experiment', 'new storage-cmk', 'new <!channel>', 'list mine', 'list pending', 'help', '<@U0RILEY> approve', 'new fluid-relay'),
  );

  it('are answered (in the ack or through response_url) and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(ALEX, RILEY, MALLORY), text, fc.oneof(fc.constant(undefined), hostileText(30)), async (user, t, userName) => {
        const [mark, calls, responses] = marks();
        const res = await slash(user, t, userName ?? user.name);
        expectAck(res);
        await quiet();
        // Some answer reached the person: the ack itself, a response_url reply, an ephemeral or a modal.
        const answered = res.text !== '' || slack.responses.length > responses || slack.calls.slice(calls).some((c) => ['chat.postEphemeral', 'views.open'].includes(c.method));
        expect(answered).toBe(true);
        await expectNothingChanged(mark, calls, responses);
      }),
      RUNS,
    );
  }, 120_000);
});

describe('Slack: the form modal (view_submission) with hostile values', () => {
  const REQUIRED_SELECTS = ['subscriptionId', 'resourceGroup', 'location', 'identityId', 'keyUrl'] as const;
  const blockIds = () => (form.view.blocks as Array<{ block_id?: string }>).map((b) => b.block_id).filter(Boolean) as string[];
  /** The block of a field in the modal (a dependent picker's block id also names the value it was drawn for). */
  const blockOf = (field: string) => blockIds().find((id) => id.split(':')[0] === field) ?? field;
  /** The first input of the modal: where an error that belongs to no field is shown. */
  const firstInput = () => (form.view.blocks as Array<{ type?: string; block_id?: string }>).find((b) => b.type === 'input')!.block_id!;
  const optionsOf = (field: string) => (form.view.blocks as Array<{ block_id?: string; element?: { options?: Array<{ text: { text: string }; value: string }> } }>).find((b) => b.block_id === blockOf(field))?.element?.options ?? [];
  const option = (field: string, re: RegExp) => optionsOf(field).find((o) => re.test(o.text.text));

  /** What Slack reports for a fully and correctly filled form. */
  function validValues(name: string): Record<string, Record<string, unknown>> {
    const sel = (block: string, re: RegExp) => ({ value: { type: 'static_select', selected_option: option(block, re) ?? null } });
    return {
      subscriptionId: sel('subscriptionId', new RegExp(SIM_SUBSCRIPTION_ID)),
      resourceGroup: sel('resourceGroup', new RegExp(`^${SIM_RG} `)),
      name: { value: { type: 'plain_text_input', value: name } },
      location: sel('location', /\(eastus\)/),
      identityId: sel('identityId', new RegExp(`^${SIM_IDENTITY} `)),
      keyUrl: sel('keyUrl', new RegExp(`^${SIM_RBAC_VAULT} / ${SIM_KEY} `)),
      // The version picker as the modal drew it (before a key was chosen: "latest" only).
      [blockOf('keyVersion')]: sel('keyVersion', /^latest/),
      storagesku: sel('storagesku', /^basic/),
    };
  }

  function submission(values: unknown, user = ALEX, privateMetadata = form.view.private_metadata as string) {
    seq += 1;
    return {
      type: 'view_submission',
      team: { id: LOCAL_SLACK.teamId, domain: LOCAL_SLACK.teamDomain },
      user: { id: user.id, username: user.name, name: user.name, team_id: LOCAL_SLACK.teamId },
      api_app_id: LOCAL_SLACK.appId,
      token: LOCAL_SLACK.verificationToken,
      trigger_id: `${Date.now()}.${seq}.abcdef`,
      // A fresh hash per submission, or the receiver would take it for a redelivery.
      view: { ...form.view, id: form.id, hash: `${form.hash}-${seq}`, private_metadata: privateMetadata, state: { values } },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
  }

  /** The modal's answer: errors on named blocks of this modal, in words a person can act on. */
  function expectFieldErrors(res: { status: number; text: string; json?: unknown }, field?: string) {
    expectAck(res);
    const body = res.json as { response_action?: string; errors?: Record<string, string> } | undefined;
    expect(body?.response_action).toBe('errors');
    const errors = body?.errors ?? {};
    expect(Object.keys(errors).length).toBeGreaterThan(0);
    for (const [k, m] of Object.entries(errors)) {
      expect(blockIds()).toContain(k);
      expect(m.trim().length).toBeGreaterThan(0);
      expect(m).not.toMatch(STACK_TRACE);
    }
    // Exactly the broken field: the rest of the submission is a valid form.
    if (field) expect(Object.keys(errors)).toEqual([blockOf(field)]);
  }

  /** Option values that are no index into the list the form was built from. */
  const badIndex = (block: string) =>
    fc.oneof(fc.constantFrom('999', '-1', 'abc', '__proto__', 'constructor', '1.5', 'NaN', 'Infinity', `${optionsOf(block).length}`), hostileText(10)).filter((v) => {
      const n = Number(v);
      return !(Number.isInteger(n) && n >= 0 && n < optionsOf(block).length);
    });

  const broken = fc.oneof(
    // The server name typed in: anything its rule refuses.
    (BREAK['fluid-relay']!.name as fc.Arbitrary<unknown>).filter((v): v is string => typeof v === 'string').map((v) => ({ field: 'name', value: { type: 'plain_text_input', value: v } as unknown })),
    // A required picker answered with an option that is not in its list.
    fc.constantFrom(...REQUIRED_SELECTS).chain((f) => badIndex(f).map((v) => ({ field: f as string, value: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'x' }, value: v } } as unknown }))),
    // A required picker left empty.
    fc.constantFrom(...REQUIRED_SELECTS).map((f) => ({ field: f as string, value: { type: 'static_select', selected_option: null } as unknown })),
    // A picker answered with typed text (hostile ids, look-alike URLs) instead of an option.
    fc
      .constantFrom('identityId', 'subscriptionId', 'resourceGroup', 'location', 'keyVersion', 'storagesku')
      .chain((f) => (BREAK['fluid-relay']![f] ?? BREAK.common![f])!.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => ({ field: f, value: { type: 'plain_text_input', value: v } as unknown }))),
  );

  it('a submission with one broken field comes back with the error on that field, and nothing is stored', async () => {
    await fc.assert(
      fc.asyncProperty(
        broken,
        fc.option(
          fc.array(fc.tuple(fc.oneof(protoKey(), fc.string({ maxLength: 10 })), fc.dictionary(fc.string({ maxLength: 5 }), fc.record({ type: fc.constant('plain_text_input'), value: hostileText(20) }), { maxKeys: 2 })), { maxLength: 2 }),
          { nil: undefined },
        ),
        async ({ field, value }, extraBlocks) => {
          const [mark, calls, responses] = marks();
          const values: Record<string, unknown> = { ...validValues(`fr-prop-${seq}`), [blockOf(field)]: { value } };
          for (const [k, v] of extraBlocks ?? []) if (!(k in values)) values[k] = v;
          expectFieldErrors(await interact(submission(JSON.parse(JSON.stringify(values)))), field);
          await expectNothingChanged(mark, calls, responses);
        },
      ),
      RUNS,
    );
  }, 120_000);

  it('a submission for a form the bot never opened (any private_metadata) is told the form expired', async () => {
    // (A form id Postgres cannot store is the exception: see the failing property below.)
    const meta = fc
      .oneof(
        hostileText(60),
        parsedJson(2).map((v) => JSON.stringify(v) ?? ''),
        fc.oneof(fc.uuid(), protoKey(), hostileText(20), parsedJson(1)).map((formId) => JSON.stringify({ formId })),
      )
      .filter((m) => {
        try {
          return unstorablePath(JSON.parse(m)) === undefined;
        } catch {
          return true;
        }
      });
    await fc.assert(
      fc.asyncProperty(
        meta.filter((m) => m !== form.view.private_metadata),
        fc.constantFrom(ALEX, MALLORY),
        async (m, user) => {
          const [mark, calls, responses] = marks();
          const res = await interact(submission(validValues(`fr-prop-${seq}`), user, m));
          expectFieldErrors(res, firstInput());
          expect((res.json as { errors: Record<string, string> }).errors[firstInput()]).toMatch(/expired/);
          await expectNothingChanged(mark, calls, responses);
        },
      ),
      RUNS,
    );
  }, 120_000);

  // Was a bug (fixed; kept as a regression property) (src/chat/slack/channel.ts app.view(FORM_CALLBACK), `deps.store.getFormSession(meta.formId)`
  // with the formId from private_metadata unchecked): a private_metadata of {"formId":"\u0000"}
  // (or a lone surrogate) reaches Postgres, which refuses it; the handler throws before the ack,
  // the receiver answers 500 and logs an unhandled error. Fix: only look a form id up when it is a
  // UUID (/^[0-9a-f-]{36}$/i, what formModal puts there), else answer "This form has expired".
  it('a private_metadata naming a form id Postgres cannot store is told the form expired', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('\u0000', 'x\u0000y', '\ud800'), async (formId) => {
        const [mark, calls, responses] = marks();
        const res = await interact(submission(validValues(`fr-prop-${seq}`), ALEX, JSON.stringify({ formId })));
        expectFieldErrors(res, firstInput());
        await expectNothingChanged(mark, calls, responses);
      }),
      { numRuns: 3, timeout: 8000 },
    );
  }, 60_000);

  // Was a bug (fixed; kept as a regression property) (src/chat/slack/blocks.ts readForm(), the loop `for (const [blockId, actions] of
  // Object.entries(stateValues)) { const v = actions.value; …`, and src/chat/slack/channel.ts
  // app.view(FORM_CALLBACK) `readForm(view.state.values …)`): for an open form, a submission whose
  // state has a block that is null ({values: {name: null}}), or no state at all, throws a TypeError
  // ("Cannot read properties of null (reading 'value')" / "… (reading 'values')") before the ack;
  // Bolt logs it, the receiver answers an empty 200 and Slack closes the modal with no word to the
  // user. Fix: in readForm skip entries whose actions (or actions.value) are not objects, and in the
  // handler read `view.state?.values ?? {}` (the REJECT_CALLBACK handler has the same
  // `view.state.values` dereference).
  it('a submission with structurally broken state gets the errors answer, not an internal failure', async () => {
    const state = fc.oneof(
      fc.constantFrom('name', 'keyUrl', 'identityId').map((b) => ({ ...validValues(`fr-prop-${seq}`), [b]: null })),
      fc.constant(undefined),
    );
    await fc.assert(
      fc.asyncProperty(state, async (values) => {
        const [mark, calls, responses] = marks();
        const payload = submission(values) as { view: Record<string, unknown> };
        if (values === undefined) delete payload.view.state;
        const res = await interact(payload);
        expectAck(res);
        expect((res.json as { response_action?: string } | undefined)?.response_action).toBe('errors');
        await expectNothingChanged(mark, calls, responses);
      }),
      { numRuns: 8, timeout: 8000 },
    );
  }, 60_000);
});

describe('Slack: buttons with hostile values', () => {
  it('approve/reject/cancel/refresh with any value, by anyone, change nothing', async () => {
    // (Text Postgres cannot store — U+0000 or half a surrogate pair, raw or as a JSON escape — and
    // for Reject a request id or digest too long for the reason modal, are the exceptions: see the
    // failing properties below.)
    const storableValue = (v: string) => {
      if (unstorablePath(v) !== undefined) return false;
      try {
        return unstorablePath(JSON.parse(v)) === undefined;
      } catch {
        return true;
      }
    };
    const value = fc
      .oneof(
        hostileText(80),
        parsedJson(2).map((v) => JSON.stringify(v) ?? ''),
        fc.record({ requestId: fc.oneof(requestId(), hostileText(20), protoKey()), digest: fc.oneof(hostileText(64), fc.constant('0'.repeat(64))) }).map((v) => JSON.stringify(v)),
      )
      .filter(storableValue);
    const rejectValue = fc.oneof(
      hostileText(80).filter((v) => !v.trimStart().startsWith('{') && storableValue(v)),
      fc.record({ requestId: fc.oneof(requestId(), fc.string({ maxLength: 8 }), protoKey()), digest: fc.oneof(fc.string({ maxLength: 64 }), fc.constant('0'.repeat(64))) }).map((v) => JSON.stringify(v)),
    );
    const press_ = fc.oneof(fc.tuple(fc.constantFrom('request.approve', 'request.cancel', 'request.refresh'), value), fc.tuple(fc.constant('request.reject'), rejectValue));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(ALEX, RILEY, MALLORY), press_, async (user, [actionId, v]) => {
        const [mark, calls, responses] = marks();
        expectAck(await press(user, actionId, v));
        await expectNothingChanged(mark, calls, responses);
      }),
      RUNS,
    );
  }, 120_000);

  // Was a bug, two ways (fixed; kept as a regression property) (both end in Postgres refusing U+0000 / half a surrogate pair):
  // 1. src/chat/slack/receiver.ts dedupeKey(), the block_actions branch
  // `action:${action_id}:${msg}:${user}:${value}`, stored by the `claim` option that
  // src/chat/slack/channel.ts wires to store.claimDelivery): the raw button value goes into the
  // dedupe key, and Postgres text cannot hold U+0000, so a press whose value contains a NUL makes
  // claimDelivery throw; the receiver answers 503 "try again" and logs "could not record a Slack
  // delivery" — and Slack's retries get the same. The same holds for a view_submission's view id
  // or hash and an event_id. Fix: make the key a digest — `sha256(JSON.stringify([kind, …parts]))`
  // (node:crypto) — in dedupeKey; it also bounds the key's length (values may be 2000 characters).
  // 2. src/chat/slack/channel.ts, the request.approve / request.cancel actions (and the refresh job):
  // the value's JSON is parsed and its requestId/digest go unchecked into deps.queue.enqueue (a
  // jsonb payload) — `{"requestId":"\u0000"}` fails with "invalid byte sequence for encoding UTF8",
  // `{"digest":"\u0000"}` with "unsupported Unicode escape sequence", `{"requestId":"\ud800"}`
  // with "invalid input syntax for type json" — before the ack: 500 "could not take the request;
  // try again", so Slack retries a press that can never succeed. Fix: in buttonValue(), keep
  // requestId only if REQUEST_ID_PATTERN matches it and digest only if it is 64 hex characters.
  it('a button value holding U+0000 or half a surrogate pair (raw or as a JSON escape) is acknowledged like any other', async () => {
    const bad = fc.oneof(
      hostileText(40).map((t): [string, string] => ['request.refresh', `${t}\u0000`]),
      fc.tuple(fc.constantFrom('request.approve', 'request.cancel', 'request.refresh'), fc.constantFrom('{"requestId":"\\u0000"}', '{"requestId":"\\ud800"}')),
      fc.tuple(fc.constant('request.approve'), fc.constant('{"digest":"\\u0000"}')),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(ALEX, MALLORY), bad, async (user, [actionId, v]) => {
        const [mark, calls, responses] = marks();
        expectAck(await press(user, actionId, v));
        await expectNothingChanged(mark, calls, responses);
      }),
      { numRuns: 3, timeout: 8000, examples: [[ALEX, ['request.approve', '{"requestId":"\\u0000"}']]] },
    );
  }, 60_000);

  // Was a bug (fixed; kept as a regression property) (src/chat/slack/channel.ts, the app.action('request.reject') handler, line ~262, and
  // src/chat/slack/blocks.ts rejectModal): the request id and digest from the button's value go
  // unchecked into the reason modal — title `Reject ${requestId}` (Slack allows 24 characters) and
  // private_metadata (3000) — so a value naming a long "request id" or digest makes views.open fail
  // with invalid_arguments after the ack: logged as "unhandled error in a Slack handler", and the
  // person sees nothing. Fix: in the handler, answer privately (tell → chat.postEphemeral "That
  // button does not name a request…") unless REQUEST_ID_PATTERN.test(requestId) and the digest is
  // 64 hex characters; and in rejectModal clip the title to LIMITS.modalTitle.
  it('a Reject press whose value is too long for the reason modal is answered without an internal failure', async () => {
    const long = fc.oneof(
      fc.string({ minLength: 20, maxLength: 200 }).map((id) => JSON.stringify({ requestId: id, digest: '0'.repeat(64) })),
      fc.integer({ min: 3000, max: 6000 }).map((n) => JSON.stringify({ requestId: 'CR-222222', digest: 'f'.repeat(n) })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(ALEX, RILEY), long, async (user, v) => {
        const [mark, calls, responses] = marks();
        expectAck(await press(user, 'request.reject', v));
        await expectNothingChanged(mark, calls, responses);
      }),
      { numRuns: 3, timeout: 8000 },
    );
  }, 60_000);

  /** A press of a button on a message of the bot's, as Slack reports it. */
  function press(user: { id: string; name: string }, actionId: string, v: string) {
    seq += 1;
    const ts = `1732280000.${String(seq).padStart(6, '0')}`;
    return interact({
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: LOCAL_SLACK.teamId },
      api_app_id: LOCAL_SLACK.appId,
      token: LOCAL_SLACK.verificationToken,
      container: { type: 'message', message_ts: ts, channel_id: CHANNEL, is_ephemeral: false },
      trigger_id: slack.triggerId({ user: user.id }),
      team: { id: LOCAL_SLACK.teamId, domain: LOCAL_SLACK.teamDomain },
      channel: { id: CHANNEL, name: 'cmk-ops' },
      message: { type: 'message', ts, text: 'x', user: LOCAL_SLACK.botUserId },
      state: { values: {} },
      actions: [{ type: 'button', block_id: 'request_actions', action_id: actionId, text: { type: 'plain_text', text: 'x' }, value: v, action_ts: ts }],
    });
  }
});

describe('Slack: who may call /slack/events', () => {
  const body = fc.oneof(
    fc.constant(null).map(() => slashCommandBody({ text: 'new fluid-relay', user_id: ALEX.id, channel_id: CHANNEL, trigger_id: slack.triggerId({ user: ALEX.id }), response_url: slack.responseUrl() })),
    hostileText(200),
    fc.json({ maxDepth: 2 }),
  );
  const now = () => Math.floor(Date.now() / 1000);
  const forged = fc.oneof(
    fc.constant('unsigned').map(() => (raw: string) => ({ 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(now()), _raw: raw })),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }).map((hex) => (raw: string) => ({ ...signedHeaders(SECRET, raw), 'x-slack-signature': `v0=${hex}` })),
    fc
      .string({ minLength: 1, maxLength: 20 })
      .filter((s) => s !== SECRET)
      .map((secret) => (raw: string) => signedHeaders(secret, raw)),
    fc
      .integer({ min: 301, max: 100_000 })
      .chain((skew) => fc.constantFrom(-skew, skew))
      .map((skew) => (raw: string) => signedHeaders(SECRET, raw, { timestamp: now() + skew })),
    fc.string({ minLength: 1, maxLength: 10 }).map((extra) => (raw: string) => ({ ...signedHeaders(SECRET, raw), _raw: `${raw}${extra}` })),
    // The right HMAC, written wrongly: another version tag, upper-case hex, no tag, a digit more or less.
    // (Padding is no forgery: HTTP drops whitespace around header values.)
    fc
      .constantFrom<(sig: string) => string>(
        (x) => x.replace('v0=', 'v1='),
        (x) => `v0=${x.slice(3).toUpperCase()}`,
        (x) => x.slice(3),
        (x) => `${x}0`,
        (x) => x.slice(0, -1),
      )
      .map((distort) => (raw: string) => {
        const signed = signedHeaders(SECRET, raw);
        return { ...signed, 'x-slack-signature': distort(signed['x-slack-signature']!) };
      }),
    fc.constantFrom('abc', '-1', '1e3', '', ' 123', '9999999999999').map((ts) => (raw: string) => ({ ...signedHeaders(SECRET, raw), 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, Number(ts) || 0, raw) })),
  );

  it('unsigned, forged, stale, future-dated or tampered requests get 401, and nothing happens', async () => {
    await fc.assert(
      fc.asyncProperty(body, forged, async (raw, make) => {
        const [mark, calls, responses] = marks();
        const headers = make(raw) as Record<string, string>;
        const sent = headers._raw ?? raw;
        delete headers._raw;
        // A valid signature over exactly this body would be a genuine request: skip that case.
        if (headers['x-slack-signature'] === slackSignature(SECRET, Number(headers['x-slack-request-timestamp']), sent) && Math.abs(now() - Number(headers['x-slack-request-timestamp'])) <= 300) return;
        const res = await postToBot(endpoint(), sent, headers);
        expect(res.status).toBe(401);
        expect(res.text).not.toMatch(STACK_TRACE);
        // Refused before Bolt: no work can have started, so a short look suffices.
        await new Promise((r) => setTimeout(r, 20));
        expect(slack.calls.length).toBe(calls);
        expect(slack.responses.length).toBe(responses);
        expect(h.errorsSince(mark)).toEqual([]);
        expect(await h.counts()).toEqual(baseline);
      }),
      { numRuns: 25, timeout: 8000 },
    );
  }, 120_000);

  it('signed bodies of any shape and content type are answered below 500, without a trace, and change nothing', async () => {
    const shaped = fc.oneof(
      fc.json({ maxDepth: 3 }).filter((j) => j.trim() !== 'null'),
      hostileText(200),
      fc.dictionary(fc.string({ maxLength: 10 }), hostileText(30), { maxKeys: 5 }).map((d) => new URLSearchParams(Object.entries(d)).toString()),
      fc
        .json({ maxDepth: 3 })
        .filter((j) => j.trim() !== 'null')
        .map((j) => new URLSearchParams([['payload', j]]).toString()),
    );
    const contentType = fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', '', 'application/json; charset=utf-8', 'multipart/form-data');
    await fc.assert(
      fc.asyncProperty(shaped, contentType, async (raw, ct) => {
        const [, calls, responses] = marks();
        const res = await postToBot(endpoint(), raw, signedHeaders(SECRET, raw, { contentType: ct }));
        expect(res.status).toBeLessThan(500);
        expect(res.text).not.toMatch(STACK_TRACE);
        await quiet();
        expect(await h.counts()).toEqual(baseline);
        for (const c of slack.calls.slice(calls)) expectNoFaultText(JSON.stringify(c.args));
        for (const r of slack.responses.slice(responses)) expectNoFaultText(JSON.stringify(r.body));
      }),
      { numRuns: 20, timeout: 8000 },
    );
  }, 120_000);

  // (A signed body that is JSON null, or any non-object JSON, is refused with 400: parseSlackBody in
  // slack-payloads.test.ts.)

  // Was a bug (fixed; kept as a regression property) (Bolt's own payload handling, reached through src/chat/slack/receiver.ts, which passes any
  // signed body to app.processEvent): Slack-typed payloads missing the parts Bolt dereferences —
  // a view_submission without `view`, a block_actions without `user`, an event_callback whose
  // `event` is null — throw inside Bolt ("Cannot read properties of undefined (reading
  // 'app_installed_team_id')", "… (reading 'team_id')", "Cannot use 'in' operator to search for
  // 'channel' in null"), logged as "unhandled error in a Slack handler". Answered 200, nothing
  // changes, but every such delivery is an internal-failure log line. Fix: in the receiver, check
  // the envelope before processEvent (view_submission: `view` object with `state.values` object;
  // block_actions: `user` object and `actions` array of objects; event_callback: `event` object)
  // and answer 400 otherwise.
  it('Slack-typed payloads missing their required parts are refused without an internal failure', async () => {
    const payload = fc.constantFrom<[string, string]>(
      [interactionBody({ type: 'view_submission' }), 'application/x-www-form-urlencoded'],
      [interactionBody({ type: 'block_actions', actions: [{ action_id: 'request.approve', value: '{}' }] }), 'application/x-www-form-urlencoded'],
      [JSON.stringify({ type: 'event_callback', event_id: `Ev${Date.now()}`, event: null }), 'application/json'],
    );
    await fc.assert(
      fc.asyncProperty(payload, async ([raw, ct]) => {
        const [mark, calls, responses] = marks();
        const res = await postToBot(endpoint(), raw, signedHeaders(SECRET, raw, { contentType: ct }));
        expect(res.status).toBeLessThan(500);
        await expectNothingChanged(mark, calls, responses);
      }),
      { numRuns: 6, timeout: 8000 },
    );
  }, 60_000);
});
