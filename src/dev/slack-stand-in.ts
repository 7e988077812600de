// A local stand-in for the Slack Web API (and for response_url), over plain HTTP on 127.0.0.1.
// @slack/web-api's WebClient reaches it through `slackApiUrl: standIn.url`: it POSTs
// `${url}${method}` form-encoded (nested fields such as blocks/view JSON-stringified) with
// `Authorization: Bearer <token>`; JSON bodies and GET query strings are understood as well.
// It answers like Slack (HTTP 200 + {ok:false,error} for API errors, 429 + Retry-After when rate
// limited) and enforces Block Kit's limits so oversize output fails here as it would in Slack.
// No @slack/* import here (see eslint.config.mjs).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { LOCAL_SLACK } from './slack-requests';

export interface SlackCall {
  method: string;
  /** Arguments as sent, with JSON-encoded fields (blocks, attachments, view, metadata) parsed. */
  args: Record<string, unknown>;
  token?: string;
  at: number;
  /** HTTP status the stand-in answered with (200, or 429 when rate limited). */
  status: number;
  /** The `error` of an {ok:false} answer. */
  error?: string;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  user?: string;
  ephemeralFor?: string;
  updates: number;
  /** Set by chat.delete or a response_url `delete_original`. */
  deleted?: boolean;
}

export interface SlackView {
  id: string;
  hash: string;
  view: Record<string, unknown>;
  user?: string;
}

export interface SlackResponse {
  id: string;
  body: unknown;
  at: number;
}

export interface SlackStandInOptions {
  botToken?: string;
  botUserId?: string;
  teamId?: string;
  users?: Record<string, { name: string; real_name?: string; email?: string }>;
  /** Clock in ms (default Date.now); drives trigger_id and response_url expiry, `at` and ts. */
  now?: () => number;
  /** Lifetime of a trigger_id (default 3000 ms, as Slack). */
  triggerTtlMs?: number;
}

export interface SlackStandIn {
  /** Value for slackApiUrl; ends with '/api/'. */
  url: string;
  botToken: string;
  botUserId: string;
  teamId: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** Every posted message (ephemeral ones included) in order, kept current by chat.update. */
  messages: SlackMessage[];
  message(channel: string, ts: string): SlackMessage | undefined;
  /** Replies in a thread (thread_ts = ts, the parent excluded). */
  thread(channel: string, ts: string): SlackMessage[];
  /** Current state of each opened or pushed modal, by view id. */
  views: Map<string, SlackView>;
  /**
   * A fresh trigger_id: valid for 3 s, single use. `user` becomes the view's user; `viewId` says
   * which modal the interaction came from (views.push stacks onto its root).
   */
  triggerId(opts?: { user?: string; viewId?: string }): string;
  /**
   * A fresh response_url (http://127.0.0.1:PORT/response/<id>), 5 uses within 30 min, then 404.
   * With a context, what is POSTed also acts on messages: replace_original / delete_original on
   * `messageTs`, response_type 'in_channel' posts to `channel`, otherwise an ephemeral to `user`.
   */
  responseUrl(opts?: { channel?: string; user?: string; messageTs?: string }): string;
  responses: SlackResponse[];
  /** The next `times` (default 1) calls to `method` answer 429 + Retry-After. */
  rateLimit(method: string, retryAfterSeconds: number, times?: number): void;
  /** The DM channel id the stand-in uses for a user id (chat.postMessage to 'U…' lands there). */
  imChannel(user: string): string;
  /** Polls (real timers, every 10 ms) until pred returns a value; on timeout rejects with a dump. */
  waitFor<T>(pred: () => T | undefined | false, timeoutMs?: number, label?: string): Promise<T>;
  /** Forget calls, messages, views, responses, triggers and pending rate limits. */
  reset(): void;
  close(): Promise<void>;
}

/** Slack's documented limits, also for schema-level tests of block builders. */
export const SLACK_LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  messageText: 40000,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  actionId: 255,
  blockId: 255,
  selectOptions: 100,
  overflowOptions: 5,
  choiceOptions: 10,
  optionText: 75,
  optionValue: 150,
  placeholder: 150,
  inputLabel: 2000,
  inputHint: 2000,
  textInputLength: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  imageAltText: 2000,
  markdownText: 12000,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  externalId: 255,
  viewBytes: 250_000,
  pushedViews: 3,
  triggerTtlMs: 3000,
  responseUrlUses: 5,
  responseUrlTtlMs: 30 * 60 * 1000,
} as const;

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// ---------------------------------------------------------------------------------------------
// Block Kit validation. Problems are phrased like Slack's response_metadata messages:
// "must be less than 3001 characters [json-pointer:/blocks/0/text/text]".
// ---------------------------------------------------------------------------------------------

