// POST /events/eventgrid: Key Vault events from an Event Grid webhook subscription. Only an
// authenticated delivery is read (the shared secret as `?code=`, or Event Grid's Microsoft Entra
// bearer token); the handshakes of both schemas are answered; Key Vault key events go to
// `onEvents` and the delivery is answered once it returns, so a failure there makes Event Grid
// retry. The app mounts the router (`app.use(createEventGridEndpoint(...))`).
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { type EventGridDelivery, isEventParseError, type KeyVaultEvent, parseBinaryCloudEvent, parseCloudEvents, parseEventGridEvents } from '../azure/event-grid';
import type { Log } from '../log';

export const EVENT_GRID_PATH = '/events/eventgrid';

export interface EventGridEndpointOptions {
  /** EVENT_GRID_WEBHOOK_SECRET: a delivery whose `?code=` equals it is Event Grid's. */
  secret?: string;
  /** EVENT_GRID_AUDIENCE: the app id URI or client id Event Grid's Entra tokens are issued for. */
  audience?: string;
  /** EVENT_GRID_TENANT_ID: the tenant that issues them (required with `audience`). */
  tenantId?: string;
  /** Where the tenant's signing keys are announced; default Entra's v2.0 OpenID metadata of `tenantId`. */
  openIdMetadataUrl?: string;
  /** Called with the Key Vault events of one delivery (never empty); should store them and return. */
  onEvents(events: KeyVaultEvent[]): Promise<void>;
  log: Log;
  /** Largest body read (default 1.5 MiB: Event Grid sends at most 1 MB per event or batch). */
  maxBodyBytes?: number;
  /** How long `onEvents` may take before Event Grid is told to retry (default 20 s; Event Grid waits 30 s). */
  handlerTimeoutMs?: number;
  now?: () => Date;
}

type AuthResult = 'ok' | 'unauthorized' | 'unavailable';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Equal in constant time; hashing first makes the comparison independent of the lengths too. */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

const openIdMetadata = z.object({ jwks_uri: z.string().url() });

/**
 * The app role Event Grid's service principal is given on the audience app (Microsoft's setup for
 * "Microsoft Entra authentication" of webhooks). Entra issues app-only tokens for any resource to
 * any service principal of the tenant, with `roles` empty unless assigned, so the role is what
 * says the caller is Event Grid and not some other app of the tenant.
 */
export const EVENT_GRID_APP_ROLE = 'AzureEventGridSecureWebhookSubscriber';

/**
 * Verifies Event Grid's Entra tokens: signed by a key of the tenant's OpenID metadata, issued by
 * that tenant (v1 or v2 issuer: which one depends on the app's accessTokenAcceptedVersion), for
 * the configured audience, within its lifetime, carrying Event Grid's app role. The metadata is
 * read once; jose's remote key set refetches the keys when a token names one it has not seen (key
 * rollover).
 */
function entraVerifier(opts: { audience: string; tenantId: string; openIdMetadataUrl?: string; now: () => Date; log: Log }) {
  const metadataUrl = opts.openIdMetadataUrl ?? `https://login.microsoftonline.com/${encodeURIComponent(opts.tenantId)}/v2.0/.well-known/openid-configuration`;
  const issuers = [`https://login.microsoftonline.com/${opts.tenantId}/v2.0`, `https://sts.windows.net/${opts.tenantId}/`];
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const loadKeys = () => {
    keys ??= (async () => {
      const res = await fetch(metadataUrl, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`OpenID metadata ${metadataUrl} answered ${res.status}`);
      const meta = openIdMetadata.parse(await res.json());
      return createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: 10_000 });
    })().catch((e: unknown) => {
      keys = undefined; // try again on the next delivery
      throw e;
    });
    return keys;
  };
  return async (token: string): Promise<AuthResult> => {
    let getKey: JWTVerifyGetKey;
    try {
      getKey = await loadKeys();
    } catch (e) {
      opts.log('error', 'Entra OpenID metadata or signing keys could not be read', { metadataUrl, error: e instanceof Error ? e.message : String(e) });
      return 'unavailable';
    }
    try {
      const { payload } = await jwtVerify(token, getKey, { issuer: issuers, audience: opts.audience, algorithms: ['RS256'], currentDate: opts.now(), clockTolerance: 300 });
      return Array.isArray(payload.roles) && payload.roles.includes(EVENT_GRID_APP_ROLE) ? 'ok' : 'unauthorized';
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      // jose names every verdict on the token with an ERR_J* code; the key download failing or
      // timing out is ours to fix, not the sender's, and Event Grid retries a 503.
      if (typeof code === 'string' && code.startsWith('ERR_J') && code !== 'ERR_JWKS_TIMEOUT' && code !== 'ERR_JWKS_INVALID') return 'unauthorized';
      opts.log('error', 'Entra signing keys could not be read', { metadataUrl, error: e instanceof Error ? e.message : String(e) });
      return 'unavailable';
    }
  };
}

