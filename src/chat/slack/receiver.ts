// Our own Bolt receiver on the shared HTTP server (POST /slack/events). We verify the signature on
// the raw body ourselves because Bolt's check lets future timestamps through; we reject anything
// more than 5 minutes old *or* ahead, deduplicate retries and replays (events, button presses,
// modal submissions, slash commands), and acknowledge exactly once.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { canonicalJson } from '../../domain/canonical';

export const MAX_SKEW_SECONDS = 5 * 60;

export interface SlackReceiverOptions {
  signingSecret: string;
  now?: () => number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** How long Bolt may take before we answer 200 ourselves (Slack gives 3 s). */
  ackTimeoutMs?: number;
  /**
   * Deliveries already seen, shared by every replica (the database). true = first time.
   */
  claim: (key: string) => Promise<boolean>;
  /** A delivery whose handling failed is forgotten, so Slack's retry gets through. */
  forget: (key: string) => Promise<void>;
  /** Runs on the route once the body has been read (counting the requests being answered: src/chat/answering.ts). */
  routed?: RequestHandler;
}

/** What the receiver adds to Bolt's `context` for every delivery. */
export interface SlackDeliveryContext {
  /** `performance.now()` when the request reached the receiver. */
  receivedAt: number;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Slack's v0 signature over `v0:{timestamp}:{raw body}`, compared in constant time, timestamp within ±5 minutes. */
export function verifySlackSignature(secret: string, headers: Record<string, string | string[] | undefined>, rawBody: string, nowMs: number): VerifyResult {
  const ts = String(headers['x-slack-request-timestamp'] ?? '');
  const sig = String(headers['x-slack-signature'] ?? '');
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'missing or malformed X-Slack-Request-Timestamp' };
  if (!/^v0=[0-9a-f]{64}$/.test(sig)) return { ok: false, reason: 'missing or malformed X-Slack-Signature' };
  const skew = Math.floor(nowMs / 1000) - Number(ts);
  if (skew > MAX_SKEW_SECONDS) return { ok: false, reason: 'timestamp more than 5 minutes old' };
  if (skew < -MAX_SKEW_SECONDS) return { ok: false, reason: 'timestamp more than 5 minutes in the future' };
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${ts}:${rawBody}`).digest('hex')}`);
  const given = Buffer.from(sig);
  return expected.length === given.length && timingSafeEqual(expected, given) ? { ok: true } : { ok: false, reason: 'signature does not match' };
}

/** Slack sends JSON (Events API), form fields (slash commands) or a form field `payload` with JSON (interactivity). */
export function parseSlackBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  const object = (text: string) => {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SyntaxError('a Slack body is a JSON object');
    return v as Record<string, unknown>;
  };
  if ((contentType ?? '').includes('application/json')) return object(rawBody);
  const form = Object.fromEntries(new URLSearchParams(rawBody));
  if (typeof form.payload === 'string') return object(form.payload);
  return form;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The parts Bolt dereferences, per payload type: without them, a 400 rather than a crash inside Bolt. */
export function envelopeProblem(body: Record<string, unknown>): string | undefined {
  switch (body.type) {
    case 'view_submission':
    case 'view_closed':
      if (!isObject(body.view) || !isObject(body.user)) return `${body.type} needs view and user objects`;
      return undefined;
    case 'block_actions':
      if (!isObject(body.user) || !Array.isArray(body.actions) || !body.actions.every(isObject)) return 'block_actions needs a user object and an actions array';
      return undefined;
    case 'event_callback':
      if (!isObject(body.event)) return 'event_callback needs an event object';
      return undefined;
    default:
      return undefined;
  }
}

/**
 * The key under which a delivery counts as "the same" for deduplication, if any. A digest of the
 * parts, so payload text of any length or content (a NUL) can be stored.
 */
export function dedupeKey(body: Record<string, unknown>): string | undefined {
  const raw = rawDedupeKey(body);
  return raw === undefined ? undefined : `${raw.split(':')[0]}:${createHash('sha256').update(raw).digest('hex')}`;
}

/** The submitted values in one canonical text; a value too deep to walk (hostile) is one key of its own. */
function valuesKey(values: unknown): string {
  try {
    return canonicalJson(values ?? null);
  } catch {
    return 'unwalkable';
  }
}