class Problems {
  readonly list: string[] = [];
  add(msg: string, ptr: string) {
    this.list.push(`${msg} [json-pointer:${ptr}]`);
  }
  max(s: unknown, n: number, ptr: string) {
    if (typeof s === 'string' && s.length > n) this.add(`must be less than ${n + 1} characters`, ptr);
  }
}

function checkText(p: Problems, t: unknown, ptr: string, max: number, o: { plainOnly?: boolean; required?: boolean } = {}) {
  if (t === undefined || t === null) {
    if (o.required) p.add('missing required field: text', ptr.replace(/\/[^/]*$/, '') || '/');
    return;
  }
  if (!isRecord(t)) return p.add('must be an object', ptr);
  if (t.type !== 'plain_text' && (o.plainOnly || t.type !== 'mrkdwn')) p.add(`must be a valid enum value${o.plainOnly ? ' (plain_text)' : ''}`, `${ptr}/type`);
  if (typeof t.text !== 'string') return p.add('must be a string', `${ptr}/text`);
  if (t.text.length === 0) p.add('must be more than 0 characters', `${ptr}/text`);
  p.max(t.text, max, `${ptr}/text`);
}

function checkConfirm(p: Problems, c: unknown, ptr: string) {
  if (!isRecord(c)) return;
  checkText(p, c.title, `${ptr}/title`, SLACK_LIMITS.confirmTitle, { plainOnly: true, required: true });
  checkText(p, c.text, `${ptr}/text`, SLACK_LIMITS.confirmText, { required: true });
  checkText(p, c.confirm, `${ptr}/confirm`, SLACK_LIMITS.confirmButton, { plainOnly: true, required: true });
  checkText(p, c.deny, `${ptr}/deny`, SLACK_LIMITS.confirmButton, { plainOnly: true, required: true });
}

function checkOptions(p: Problems, el: Json, ptr: string, maxOptions: number, plainOnly: boolean) {
  const check = (opts: unknown, base: string) => {
    if (!Array.isArray(opts)) return;
    if (opts.length > maxOptions) p.add(`must provide an array of no more than ${maxOptions} items`, base);
    opts.forEach((o, i) => {
      if (!isRecord(o)) return p.add('must be an object', `${base}/${i}`);
      checkText(p, o.text, `${base}/${i}/text`, SLACK_LIMITS.optionText, { plainOnly, required: true });
      if (typeof o.value !== 'string') p.add('missing required field: value', `${base}/${i}`);
      p.max(o.value, SLACK_LIMITS.optionValue, `${base}/${i}/value`);
      checkText(p, o.description, `${base}/${i}/description`, SLACK_LIMITS.optionText, { plainOnly });
    });
  };
  check(el.options, `${ptr}/options`);
  if (Array.isArray(el.option_groups)) {
    el.option_groups.forEach((g, i) => {
      if (isRecord(g)) check(g.options, `${ptr}/option_groups/${i}/options`);
    });
  }
}

