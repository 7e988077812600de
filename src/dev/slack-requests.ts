// Building and signing what Slack sends to a bot: slash commands and interactivity
// (application/x-www-form-urlencoded), Events API callbacks (JSON), with Slack's v0 signature.
// Shapes mirror @slack/bolt's SlashCommand, BlockAction, ViewSubmitAction and EnvelopedEvent, and
// what Slack really puts on the wire. No @slack/* import here (see eslint.config.mjs).
import { createHmac, randomBytes } from 'node:crypto';

/** Identities shared by the stand-in and the request builders, so payloads and API answers agree. */
export const LOCAL_SLACK = {
  botToken: 'xoxb-local-test',
  /** The legacy verification token Slack still puts in every payload's `token`. */
  verificationToken: 'local-verification-token',
  teamId: 'T0LOCAL01',
  teamDomain: 'cmk-local',
  teamName: 'CMK Local',
  appId: 'A0LOCALAPP',
  botId: 'B0LOCALBOT',
  botUserId: 'U0LOCALBOT',
  botName: 'cmk-chatops',
} as const;

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const digits = (n: number) => Array.from(randomBytes(n), (b) => String(b % 10)).join('');

/** 'v0=' + hex HMAC-SHA256 of `v0:${timestamp}:${rawBody}` with the signing secret. */
export function slackSignature(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/**
 * The headers Slack sends with a request to the bot. Content type defaults to JSON when the body
 * looks like JSON, else `application/x-www-form-urlencoded` — without a charset, exactly as Slack
 * sends it (Bolt's receivers compare the content type literally).
 */
export function signedHeaders(signingSecret: string, rawBody: string, opts: { timestamp?: number; contentType?: string; retryNum?: number; retryReason?: string } = {}): Record<string, string> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const contentType = opts.contentType ?? (rawBody.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded');
  const headers: Record<string, string> = {
    'content-type': contentType,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(signingSecret, timestamp, rawBody),
  };
  if (opts.retryNum !== undefined) headers['x-slack-retry-num'] = String(opts.retryNum);
  if (opts.retryReason !== undefined) headers['x-slack-retry-reason'] = opts.retryReason;
  return headers;
}

/** What Slack calls a conversation's name in payloads, guessed from the id's prefix. */
function channelName(channelId: string): string {
  if (channelId.startsWith('D')) return 'directmessage';
  if (channelId.startsWith('G')) return 'privategroup';
  return 'cmk-ops';
}

/**
 * A slash command body, form-encoded with the fields in the order Slack sends them (token, team_id,
 * team_domain, channel_id, channel_name, user_id, user_name, command, text, api_app_id,
 * is_enterprise_install, response_url, trigger_id). Spaces encode as '+', as Slack does.
 */
export function slashCommandBody(p: {
  command?: string;
  text: string;
  user_id: string;
  user_name?: string;
  channel_id: string;
  channel_name?: string;
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  token?: string;
  trigger_id: string;
  response_url: string;
}): string {
  return new URLSearchParams([
    ['token', p.token ?? LOCAL_SLACK.verificationToken],
    ['team_id', p.team_id ?? LOCAL_SLACK.teamId],
    ['team_domain', p.team_domain ?? LOCAL_SLACK.teamDomain],
    ['channel_id', p.channel_id],
    ['channel_name', p.channel_name ?? channelName(p.channel_id)],
    ['user_id', p.user_id],
    ['user_name', p.user_name ?? p.user_id.toLowerCase()],
    ['command', p.command ?? '/cmk'],
    ['text', p.text],
    ['api_app_id', p.api_app_id ?? LOCAL_SLACK.appId],
    ['is_enterprise_install', 'false'],
    ['response_url', p.response_url],
    ['trigger_id', p.trigger_id],
  ]).toString();
}

/** An interactivity body: `payload=` + the form-encoded JSON payload. */
export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams([['payload', JSON.stringify(payload)]]).toString();
}

function team(teamId: string = LOCAL_SLACK.teamId): Json {
  return { id: teamId, domain: LOCAL_SLACK.teamDomain };
}

function actionTs(): string {
  return `${Math.floor(Date.now() / 1000)}.${digits(6)}`;
}

/** Every interactive element of a block list with the block it sits in. */
function elementsOf(blocks: unknown): Array<{ blockId: string | undefined; block: Json; element: Json }> {
  const out: Array<{ blockId: string | undefined; block: Json; element: Json }> = [];
  if (!Array.isArray(blocks)) return out;
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    const blockId = typeof block.block_id === 'string' ? block.block_id : undefined;
    const candidates: unknown[] = [];
    if (Array.isArray(block.elements)) candidates.push(...block.elements);
    if (block.accessory !== undefined) candidates.push(block.accessory);
    if (block.element !== undefined) candidates.push(block.element);
    for (const element of candidates) {
      if (isRecord(element) && typeof element.action_id === 'string') out.push({ blockId, block, element });
    }
  }
  return out;
}