function rawDedupeKey(body: Record<string, unknown>): string | undefined {
  if (body.type === 'event_callback' && typeof body.event_id === 'string') return `event:${body.event_id}`;
  if (body.type === 'block_actions') {
    const action = (Array.isArray(body.actions) ? body.actions[0] : undefined) as { action_id?: string; action_ts?: string; value?: string; block_id?: string; selected_option?: unknown } | null | undefined;
    const msg = (body.message as { ts?: string } | undefined)?.ts ?? (body.container as { message_ts?: string } | undefined)?.message_ts;
    const user = (body.user as { id?: string } | undefined)?.id;
    const viewId = (body.container as { type?: string; view_id?: string } | undefined)?.type === 'view' ? (body.container as { view_id?: string }).view_id : undefined;
    if (viewId !== undefined) {
      // A picker changed in a modal: each choice is new (picking a key, then another, then the first again
      // happens at different times); only the same choice delivered again is a repeat.
      return `action:${JSON.stringify([action?.action_id, action?.block_id, viewId, user, action?.action_ts, valuesKey(action?.selected_option ?? action?.value ?? null)])}`;
    }
    // One user pressing one button on one message: a redelivery, or a double click. JSON, not a
    // template: a value such as {"toString":1} cannot be turned into a string and would throw.
    return `action:${JSON.stringify([action?.action_id, msg, user, action?.value ?? ''])}`;
  }
  if (body.type === 'view_submission') {
    // The values are part of it: after an error answer Slack keeps the view (same id and hash), so
    // a person's corrected resubmission differs only in what they typed — it is new, a retry is not.
    const view = body.view as { id?: string; hash?: string; state?: { values?: unknown } } | undefined;
    return `view:${JSON.stringify([view?.id, view?.hash, valuesKey(view?.state?.values)])}`;
  }
  if (typeof body.command === 'string' && typeof body.trigger_id === 'string') {
    // A slash command has no delivery id, but its trigger id is new for every invocation: the same
    // signed request sent again within the 5-minute window is a replay and runs once.
    return `command:${JSON.stringify([body.team_id, body.channel_id, body.user_id, body.command, body.text, body.trigger_id])}`;
  }
  return undefined;
}

export class SlackReceiver implements Receiver {
  private app?: App;
  private readonly now: () => number;

  constructor(private readonly opts: SlackReceiverOptions) {
    this.now = opts.now ?? Date.now;
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  mount(server: Express): void {
    server.post('/slack/events', express.raw({ type: () => true, limit: '1mb' }), ...(this.opts.routed ? [this.opts.routed] : []), (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.opts.log?.('error', 'Slack delivery failed', { error: (e as Error).stack ?? String(e) });
        if (!res.headersSent) res.status(500).json({ error: 'internal error' });
      });
    });
  }

  async handle(req: Request, res: Response): Promise<void> {
    // When the delivery arrived (monotonic), for handlers that race a deadline of Slack's own (a
    // trigger id lives 3 s from here, whatever the delivery claim below takes).
    const receivedAt = performance.now();
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const verdict = verifySlackSignature(this.opts.signingSecret, req.headers, raw, this.now());
    if (!verdict.ok) {
      this.opts.log?.('warn', 'refused a Slack request', { reason: verdict.reason });
      res.status(401).json({ error: 'invalid request signature or timestamp' });
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = parseSlackBody(raw, req.headers['content-type']);
    } catch {
      res.status(400).json({ error: 'unreadable body' });
      return;
    }
    const problem = envelopeProblem(body);
    if (problem) {
      res.status(400).json({ error: `not a Slack payload this app understands: ${problem}` });
      return;
    }
    if (body.type === 'url_verification') {
      res.json({ challenge: body.challenge });
      return;
    }
    const key = dedupeKey(body);
    let first: boolean;
    try {
      first = key ? await this.opts.claim(key) : true;
    } catch (e) {
      // Cannot tell whether it was seen: refuse it, and Slack retries.
      this.opts.log?.('error', 'could not record a Slack delivery', { error: (e as Error).message });
      res.status(503).json({ error: 'try again' });
      return;
    }
    if (!first) {
      // Already handled (Slack retry or a double click): acknowledge, do nothing twice.
      res.status(200).send('');
      return;
    }
    let acked = false;
    const answer = (response?: unknown) => {
      if (acked) return;
      acked = true;
      if (response === undefined || response === '') res.status(200).send('');
      else if (typeof response === 'string') res.status(200).type('text/plain').send(response);
      else res.status(200).json(response);
    };
    // Slack shows an error after 3 s: if a handler forgets to ack, answer anyway.
    const timer = setTimeout(() => answer(), this.opts.ackTimeoutMs ?? 2500);
    const event: ReceiverEvent = {
      body,
      retryNum: req.headers['x-slack-retry-num'] ? Number(req.headers['x-slack-retry-num']) : undefined,
      retryReason: req.headers['x-slack-retry-reason'] as string | undefined,
      ack: async (response?: unknown) => answer(response),
      customProperties: { receivedAt } satisfies SlackDeliveryContext,
    };
    try {
      await this.app?.processEvent(event);
    } catch (e) {
      this.opts.log?.('error', 'unhandled error in a Slack handler', { error: (e as Error).stack ?? String(e) });
      if (!acked) {
        // Nothing was taken on (e.g. the job could not be stored): say so, so Slack retries and
        // the retry is not mistaken for a duplicate.
        acked = true;
        if (key) await this.opts.forget(key).catch(() => undefined);
        res.status(500).json({ error: 'could not take the request; try again' });
      }
    } finally {
      clearTimeout(timer);
      answer();
    }
  }
}