function checkElement(p: Problems, el: unknown, ptr: string, actionIds: Set<string>) {
  if (!isRecord(el)) return p.add('must be an object', ptr);
  if (typeof el.type !== 'string') return p.add('missing required field: type', ptr);
  if (el.type === 'plain_text' || el.type === 'mrkdwn') return checkText(p, el, ptr, SLACK_LIMITS.sectionText);
  if (el.type === 'image') {
    checkText(p, el.alt_text === undefined ? undefined : { type: 'plain_text', text: el.alt_text }, `${ptr}/alt_text`, SLACK_LIMITS.imageAltText);
    if (typeof el.alt_text !== 'string') p.add('missing required field: alt_text', ptr);
    return p.max(el.image_url, SLACK_LIMITS.url, `${ptr}/image_url`);
  }
  if (el.action_id !== undefined) {
    if (typeof el.action_id !== 'string') p.add('must be a string', `${ptr}/action_id`);
    else {
      p.max(el.action_id, SLACK_LIMITS.actionId, `${ptr}/action_id`);
      if (actionIds.has(el.action_id)) p.add(`duplicate action_id ${el.action_id}`, `${ptr}/action_id`);
      actionIds.add(el.action_id);
    }
  }
  checkText(p, el.placeholder, `${ptr}/placeholder`, SLACK_LIMITS.placeholder, { plainOnly: true });
  checkConfirm(p, el.confirm, `${ptr}/confirm`);
  switch (el.type) {
    case 'button':
      checkText(p, el.text, `${ptr}/text`, SLACK_LIMITS.buttonText, { plainOnly: true, required: true });
      p.max(el.value, SLACK_LIMITS.buttonValue, `${ptr}/value`);
      p.max(el.url, SLACK_LIMITS.url, `${ptr}/url`);
      if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') p.add('must be a valid enum value', `${ptr}/style`);
      break;
    case 'static_select':
    case 'multi_static_select':
      if (el.options === undefined && el.option_groups === undefined) p.add('must provide either options or option_groups', ptr);
      checkOptions(p, el, ptr, SLACK_LIMITS.selectOptions, true);
      break;
    case 'external_select':
      // Its options come from the app's options load URL as the person types; none in the view.
      if (el.options !== undefined || el.option_groups !== undefined) p.add('external_select takes no options or option_groups', ptr);
      if (el.min_query_length !== undefined && (typeof el.min_query_length !== 'number' || el.min_query_length < 0)) p.add('must be a non-negative integer', `${ptr}/min_query_length`);
      if (el.initial_option !== undefined) checkOptions(p, { options: [el.initial_option] }, `${ptr}/initial_option`, 1, true);
      break;
    case 'overflow':
      checkOptions(p, el, ptr, SLACK_LIMITS.overflowOptions, true);
      break;
    case 'radio_buttons':
    case 'checkboxes':
      checkOptions(p, el, ptr, SLACK_LIMITS.choiceOptions, false);
      break;
    case 'plain_text_input':
      if (typeof el.max_length === 'number' && el.max_length > SLACK_LIMITS.textInputLength) p.add(`must be less than or equal to ${SLACK_LIMITS.textInputLength}`, `${ptr}/max_length`);
      if (typeof el.min_length === 'number' && el.min_length > SLACK_LIMITS.textInputLength) p.add(`must be less than or equal to ${SLACK_LIMITS.textInputLength}`, `${ptr}/min_length`);
      p.max(el.initial_value, SLACK_LIMITS.textInputLength, `${ptr}/initial_value`);
      break;
  }
}

/** Block Kit problems in a block list; `surface` picks the block-count limit. */
export function slackBlockErrors(blocks: unknown, surface: 'message' | 'modal', base = '/blocks'): string[] {
  const p = new Problems();
  if (!Array.isArray(blocks)) {
    p.add('must be an array', base);
    return p.list;
  }
  const maxBlocks = surface === 'message' ? SLACK_LIMITS.messageBlocks : SLACK_LIMITS.modalBlocks;
  if (blocks.length > maxBlocks) p.add(`must provide an array of no more than ${maxBlocks} items`, base);
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const ptr = `${base}/${i}`;
    if (!isRecord(b)) return p.add('must be an object', ptr);
    if (typeof b.type !== 'string') return p.add('missing required field: type', ptr);
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length === 0) p.add('must be a non-empty string', `${ptr}/block_id`);
      else {
        p.max(b.block_id, SLACK_LIMITS.blockId, `${ptr}/block_id`);
        if (blockIds.has(b.block_id)) p.add(`duplicate block_id ${b.block_id}`, `${ptr}/block_id`);
        blockIds.add(b.block_id);
      }
    }
    const actionIds = new Set<string>();
    switch (b.type) {
      case 'section':
        if (b.text === undefined && b.fields === undefined) p.add('must provide either text or fields', ptr);
        checkText(p, b.text, `${ptr}/text`, SLACK_LIMITS.sectionText);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields)) p.add('must be an array', `${ptr}/fields`);
          else {
            if (b.fields.length > SLACK_LIMITS.sectionFields) p.add(`must provide an array of no more than ${SLACK_LIMITS.sectionFields} items`, `${ptr}/fields`);
            b.fields.forEach((f, j) => checkText(p, f, `${ptr}/fields/${j}`, SLACK_LIMITS.sectionFieldText, { required: true }));
          }
        }
        if (b.accessory !== undefined) checkElement(p, b.accessory, `${ptr}/accessory`, actionIds);
        break;
      case 'header':
        checkText(p, b.text, `${ptr}/text`, SLACK_LIMITS.headerText, { plainOnly: true, required: true });
        break;
      case 'context':
      case 'actions': {
        const max = b.type === 'context' ? SLACK_LIMITS.contextElements : SLACK_LIMITS.actionsElements;
        if (!Array.isArray(b.elements)) p.add('missing required field: elements', ptr);
        else {
          if (b.elements.length === 0) p.add('must provide an array of at least 1 items', `${ptr}/elements`);
          if (b.elements.length > max) p.add(`must provide an array of no more than ${max} items`, `${ptr}/elements`);
          b.elements.forEach((el, j) => checkElement(p, el, `${ptr}/elements/${j}`, actionIds));
        }
        break;
      }
      case 'input':
        checkText(p, b.label, `${ptr}/label`, SLACK_LIMITS.inputLabel, { plainOnly: true, required: true });
        checkText(p, b.hint, `${ptr}/hint`, SLACK_LIMITS.inputHint, { plainOnly: true });
        if (b.element === undefined) p.add('missing required field: element', ptr);
        else checkElement(p, b.element, `${ptr}/element`, actionIds);
        break;
      case 'image':
        if (typeof b.alt_text !== 'string') p.add('missing required field: alt_text', ptr);
        p.max(b.alt_text, SLACK_LIMITS.imageAltText, `${ptr}/alt_text`);
        p.max(b.image_url, SLACK_LIMITS.url, `${ptr}/image_url`);
        checkText(p, b.title, `${ptr}/title`, SLACK_LIMITS.imageAltText, { plainOnly: true });
        break;
      case 'markdown':
        if (typeof b.text !== 'string') p.add('missing required field: text', ptr);
        p.max(b.text, SLACK_LIMITS.markdownText, `${ptr}/text`);
        break;
    }
  });
  return p.list;
}