function optionsOf(element: Json): Json[] {
  const opts: Json[] = [];
  if (Array.isArray(element.options)) opts.push(...element.options.filter(isRecord));
  if (Array.isArray(element.option_groups)) {
    for (const g of element.option_groups) if (isRecord(g) && Array.isArray(g.options)) opts.push(...g.options.filter(isRecord));
  }
  return opts;
}

/** The `message` of a block_actions payload from a message as the stand-in holds it. */
function slackMessageOf(m: Json): Json {
  const out: Json = { type: 'message' };
  for (const [k, v] of Object.entries(m)) {
    if (['channel', 'updates', 'ephemeralFor', 'deleted', 'type'].includes(k) || v === undefined) continue;
    out[k] = v;
  }
  if (out.user === LOCAL_SLACK.botUserId) {
    out.bot_id ??= LOCAL_SLACK.botId;
    out.app_id ??= LOCAL_SLACK.appId;
  }
  out.team ??= LOCAL_SLACK.teamId;
  return out;
}

/**
 * A `block_actions` payload for a click on an element of a message. When `message` is given (a
 * SlackMessage from the stand-in, or a raw Slack message), the element is looked up by action_id
 * (and blockId) in its blocks — unknown ids throw — and the action carries the element's type, text
 * and value as Slack's would; a select's `value` becomes `selected_option`. Ephemeral messages
 * (`ephemeralFor` set) get `container.is_ephemeral: true` and no `message`, as Slack sends them.
 */
export function blockActionPayload(p: {
  user: { id: string; name?: string };
  channel: string;
  messageTs: string;
  actionId: string;
  value?: string;
  blockId?: string;
  triggerId: string;
  responseUrl?: string;
  // What it reads of a stand-in SlackMessage, named here so this module does not import the stand-in (which imports it).
  message?: Record<string, unknown> | { blocks?: unknown[]; thread_ts?: string; ephemeralFor?: string };
  teamId?: string;
}): Record<string, unknown> {
  const ts = actionTs();
  const message = p.message as Json | undefined;
  let action: Json;
  if (message) {
    const found = elementsOf(message.blocks).find((e) => e.element.action_id === p.actionId && (p.blockId === undefined || e.blockId === p.blockId));
    if (!found) {
      const have = elementsOf(message.blocks).map((e) => `${e.blockId ?? '?'}/${String(e.element.action_id)}`);
      throw new Error(`blockActionPayload: no element with action_id '${p.actionId}'${p.blockId ? ` in block '${p.blockId}'` : ''}; the message has: ${have.join(', ') || '(none)'}`);
    }
    const el = found.element;
    const type = String(el.type);
    action = { type, block_id: found.blockId ?? p.blockId ?? '', action_id: p.actionId, action_ts: ts };
    if (type === 'button') {
      action.text = el.text;
      const value = p.value ?? (typeof el.value === 'string' ? el.value : undefined);
      if (value !== undefined) action.value = value;
      if (el.style !== undefined) action.style = el.style;
      if (el.url !== undefined) action.url = el.url;
    } else if (type === 'static_select' || type === 'overflow' || type === 'radio_buttons') {
      const opt = optionsOf(el).find((o) => o.value === p.value);
      if (!opt) throw new Error(`blockActionPayload: '${p.actionId}' has no option with value '${String(p.value)}'`);
      action.selected_option = opt;
      if (type === 'static_select') action.placeholder = el.placeholder;
    } else if (p.value !== undefined) {
      action.value = p.value;
    }
  } else {
    action = {
      type: 'button',
      block_id: p.blockId ?? 'actions',
      action_id: p.actionId,
      text: { type: 'plain_text', text: p.value ?? p.actionId, emoji: true },
      action_ts: ts,
    };
    if (p.value !== undefined) action.value = p.value;
  }
  const ephemeral = message !== undefined && typeof message.ephemeralFor === 'string';
  const threadTs = message && typeof message.thread_ts === 'string' ? message.thread_ts : undefined;
  const container: Json = { type: 'message', message_ts: p.messageTs, channel_id: p.channel, is_ephemeral: ephemeral };
  if (threadTs) container.thread_ts = threadTs;
  const payload: Json = {
    type: 'block_actions',
    user: { id: p.user.id, username: p.user.name ?? p.user.id.toLowerCase(), name: p.user.name ?? p.user.id.toLowerCase(), team_id: p.teamId ?? LOCAL_SLACK.teamId },
    api_app_id: LOCAL_SLACK.appId,
    token: LOCAL_SLACK.verificationToken,
    container,
    trigger_id: p.triggerId,
    team: team(p.teamId),
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: p.channel, name: channelName(p.channel) },
  };
  if (message && !ephemeral) payload.message = slackMessageOf(message);
  payload.state = { values: {} };
  if (p.responseUrl !== undefined) payload.response_url = p.responseUrl;
  payload.actions = [action];
  return payload;
}