export function createEventGridEndpoint(opts: EventGridEndpointOptions): Router {
  const { log } = opts;
  if (!opts.secret && !opts.audience) throw new Error('createEventGridEndpoint: a secret or an Entra audience is required (EVENT_GRID_WEBHOOK_SECRET or EVENT_GRID_AUDIENCE)');
  if (opts.audience && !opts.tenantId) throw new Error('createEventGridEndpoint: EVENT_GRID_TENANT_ID is required with EVENT_GRID_AUDIENCE');
  const now = opts.now ?? (() => new Date());
  const verifyToken = opts.audience && opts.tenantId ? entraVerifier({ audience: opts.audience, tenantId: opts.tenantId, openIdMetadataUrl: opts.openIdMetadataUrl, now, log }) : undefined;
  const handlerTimeoutMs = opts.handlerTimeoutMs ?? 20_000;

  async function authenticate(req: Request): Promise<AuthResult> {
    const code = (req.query as Record<string, unknown>).code;
    if (opts.secret && typeof code === 'string' && sameSecret(code, opts.secret)) return 'ok';
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (verifyToken && bearer) return verifyToken(bearer);
    return 'unauthorized';
  }

  const refuse = (res: Response, result: Exclude<AuthResult, 'ok'>) => {
    if (result === 'unavailable') {
      log('warn', 'Event Grid delivery answered 503 (Event Grid retries): the token could not be checked');
      res.setHeader('retry-after', '30');
      res.status(503).json({ error: 'unavailable' });
      return;
    }
    log('warn', 'Event Grid delivery refused: not authenticated', { method: res.req.method, hasCode: 'code' in res.req.query, hasBearer: Boolean(res.req.get('authorization')) });
    if (verifyToken) res.setHeader('www-authenticate', 'Bearer');
    res.status(401).json({ error: 'unauthorized' });
  };

  const requireAuth = (req: Request, res: Response, next: NextFunction) => {
    authenticate(req).then(
      (result) => (result === 'ok' ? next() : refuse(res, result)),
      (e: unknown) => next(e),
    );
  };

  const router = express.Router();

  // CloudEvents 1.0 abuse protection (what Event Grid sends for a CloudEvents subscription): an
  // OPTIONS with WebHook-Request-Origin, answered with the origin we accept deliveries from.
  router.options(EVENT_GRID_PATH, requireAuth, (req, res) => {
    const origin = req.get('webhook-request-origin');
    if (!origin) {
      res.status(400).json({ error: 'WebHook-Request-Origin header is required' });
      return;
    }
    log('info', 'Event Grid CloudEvents handshake answered', { origin });
    res.setHeader('webhook-allowed-origin', origin);
    res.setHeader('webhook-allowed-rate', '*');
    res.setHeader('allow', 'POST, OPTIONS');
    res.status(200).end();
  });

  // Authentication runs before the body is read, so an unauthenticated caller costs no parsing.
  router.post(EVENT_GRID_PATH, requireAuth, express.text({ type: () => true, limit: opts.maxBodyBytes ?? 1.5 * 1024 * 1024 }), async (req, res) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      res.status(400).json({ error: 'body is not JSON' });
      return;
    }
    let delivery: EventGridDelivery;
    try {
      delivery = await readDelivery(req, body);
    } catch (e) {
      if (!isEventParseError(e)) throw e;
      log('warn', 'Event Grid delivery refused: not Event Grid or CloudEvents', { error: e.message });
      res.status(400).json({ error: e.message });
      return;
    }
    if (delivery.kind === 'validation') {
      // Answered only after authentication: the handshake is how Event Grid asks "do you want
      // these events?", and an unauthenticated answer would let anyone's subscription (any
      // topic, in any tenant) be confirmed against this endpoint. With ?code= in the endpoint URL
      // or Entra auth on the subscription, Event Grid's own validation request carries the proof.
      log('info', 'Event Grid subscription validation answered', { eventId: delivery.id });
      res.status(200).json({ validationResponse: delivery.validationCode });
      return;
    }
    for (const i of delivery.ignored) log('debug', 'Event Grid event ignored: not a Key Vault key event', { eventId: i.id, type: i.type });
    if (delivery.events.length === 0) {
      res.status(200).json({ accepted: 0, ignored: delivery.ignored.length });
      return;
    }
    log('info', 'Key Vault events received', { schema: delivery.schema, events: delivery.events.map((e) => ({ id: e.id, type: e.type, vault: e.vaultName, key: e.objectName, version: e.version })) });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        opts.onEvents(delivery.events),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`onEvents took longer than ${handlerTimeoutMs} ms`)), handlerTimeoutMs);
        }),
      ]);
    } catch (e) {
      // 500: Event Grid redelivers with backoff (the event ids stay the same, for deduplication).
      log('error', 'Key Vault events not handled; Event Grid will redeliver', { error: e instanceof Error ? e.message : String(e), eventIds: delivery.events.map((x) => x.id) });
      res.status(500).json({ error: 'events not handled; retry' });
      return;
    } finally {
      clearTimeout(timer);
    }
    res.status(200).json({ accepted: delivery.events.length, ignored: delivery.ignored.length });
  });

  // The body parser's refusals (too large, bad encoding) as a JSON 4xx, here rather than in the app.
  router.use(EVENT_GRID_PATH, (err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log('error', 'Event Grid delivery failed', { error: err.stack ?? String(err) });
    res.status(status).json({ error: status === 413 ? 'body too large' : status === 500 ? 'internal error' : 'bad request' });
  });

  return router;
}

/** Which schema the delivery is in: CloudEvents binary (ce-* headers), CloudEvents structured, or Event Grid's. */
function readDelivery(req: Request, body: unknown): Promise<EventGridDelivery> {
  const contentType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (req.get('ce-specversion')) return parseBinaryCloudEvent(req.headers, body, contentType || undefined);
  if (contentType === 'application/cloudevents+json' || contentType === 'application/cloudevents-batch+json') return parseCloudEvents(body);
  const first: unknown = Array.isArray(body) ? body[0] : body;
  if (first && typeof first === 'object' && 'specversion' in first) return parseCloudEvents(body);
  return parseEventGridEvents(body);
}