/** Modal/Home view problems (the 250 kB size check excluded), json-pointers under /view. */
export function slackViewErrors(view: unknown, allowHome = false): string[] {
  const p = new Problems();
  if (!isRecord(view)) {
    p.add('must be an object', '/view');
    return p.list;
  }
  if (view.type !== 'modal' && !(allowHome && view.type === 'home')) p.add('must be a valid enum value', '/view/type');
  if (view.type === 'modal') {
    checkText(p, view.title, '/view/title', SLACK_LIMITS.modalTitle, { plainOnly: true, required: true });
    checkText(p, view.submit, '/view/submit', SLACK_LIMITS.modalButton, { plainOnly: true });
    checkText(p, view.close, '/view/close', SLACK_LIMITS.modalButton, { plainOnly: true });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isRecord(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) p.add('submit is required when an input block is within the blocks array', '/view');
  }
  if (view.private_metadata !== undefined && typeof view.private_metadata !== 'string') p.add('must be a string', '/view/private_metadata');
  p.max(view.private_metadata, SLACK_LIMITS.privateMetadata, '/view/private_metadata');
  p.max(view.callback_id, SLACK_LIMITS.callbackId, '/view/callback_id');
  p.max(view.external_id, SLACK_LIMITS.externalId, '/view/external_id');
  if (view.blocks === undefined) p.add('missing required field: blocks', '/view');
  else p.list.push(...slackBlockErrors(view.blocks, 'modal', '/view/blocks'));
  return p.list;
}

// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(
    readonly error: string,
    readonly extra: Json = {},
  ) {
    super(error);
  }
}

const refuse = (error: string, messages?: string[], extra: Json = {}): never => {
  const body: Json = { ...extra };
  if (messages && messages.length > 0) body.response_metadata = { messages: messages.map((m) => `[ERROR] ${m}`) };
  throw new ApiError(error, body);
};

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);

function randomId(prefix: string, n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return prefix + Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
}

function blockIdFor(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(5), (b) => alphabet[b % alphabet.length]).join('');
}

/** Slack gives every block a block_id when the app did not. */
function withBlockIds(blocks: unknown): unknown[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.map((b) => (isRecord(b) && b.block_id === undefined ? { ...b, block_id: blockIdFor() } : b));
}