/** The state value Slack reports for an input element nobody filled in. */
/** What Slack reports for an input the user did not touch: its initial value, if it has one. */
function emptyValue(element: Json): Json {
  const type = String(element.type);
  switch (type) {
    case 'static_select':
    case 'external_select':
    case 'radio_buttons':
      return { type, selected_option: isRecord(element.initial_option) ? element.initial_option : null };
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes':
      return { type, selected_options: [] };
    case 'users_select':
      return { type, selected_user: null };
    case 'conversations_select':
      return { type, selected_conversation: null };
    case 'channels_select':
      return { type, selected_channel: null };
    case 'datepicker':
      return { type, selected_date: null };
    default:
      return { type, value: typeof element.initial_value === 'string' ? element.initial_value : null };
  }
}

/** Completes a test's shorthand ('text' or {selected_option:{value}}) into Slack's state value. */
function stateValue(element: Json, given: unknown, where: string): Json {
  const type = String(element.type);
  if (typeof given === 'string') {
    if (type === 'plain_text_input' || type === 'number_input' || type === 'email_text_input' || type === 'url_text_input') return { type, value: given };
    if (type === 'static_select' || type === 'radio_buttons' || type === 'external_select') given = { selected_option: { value: given } };
    else throw new Error(`viewSubmissionPayload: give ${where} (${type}) as an object`);
  }
  if (!isRecord(given)) throw new Error(`viewSubmissionPayload: bad value for ${where}`);
  const out: Json = { type, ...given };
  out.type = type;
  const sel = given.selected_option;
  if (isRecord(sel) && sel.text === undefined && type !== 'external_select') {
    const opt = optionsOf(element).find((o) => o.value === sel.value);
    if (!opt) throw new Error(`viewSubmissionPayload: ${where} has no option with value '${String(sel.value)}'`);
    out.selected_option = opt;
  }
  return out;
}

/**
 * A `view_submission` payload for a modal as the stand-in holds it (`standIn.views.get(id).view`).
 * `values` is keyed by block_id then action_id; each value may be Slack's own state value
 * ({type:'plain_text_input', value} / {type:'static_select', selected_option:{value}}) or a string
 * shorthand. Options are completed from the view (text included), and input blocks left out are
 * reported empty (value: null / selected_option: null) as Slack does. Unknown ids throw.
 */