function plainOut(t: unknown): unknown {
  return isRecord(t) && t.type === 'plain_text' && t.emoji === undefined ? { ...t, emoji: true } : t;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

interface Trigger {
  issuedAt: number;
  used: boolean;
  user?: string;
  viewId?: string;
}

interface ResponseUrlState {
  uses: number;
  createdAt: number;
  channel?: string;
  user?: string;
  messageTs?: string;
}

export async function startSlackStandIn(opts: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const now = opts.now ?? Date.now;
  const botToken = opts.botToken ?? LOCAL_SLACK.botToken;
  const botUserId = opts.botUserId ?? LOCAL_SLACK.botUserId;
  const teamId = opts.teamId ?? LOCAL_SLACK.teamId;
  const triggerTtlMs = opts.triggerTtlMs ?? SLACK_LIMITS.triggerTtlMs;
  const users: Record<string, { name: string; real_name?: string; email?: string; is_bot?: boolean }> = {
    [botUserId]: { name: LOCAL_SLACK.botName, real_name: 'CMK bot', is_bot: true },
    ...(opts.users ?? {}),
  };

  const calls: SlackCall[] = [];
  const messages: SlackMessage[] = [];
  const views = new Map<string, SlackView>();
  const responses: SlackResponse[] = [];
  const triggers = new Map<string, Trigger>();
  const responseUrls = new Map<string, ResponseUrlState>();
  const limits = new Map<string, { retryAfter: number; times: number }>();
  let lastMicros = 0;

  const nextTs = (): string => {
    lastMicros = Math.max(Math.floor(now()) * 1000, lastMicros + 100);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  };
  const newHash = () => `${Math.floor(now() / 1000)}.${randomBytes(4).toString('hex')}`;
  const imChannel = (user: string) => (/^[UW]/.test(user) ? `D${user.slice(1)}` : user);
  const findMessage = (channel: string, ts: string) => {
    const ch = imChannel(channel);
    return messages.find((m) => m.channel === ch && m.ts === ts && !m.deleted);
  };

  // ---- argument helpers ----
  const need = (args: Json, name: string): string => {
    const v = args[name];
    if (typeof v !== 'string' || v.length === 0) return refuse(name === 'channel' ? 'channel_not_found' : 'invalid_arguments', [`missing required field: ${name}`]);
    return v;
  };
  const checkMessageContent = (args: Json, requireContent: boolean) => {
    const text = str(args.text);
    if (args.blocks !== undefined) {
      const problems = slackBlockErrors(args.blocks, 'message');
      if (problems.length) refuse('invalid_blocks', problems, { errors: problems });
    }
    if (text !== undefined && text.length > SLACK_LIMITS.messageText) refuse('msg_too_long');
    const hasBlocks = Array.isArray(args.blocks) && args.blocks.length > 0;
    if (requireContent && !text && !hasBlocks && args.attachments === undefined) refuse('no_text');
  };
  const slackMessageJson = (m: SlackMessage): Json => {
    const out: Json = { user: m.user, type: 'message', ts: m.ts, bot_id: LOCAL_SLACK.botId, app_id: LOCAL_SLACK.appId, text: m.text ?? '', team: teamId };
    if (m.user === botUserId) out.bot_profile = { id: LOCAL_SLACK.botId, app_id: LOCAL_SLACK.appId, name: LOCAL_SLACK.botName, deleted: false, team_id: teamId };
    if (m.blocks) out.blocks = m.blocks;
    if (m.thread_ts) out.thread_ts = m.thread_ts;
    return out;
  };
  const postMessage = (m: Omit<SlackMessage, 'ts' | 'updates'>): SlackMessage => {
    const msg: SlackMessage = { ...m, ts: nextTs(), updates: 0 };
    for (const k of Object.keys(msg) as Array<keyof SlackMessage>) if (msg[k] === undefined) delete msg[k];
    messages.push(msg);
    return msg;
  };

  // ---- views ----
  const takeTrigger = (args: Json): Trigger => {
    const id = str(args.trigger_id) ?? str(args.interactivity_pointer);
    if (!id) return refuse('invalid_arguments', ['missing required field: trigger_id']);
    const t = triggers.get(id);
    if (!t) return refuse('invalid_trigger_id');
    if (t.used) return refuse('exchanged_trigger_id');
    if (now() - t.issuedAt > triggerTtlMs) return refuse('expired_trigger_id');
    t.used = true;
    return t;
  };
  const checkView = (view: unknown, allowHome: boolean): Json => {
    if (!isRecord(view)) return refuse('invalid_arguments', ['missing required field: view']);
    if (Buffer.byteLength(JSON.stringify(view), 'utf8') > SLACK_LIMITS.viewBytes) refuse('view_too_large');
    const problems = slackViewErrors(view, allowHome);
    if (problems.length) refuse('invalid_arguments', problems);
    return view;
  };
  const checkExternalId = (view: Json, selfId?: string) => {
    const ext = str(view.external_id);
    if (!ext) return;
    for (const v of views.values()) if (v.id !== selfId && v.view.external_id === ext) refuse('duplicate_external_id');
  };
  const outputView = (input: Json, id: string, hash: string, rootId: string, previousId: string | null): Json => ({
    id,
    team_id: teamId,
    type: input.type,
    blocks: withBlockIds(input.blocks),
    private_metadata: str(input.private_metadata) ?? '',
    callback_id: str(input.callback_id) ?? '',
    state: { values: {} },
    hash,
    title: plainOut(input.title),
    clear_on_close: input.clear_on_close === true,
    notify_on_close: input.notify_on_close === true,
    close: input.close === undefined ? null : plainOut(input.close),
    submit: input.submit === undefined ? null : plainOut(input.submit),
    previous_view_id: previousId,
    root_view_id: rootId,
    app_id: LOCAL_SLACK.appId,
    external_id: str(input.external_id) ?? '',
    app_installed_team_id: teamId,
    bot_id: LOCAL_SLACK.botId,
  });
  const stackOf = (rootId: string) => [...views.values()].filter((v) => v.view.root_view_id === rootId);

  // ---- methods ----
  const methods: Record<string, (args: Json) => Json> = {
    'auth.test': () => ({
      url: `https://${LOCAL_SLACK.teamDomain}.slack.com/`,
      team: LOCAL_SLACK.teamName,
      user: users[botUserId]?.name ?? LOCAL_SLACK.botName,
      team_id: teamId,
      user_id: botUserId,
      bot_id: LOCAL_SLACK.botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => {
      const channel = imChannel(need(args, 'channel'));
      checkMessageContent(args, true);
      const m = postMessage({
        channel,
        text: str(args.text),
        blocks: args.blocks === undefined ? undefined : withBlockIds(args.blocks),
        thread_ts: str(args.thread_ts),
        user: botUserId,
      });
      return { channel, ts: m.ts, message: slackMessageJson(m) };
    },
    'chat.update': (args) => {
      const channel = need(args, 'channel');
      const ts = need(args, 'ts');
      const m = findMessage(channel, ts);
      if (!m || m.ephemeralFor !== undefined) return refuse('message_not_found');
      checkMessageContent(args, false);
      if (args.text !== undefined) m.text = str(args.text);
      if (args.blocks !== undefined) m.blocks = withBlockIds(args.blocks);
      if (m.text === undefined && (!m.blocks || m.blocks.length === 0)) refuse('no_text');
      m.updates += 1;
      return { channel: m.channel, ts: m.ts, text: m.text ?? '', message: slackMessageJson(m) };
    },
    'chat.postEphemeral': (args) => {
      const channel = imChannel(need(args, 'channel'));
      const user = need(args, 'user');
      checkMessageContent(args, true);
      const m = postMessage({
        channel,
        text: str(args.text),
        blocks: args.blocks === undefined ? undefined : withBlockIds(args.blocks),
        thread_ts: str(args.thread_ts),
        user: botUserId,
        ephemeralFor: user,
      });
      return { message_ts: m.ts };
    },
    'chat.delete': (args) => {
      const m = findMessage(need(args, 'channel'), need(args, 'ts'));
      if (!m || m.ephemeralFor !== undefined) return refuse('message_not_found');
      m.deleted = true;
      return { channel: m.channel, ts: m.ts };
    },
    'conversations.open': (args) => {
      const list = (str(args.users) ?? '').split(',').filter(Boolean);
      if (list.length !== 1) return refuse(list.length === 0 ? 'users_list_not_supplied' : 'not_implemented');
      const user = list[0]!;
      if (!users[user]) return refuse('user_not_found');
      return { channel: { id: imChannel(user) } };
    },
    'views.open': (args) => {
      const view = checkView(args.view, false);
      checkExternalId(view);
      const t = takeTrigger(args);
      const id = randomId('V', 10);
      const out = outputView(view, id, newHash(), id, null);
      views.set(id, { id, hash: String(out.hash), view: out, ...(t.user ? { user: t.user } : {}) });
      return { view: out };
    },
    'views.push': (args) => {
      const view = checkView(args.view, false);
      checkExternalId(view);
      const t = takeTrigger(args);
      let rootId: string | undefined;
      if (t.viewId) rootId = str(views.get(t.viewId)?.view.root_view_id);
      else if (t.user) rootId = str([...views.values()].reverse().find((v) => v.user === t.user)?.view.root_view_id);
      const id = randomId('V', 10);
      const stack = rootId ? stackOf(rootId) : [];
      if (stack.length >= SLACK_LIMITS.pushedViews) return refuse('push_limit_reached');
      const previous = stack[stack.length - 1]?.id ?? null;
      const out = outputView(view, id, newHash(), rootId ?? id, previous);
      views.set(id, { id, hash: String(out.hash), view: out, ...(t.user ? { user: t.user } : {}) });
      return { view: out };
    },
    'views.update': (args) => {
      const viewId = str(args.view_id);
      const externalId = str(args.external_id);
      if (!viewId && !externalId) return refuse('invalid_arguments', ['missing required field: view_id or external_id']);
      const view = checkView(args.view, true);
      const current = viewId ? views.get(viewId) : [...views.values()].find((v) => v.view.external_id === externalId);
      if (!current) return refuse('not_found');
      const hash = str(args.hash);
      if (hash !== undefined && hash !== current.hash) return refuse('hash_conflict');
      checkExternalId(view, current.id);
      const out = outputView({ ...view, external_id: view.external_id ?? current.view.external_id }, current.id, newHash(), String(current.view.root_view_id), (current.view.previous_view_id as string | null) ?? null);
      current.view = out;
      current.hash = String(out.hash);
      return { view: out };
    },
    'users.info': (args) => {
      const id = need(args, 'user');
      const u = users[id];
      if (!u) return refuse('user_not_found');
      const real = u.real_name ?? u.name;
      return {
        user: {
          id,
          team_id: teamId,
          name: u.name,
          deleted: false,
          real_name: real,
          tz: 'Europe/Amsterdam',
          tz_label: 'Central European Time',
          tz_offset: 3600,
          is_admin: false,
          is_owner: false,
          is_bot: u.is_bot === true,
          is_app_user: false,
          updated: Math.floor(now() / 1000),
          profile: { real_name: real, display_name: u.name, ...(u.email ? { email: u.email } : {}), team: teamId },
        },
      };
    },
    'users.lookupByEmail': (args) => {
      const email = need(args, 'email');
      const id = Object.keys(users).find((k) => users[k]?.email === email);
      if (!id) return refuse('users_not_found');
      return { user: (methods['users.info']!({ user: id }) as { user: Json }).user };
    },
  };

  // ---- HTTP ----
  const parseArgs = (req: IncomingMessage, raw: string, query: URLSearchParams): Json => {
    const args: Json = {};
    for (const [k, v] of query) args[k] = v;
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (raw.length > 0) {
      if (type === 'application/json') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          return refuse('invalid_json');
        }
        if (!isRecord(parsed)) return refuse('invalid_json');
        Object.assign(args, parsed);
      } else if (type === 'application/x-www-form-urlencoded' || type === 'text/plain' || type === '') {
        for (const [k, v] of new URLSearchParams(raw)) args[k] = v;
      } else {
        return refuse('invalid_post_type');
      }
    }
    for (const k of JSON_FIELDS) {
      const v = args[k];
      if (typeof v !== 'string') continue;
      try {
        args[k] = JSON.parse(v);
      } catch {
        return refuse(k === 'blocks' ? 'invalid_blocks_format' : 'invalid_arguments', [`${k} is not valid JSON`]);
      }
    }
    return args;
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams) => {
    const raw = await readBody(req);
    const call: SlackCall = { method, args: {}, at: now(), status: 200 };
    calls.push(call);
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : undefined;
    try {
      const args = parseArgs(req, raw, query);
      const token = bearer ?? str(args.token);
      delete args.token;
      call.args = args;
      if (token !== undefined) call.token = token;
      const impl = methods[method];
      if (!impl) return refuse('unknown_method', undefined, { req_method: method });
      if (token === undefined || token === '') return refuse('not_authed');
      if (token !== botToken) return refuse('invalid_auth');
      const limit = limits.get(method);
      if (limit && limit.times > 0) {
        limit.times -= 1;
        if (limit.times === 0) limits.delete(method);
        call.status = 429;
        call.error = 'ratelimited';
        return send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfter) });
      }
      const result = impl(args);
      send(res, 200, { ok: true, ...result });
    } catch (e) {
      if (!(e instanceof ApiError)) {
        call.error = 'internal_error';
        return send(res, 500, { ok: false, error: 'internal_error', detail: String(e) });
      }
      call.error = e.error;
      send(res, 200, { ok: false, error: e.error, ...e.extra });
    }
  };

  const handleResponseUrl = async (req: IncomingMessage, res: ServerResponse, id: string) => {
    const raw = await readBody(req);
    const state = responseUrls.get(id);
    if (!state) return send(res, 404, { ok: false, error: 'no_such_url' });
    if (now() - state.createdAt > SLACK_LIMITS.responseUrlTtlMs) return send(res, 404, { ok: false, error: 'expired_url' });
    if (state.uses >= SLACK_LIMITS.responseUrlUses) return send(res, 404, { ok: false, error: 'used_url' });
    let body: unknown;
    try {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type === 'application/x-www-form-urlencoded') {
        const payload = new URLSearchParams(raw).get('payload');
        body = payload === null ? Object.fromEntries(new URLSearchParams(raw)) : JSON.parse(payload);
      } else {
        body = JSON.parse(raw);
      }
    } catch {
      return send(res, 400, { ok: false, error: 'invalid_payload' });
    }
    if (!isRecord(body)) return send(res, 400, { ok: false, error: 'invalid_payload' });
    if (body.blocks !== undefined) {
      const problems = slackBlockErrors(body.blocks, 'message');
      if (problems.length) return send(res, 400, { ok: false, error: 'invalid_blocks', errors: problems });
    }
    if (typeof body.text === 'string' && body.text.length > SLACK_LIMITS.messageText) return send(res, 400, { ok: false, error: 'msg_too_long' });
    const hasContent = typeof body.text === 'string' || Array.isArray(body.blocks) || body.attachments !== undefined;
    if (!hasContent && body.delete_original !== true) return send(res, 400, { ok: false, error: 'no_text' });
    state.uses += 1;
    responses.push({ id, body, at: now() });
    // Effects on what the user sees, when the response_url was issued with a context.
    const original = state.channel && state.messageTs ? findMessage(state.channel, state.messageTs) : undefined;
    const truthy = (v: unknown) => v === true || v === 'true';
    if (truthy(body.delete_original)) {
      if (original) original.deleted = true;
    } else if (truthy(body.replace_original)) {
      if (original) {
        original.text = str(body.text);
        original.blocks = body.blocks === undefined ? undefined : withBlockIds(body.blocks);
        if (original.blocks === undefined) delete original.blocks;
        if (original.text === undefined) delete original.text;
        original.updates += 1;
      }
    } else if (state.channel) {
      const inChannel = body.response_type === 'in_channel';
      if (inChannel || state.user) {
        postMessage({
          channel: imChannel(state.channel),
          text: str(body.text),
          blocks: body.blocks === undefined ? undefined : withBlockIds(body.blocks),
          thread_ts: str(body.thread_ts),
          user: botUserId,
          ephemeralFor: inChannel ? undefined : state.user,
        });
      }
    }
    send(res, 200, { ok: true });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    const resp = /^\/response\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    let work: Promise<void> | undefined;
    if (api && (req.method === 'POST' || req.method === 'GET')) work = handleApi(req, res, api[1]!, url.searchParams);
    else if (resp && req.method === 'POST') work = handleResponseUrl(req, res, resp[1]!);
    if (!work) return send(res, 404, { ok: false, error: 'not_found' });
    work.catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { ok: false, error: 'internal_error', detail: String(e) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const base = `http://127.0.0.1:${port}`;

  const summary = (c: SlackCall): string => {
    const a = c.args;
    const parts: string[] = [];
    for (const k of ['channel', 'ts', 'user', 'view_id', 'external_id', 'trigger_id', 'thread_ts']) if (typeof a[k] === 'string') parts.push(`${k}=${String(a[k])}`);
    if (typeof a.text === 'string') parts.push(`text=${JSON.stringify(a.text.slice(0, 160))}`);
    if (Array.isArray(a.blocks)) parts.push(`blocks=${a.blocks.length}`);
    if (isRecord(a.view)) {
      const title = isRecord(a.view.title) ? a.view.title.text : undefined;
      parts.push(`view=${JSON.stringify({ callback_id: a.view.callback_id, title })}`);
    }
    return parts.join(' ');
  };
  const dump = (): string => {
    const lines = calls.map((c, i) => `  #${i} ${c.method} -> ${c.status} ${c.error ?? 'ok'} ${summary(c)}`);
    const resp = responses.map((r) => `  response ${r.id}: ${JSON.stringify(r.body).slice(0, 200)}`);
    return [`calls (${calls.length}):`, ...(lines.length ? lines : ['  (none)']), ...resp].join('\n');
  };

  return {
    url: `${base}/api/`,
    botToken,
    botUserId,
    teamId,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    messages,
    message: (channel, ts) => messages.find((m) => m.channel === imChannel(channel) && m.ts === ts),
    thread: (channel, ts) => messages.filter((m) => m.channel === imChannel(channel) && m.thread_ts === ts && m.ts !== ts),
    views,
    triggerId(o = {}) {
      const id = `${Math.floor(now() / 1000)}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}.${randomBytes(5).readUIntBE(0, 5) % 1e11}.${randomBytes(16).toString('hex')}`;
      triggers.set(id, { issuedAt: now(), used: false, ...(o.user ? { user: o.user } : {}), ...(o.viewId ? { viewId: o.viewId } : {}) });
      return id;
    },
    responseUrl(o = {}) {
      const id = `${teamId}-${randomBytes(6).readUIntBE(0, 6)}-${randomBytes(12).toString('hex')}`;
      responseUrls.set(id, { uses: 0, createdAt: now(), ...o });
      return `${base}/response/${id}`;
    },
    responses,
    rateLimit(method, retryAfterSeconds, times = 1) {
      limits.set(method, { retryAfter: retryAfterSeconds, times });
    },
    imChannel,
    waitFor<T>(pred: () => T | undefined | false, timeoutMs = 5000, label = 'condition'): Promise<T> {
      const started = Date.now();
      return new Promise<T>((resolve, reject) => {
        const tick = () => {
          let v: T | undefined | false;
          try {
            v = pred();
          } catch (e) {
            return reject(e instanceof Error ? e : new Error(String(e)));
          }
          if (v !== undefined && v !== false) return resolve(v);
          if (Date.now() - started >= timeoutMs) return reject(new Error(`slack stand-in: timed out after ${timeoutMs} ms waiting for ${label}\n${dump()}`));
          setTimeout(tick, 10);
        };
        tick();
      });
    },
    reset() {
      calls.length = 0;
      messages.length = 0;
      responses.length = 0;
      views.clear();
      triggers.clear();
      responseUrls.clear();
      limits.clear();
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