export function viewSubmissionPayload(p: { user: { id: string; name?: string }; view: Record<string, unknown>; values: Record<string, Record<string, unknown>>; triggerId?: string; teamId?: string }): Record<string, unknown> {
  const inputs = elementsOf(p.view.blocks).filter((e) => e.block.type === 'input');
  const values: Record<string, Record<string, Json>> = {};
  for (const { blockId, element } of inputs) {
    if (blockId === undefined) continue;
    (values[blockId] ??= {})[String(element.action_id)] = emptyValue(element);
  }
  for (const [blockId, byAction] of Object.entries(p.values)) {
    for (const [actionId, given] of Object.entries(byAction)) {
      const found = elementsOf(p.view.blocks).find((e) => e.blockId === blockId && e.element.action_id === actionId);
      if (!found) {
        const have = inputs.map((e) => `${e.blockId ?? '?'}/${String(e.element.action_id)}`);
        throw new Error(`viewSubmissionPayload: no element ${blockId}/${actionId} in view ${String(p.view.id)}; it has inputs: ${have.join(', ') || '(none)'}`);
      }
      (values[blockId] ??= {})[actionId] = stateValue(found.element, given, `${blockId}/${actionId}`);
    }
  }
  const view: Json = {
    ...p.view,
    state: { values },
  };
  for (const k of ['id', 'hash', 'callback_id', 'private_metadata', 'team_id', 'app_id', 'bot_id']) {
    if (view[k] === undefined) view[k] = k === 'private_metadata' || k === 'callback_id' ? '' : null;
  }
  return {
    type: 'view_submission',
    team: team(p.teamId),
    user: { id: p.user.id, username: p.user.name ?? p.user.id.toLowerCase(), name: p.user.name ?? p.user.id.toLowerCase(), team_id: p.teamId ?? LOCAL_SLACK.teamId },
    api_app_id: LOCAL_SLACK.appId,
    token: LOCAL_SLACK.verificationToken,
    trigger_id: p.triggerId ?? `${digits(13)}.${digits(11)}.${hex(16)}`,
    view,
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/**
 * A `block_actions` payload from an input in a modal with `dispatch_action` (a changed picker), as
 * Slack sends it: container type view, the view with its state (as viewSubmissionPayload builds
 * it), and the action itself. `blockId` names the changed block; its value comes from `values`.
 */
export function viewActionPayload(p: {
  user: { id: string; name?: string };
  view: Record<string, unknown>;
  values: Record<string, Record<string, unknown>>;
  blockId: string;
  actionId?: string;
  triggerId?: string;
  teamId?: string;
}): Record<string, unknown> {
  const submission = viewSubmissionPayload(p);
  const view = submission.view as Json;
  const actionId = p.actionId ?? 'value';
  const state = ((view.state as Json).values as Record<string, Record<string, Json>>)[p.blockId]?.[actionId];
  if (!state) throw new Error(`viewActionPayload: no element ${p.blockId}/${actionId} in the view`);
  const block = elementsOf(p.view.blocks).find((e) => e.blockId === p.blockId);
  if (!block || block.block.dispatch_action !== true) throw new Error(`viewActionPayload: block ${p.blockId} does not dispatch actions (Slack would send nothing)`);
  return {
    type: 'block_actions',
    user: submission.user,
    api_app_id: LOCAL_SLACK.appId,
    token: LOCAL_SLACK.verificationToken,
    container: { type: 'view', view_id: view.id },
    trigger_id: submission.trigger_id,
    team: submission.team,
    enterprise: null,
    is_enterprise_install: false,
    view,
    actions: [{ ...state, block_id: p.blockId, action_id: actionId, action_ts: actionTs() }],
  };
}

/**
 * A `block_suggestion` payload, as Slack posts it to the app's options load URL while a person types
 * into an `external_select` in a modal: the element's block and action ids, what was typed (`value`),
 * and the view with its state as it is (viewSubmissionPayload's `values`). The answer is
 * `{ options: [...] }` (or `option_groups`), at most 100 (Block Kit: external_select).
 */
export function blockSuggestionPayload(p: {
  user: { id: string; name?: string };
  view: Record<string, unknown>;
  blockId: string;
  value: string;
  actionId?: string;
  values?: Record<string, Record<string, unknown>>;
  teamId?: string;
}): Record<string, unknown> {
  const submission = viewSubmissionPayload({ ...p, values: p.values ?? {} });
  const view = submission.view as Json;
  const actionId = p.actionId ?? 'value';
  const found = elementsOf(p.view.blocks).find((e) => e.blockId === p.blockId && e.element.action_id === actionId);
  if (!found || found.element.type !== 'external_select') throw new Error(`blockSuggestionPayload: ${p.blockId}/${actionId} is not an external_select (Slack asks only those for options)`);
  return {
    type: 'block_suggestion',
    user: submission.user,
    container: { type: 'view', view_id: view.id },
    api_app_id: LOCAL_SLACK.appId,
    token: LOCAL_SLACK.verificationToken,
    action_id: actionId,
    block_id: p.blockId,
    value: p.value,
    team: submission.team,
    enterprise: null,
    is_enterprise_install: false,
    view,
  };
}

/** An Events API `event_callback` envelope (JSON), as Slack posts it to the Request URL. */
export function eventBody(event: Record<string, unknown>, opts: { event_id?: string; team_id?: string; event_time?: number } = {}): string {
  const teamId = opts.team_id ?? LOCAL_SLACK.teamId;
  const eventTime = opts.event_time ?? Math.floor(Date.now() / 1000);
  const ev: Json = { ...event };
  if (ev.event_ts === undefined) ev.event_ts = typeof ev.ts === 'string' ? ev.ts : `${eventTime}.${digits(6)}`;
  return JSON.stringify({
    token: LOCAL_SLACK.verificationToken,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: LOCAL_SLACK.appId,
    event: ev,
    type: 'event_callback',
    event_id: opts.event_id ?? `Ev${digits(2)}${hex(5).toUpperCase()}`,
    event_time: eventTime,
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: LOCAL_SLACK.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${hex(24)}`,
  });
}

/** The Events API `url_verification` handshake body. */
export function urlVerificationBody(challenge: string): string {
  return JSON.stringify({ token: LOCAL_SLACK.verificationToken, challenge, type: 'url_verification' });
}

/** POSTs a (signed) request to the bot and reports how it answered and how long it took. */
export async function postToBot(url: string, rawBody: string, headers: Record<string, string>): Promise<{ status: number; text: string; json?: unknown; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body: rawBody });
  const text = await res.text();
  const ms = Math.round(performance.now() - started);
  let json: unknown;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return json === undefined ? { status: res.status, text, ms } : { status: res.status, text, json, ms };
}
