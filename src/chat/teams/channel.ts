// The Teams endpoint: the Microsoft 365 Agents SDK's CloudAdapter at POST /api/messages. With a
// Microsoft app id configured every request must carry a valid token (the SDK's own check:
// signature against the issuer's published keys, audience, lifetime, issuer; and ours: the token's
// serviceurl claim is the activity's serviceUrl), checked before anything is recorded; the turn
// then runs on that identity. Without one — local use with the Agents Playground — requests are
// unauthenticated, so we accept them only from a loopback address. A refused caller gets
// {"error":"unauthorized"}; the reason is in our log.
import { type Activity, activityZodSchema } from '@microsoft/agents-activity';
import {
  type AuthConfiguration,
  AuthType,
  CloudAdapter,
  ConnectorClient,
  type HeaderPropagationCollection,
  HttpClient,
  type HttpRequestConfig,
  type HttpResponse,
  type Request as AgentsRequest,
  type TurnContext,
  type WebResponse,
} from '@microsoft/agents-hosting';
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { createHash } from 'node:crypto';
import type { Config } from '../../config';
import { type Log, routeConsole } from '../../log';
import { canonicalJson } from '../../domain/canonical';
import type { TargetRegistry } from '../../targets';
import { countAnswering } from '../answering';
import type { ChannelDeps } from '../channel-deps';
import { TeamsNotifier } from './notifier';
import { TeamsBot } from './teams-bot';

const ACTIVITY_TTL_MS = 15 * 60_000;
/** What a Teams user is told when a delivery cannot be recorded (the database is down). */
const DATABASE_UNAVAILABLE = 'I cannot reach my database right now, so nothing was recorded or changed. Please try again in a minute.';
/** A second press of the same button with the same data within this long is a redelivery. */
const ACTION_TTL_MS = 2 * 60_000;
/**
 * A claim with no recorded answer after this long was abandoned (Teams waits about 15 s for a
 * turn): its process died, or the database went away mid-turn. A retry takes it over.
 */
export const ABANDONED_TURN_MS = 60_000;
/** The largest activity POST /api/messages takes (a Teams message is far smaller); a larger one is answered 413 unread. */
export const MAX_ACTIVITY_BYTES = 256 * 1024;
/** Card verbs that change something; a repeat of one must never count twice. */
const CHANGING_VERBS = new Set(['form.submit', 'request.approve', 'request.reject', 'request.cancel', 'finding.ack', 'finding.snooze']);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The SDK's activity schema, unknown fields kept: built once, not on every turn. */
const SDK_ACTIVITY = activityZodSchema.passthrough();

/**
 * The envelope of an activity as the bot relies on it. Outside input: what does not fit is
 * refused with 400 before any handler runs, rather than failing somewhere inside the SDK.
 */
const activityEnvelope = z
  .object({
    type: z.string().min(1, 'must name the activity type'),
    id: z.string().optional(),
    serviceUrl: z.string().regex(/^https?:\/\/[^\s]+$/, 'must be the http(s) URL to answer to'),
    text: z.string().optional(),
    name: z.string().optional(),
    replyToId: z.string().optional(),
    from: z.object({ id: z.string().min(1), name: z.string().optional(), aadObjectId: z.string().optional() }).passthrough(),
    recipient: z.object({ id: z.string().min(1), name: z.string().optional() }).passthrough(),
    conversation: z.object({ id: z.string().min(1), tenantId: z.string().optional(), conversationType: z.string().optional(), name: z.string().optional() }).passthrough(),
    entities: z.array(z.object({ type: z.string() }).passthrough()).optional(),
  })
  .passthrough()
  .superRefine((a, ctx) => {
    const mentions = (a.entities ?? []).filter((e) => e.type.toLowerCase() === 'mention');
    mentions.forEach((m) => {
      if (!isObject(m.mentioned) || typeof m.mentioned.id !== 'string') ctx.addIssue({ code: 'custom', path: ['entities'], message: 'a mention must say who is mentioned' });
      if (m.text !== undefined && typeof m.text !== 'string') ctx.addIssue({ code: 'custom', path: ['entities'], message: 'a mention’s text must be text' });
    });
    if (mentions.length && a.text === undefined) ctx.addIssue({ code: 'custom', path: ['text'], message: 'a message with a mention must have text' });
    if (a.type === 'invoke' && a.name === 'adaptiveCard/action' && !(isObject(a.value) && isObject(a.value.action))) {
      ctx.addIssue({ code: 'custom', path: ['value', 'action'], message: 'a card action must carry the action' });
    }
  });

export function envelopeProblem(body: unknown): string | undefined {
  const r = activityEnvelope.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    return `${i.path.join('.') || 'activity'} ${i.message}`;
  }
  // And the SDK's own schema for an activity (Activity.fromObject throws on what it refuses).
  const sdk = SDK_ACTIVITY.safeParse(body);
  if (sdk.success) return undefined;
  const i = sdk.error.issues[0]!;
  return `${i.path.join('.') || 'activity'} ${i.message.toLowerCase()}`;
}

/** The keys under which a Teams delivery counts as already seen. */
export function deliveryKeys(body: unknown): Array<{ key: string; ttlMs: number }> {
  const a = (body ?? {}) as { id?: unknown; type?: unknown; replyToId?: unknown; conversation?: { id?: unknown }; from?: { id?: unknown }; value?: unknown };
  const conv = typeof a.conversation?.id === 'string' ? a.conversation.id : '';
  const keys: Array<{ key: string; ttlMs: number }> = [];
  // Digests: ids are outside text of any length and content, and the key is stored.
  const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 40);
  if (typeof a.id === 'string' && a.id) keys.push({ key: `teams:activity:${hash(`${conv}|${a.id}`)}`, ttlMs: ACTIVITY_TTL_MS });
  const value = a.value as { action?: { verb?: unknown; data?: unknown }; verb?: unknown } | undefined;
  const verb = value?.action?.verb ?? value?.verb;
  if (typeof verb === 'string' && CHANGING_VERBS.has(verb) && typeof a.from?.id === 'string') {
    const data = value?.action ? value.action.data : value;
    keys.push({ key: `teams:action:${hash(`${conv}|${String(a.replyToId ?? '')}|${a.from.id}|${verb}|${canonicalJson(data ?? null)}`)}`, ttlMs: ACTION_TTL_MS });
  }
  return keys;
}

/** Who sent a request, as the Agents SDK's token check found it (the token's claims; none for a loopback caller without an app id). */
type Identity = NonNullable<AgentsRequest['user']>;

/** The answer the SDK writes for a request, kept so that we send it (and remember it for a redelivery). */
class CapturedResponse implements WebResponse {
  statusCode = 200;
  body: unknown;
  headersSent = false;
  writableEnded = false;
  readonly headers: Record<string, string> = {};
  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  setHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }
  send(body?: unknown): this {
    this.body = body;
    return this;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
}

/**
 * HTTP to the Bot Connector with the bot's token asked for when a request is made, not before:
 * a turn that answers only in its HTTP response (a card action) needs no token, and the token
 * provider's own cache keeps it fresh.
 */
class TokenOnRequestHttpClient extends HttpClient {
  constructor(
    options: { baseURL: string; headers: Record<string, string> },
    private readonly token: () => Promise<string>,
  ) {
    super(options);
  }
  override async request<T = unknown>(config: HttpRequestConfig): Promise<HttpResponse<T>> {
    const token = await this.token();
    return super.request<T>({ ...config, headers: { ...config.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  }
}

class TeamsConnectorClient extends ConnectorClient {
  constructor(http: HttpClient) {
    super(http);
  }
}

/**
 * The Agents SDK's CloudAdapter. Its own token check (`authorizeRequest`) runs before anything is
 * recorded; then its `process` runs the turn. One change: the connector client it makes for a turn
 * (and for a proactive message) asks for the bot's outbound token on its first call rather than
 * before the turn starts.
 */
export class TeamsAdapter extends CloudAdapter {
  protected override async createConnectorClientWithIdentity(identity: Identity, activity: Activity, headers?: HeaderPropagationCollection): Promise<ConnectorClient> {
    // Anonymous (loopback without an app id) and agentic requests: the SDK's own handling.
    if (!identity?.aud || activity.isAgenticRequest()) return super.createConnectorClientWithIdentity(identity, activity, headers);
    const plain = await super.createConnectorClientWithIdentity({}, activity, headers);
    const provider = this.connectionManager.getTokenProviderFromActivity(identity, activity);
    // As the SDK does: the Bot Connector's scope for what the Bot Connector sent, else the calling app's.
    const scope = String(identity.azp ?? identity.appid ?? 'https://api.botframework.com');
    return new TeamsConnectorClient(new TokenOnRequestHttpClient({ baseURL: plain.httpClient.baseURL, headers: plain.httpClient.defaultHeaders }, () => provider.getAccessToken(scope)));
  }

  /**
   * The SDK's token check for a request: its claims, or why it was refused (the SDK's words for
   * the log, and whether the signing keys could not be fetched at all).
   */
  async authenticate(req: Request): Promise<{ ok: true; identity: Identity } | { ok: false; reason: string; unavailable: boolean }> {
    const asked: AgentsRequest = { body: req.body as Record<string, unknown>, headers: req.headers, method: req.method };
    const res = new CapturedResponse();
    let passed = false;
    await this.authorizeRequest(asked, res, () => void (passed = true));
    if (passed && asked.user) return { ok: true, identity: asked.user };
    const said = isObject(res.body) ? res.body['jwt-auth-error'] : undefined;
    const reason = typeof said === 'string' ? said : 'refused by the token check';
    return { ok: false, reason, unavailable: keysUnavailable(reason) };
  }

  /** Run a turn with the SDK's request handling; the answer is returned, not sent. */
  async turn(identity: Identity | undefined, req: Request, logic: (ctx: TurnContext) => Promise<void>): Promise<{ status: number; body: unknown }> {
    const res = new CapturedResponse();
    await this.process({ body: req.body as Record<string, unknown>, headers: req.headers, method: req.method, user: identity }, res, logic);
    return { status: res.statusCode, body: res.body };
  }
}

/**
 * The signing keys could not be fetched (rather than a token that does not check out): the SDK
 * says so only in its message — jsonwebtoken's "error in secret or public key callback" with
 * jwks-rsa's reason, which for a token signed with a key the JWKS does not have is "Unable to find
 * a signing key".
 */
function keysUnavailable(reason: string): boolean {
  return /error in secret or public key callback/i.test(reason) && !/unable to find a signing key/i.test(reason);
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** What talks to Teams: the adapter (token checks included) and the proactive notifier (the workflow's port). */
export interface TeamsTransport {
  config: Config['teams'];
  adapter: TeamsAdapter;
  notifier: TeamsNotifier;
}

export interface TeamsChannel {
  mount(app: Express): void;
}

/**
 * The SDK's connection settings from our configuration only: every setting the SDK would
 * otherwise take from the environment (clientId, tenantId, Connections__…) is given here, so a
 * stray variable cannot change whom the bot trusts.
 */
function agentsAuthConfig(config: Config['teams'], authorityEndpoint?: string): AuthConfiguration {
  const settings: AuthConfiguration = {
    clientId: config.appId,
    clientSecret: config.appType === 'UserAssignedMSI' ? undefined : config.appPassword,
    authType: config.appType === 'UserAssignedMSI' ? AuthType.UserManagedIdentity : config.appId ? AuthType.ClientSecret : undefined,
    // A multi-tenant bot's tokens come from the botframework.com tenant (the SDK's default).
    tenantId: config.appType === 'MultiTenant' ? undefined : config.appTenantId,
    authorityEndpoint,
    // Tokens from issuers other than the Bot Framework's, the bot's tenant and Microsoft's own are refused.
    validateIssuer: true,
  };
  return { ...settings, connections: new Map([['serviceConnection', settings]]), connectionsMap: [{ serviceUrl: '*', connection: 'serviceConnection' }] };
}

/**
 * The Teams side that needs no workflow: token checks, the adapter and the notifier. Built first,
 * so the workflow gets its notifier at construction and the channel gets the workflow at its own.
 * `authorityEndpoint` replaces https://login.microsoftonline.com (tests: a local token issuer).
 */
export function createTeamsTransport(config: Config['teams'], deps: { targets: TargetRegistry; log?: Log; authorityEndpoint?: string }): TeamsTransport {
  // validateServiceUrl: the SDK's own check of the serviceurl claim (we check it exactly first).
  const adapter = new TeamsAdapter(agentsAuthConfig(config, deps.authorityEndpoint), undefined, undefined, { validateServiceUrl: true });
  adapter.onTurnError = async (ctx, error) => {
    deps.log?.('error', 'unhandled error in a Teams turn', { error: error.stack ?? String(error) });
    await ctx
      .sendActivity('Something went wrong on my side. Nothing was changed in Azure. Please try again.')
      .catch((e: unknown) => deps.log?.('error', 'could not tell the user a Teams turn failed', { error: (e as Error).message ?? String(e) }));
  };
  return { config, adapter, notifier: new TeamsNotifier(adapter, config.appId ?? '', deps.targets) };
}

export type TeamsChannelDeps = ChannelDeps;

/** The endpoint and the bot, over a transport, with every collaborator given at construction. */
export function createTeamsChannel(transport: TeamsTransport, deps: TeamsChannelDeps): TeamsChannel {
  const { config, adapter, notifier } = transport;
  const deliveryNotRecorded = (e: unknown) => deps.log?.('warn', 'could not record a Teams delivery as handled', { error: (e as Error).message });
  const bot = new TeamsBot({ workflow: deps.workflow, watchdog: deps.watchdog, router: deps.router, registry: deps.registry, store: deps.store, queue: deps.queue, catalog: deps.catalog, notifier, log: deps.log });

  /**
   * A delivery refused because the database is down. A card action gets the message as its answer,
   * a message gets it as a reply (neither needs the database); anything else a 503, so it is sent again.
   */
  const refuseUnrecorded = async (identity: Identity | undefined, req: Request, res: Response) => {
    const a = req.body as { type?: unknown; name?: unknown };
    if (a.type === 'invoke') {
      res
        .status(200)
        .json(
          a.name === 'adaptiveCard/action'
            ? { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: DATABASE_UNAVAILABLE }
            : { statusCode: 503, type: 'application/vnd.microsoft.error', value: { code: 'ServiceUnavailable', message: DATABASE_UNAVAILABLE } },
        );
      return;
    }
    if (a.type === 'message') {
      try {
        await routeConsole(deps.log, () => adapter.turn(identity, req, async (ctx) => void (await ctx.sendActivity(DATABASE_UNAVAILABLE))));
        res.status(200).end();
        return;
      } catch (e) {
        deps.log?.('error', 'could not tell a Teams user the database is unavailable', { error: (e as Error).message });
      }
    }
    res.setHeader('retry-after', '5');
    res.status(503).json({ error: 'unavailable' });
  };

  return {
    mount(app) {
      app.post('/api/messages', express.json({ limit: MAX_ACTIVITY_BYTES }), countAnswering(deps.inbound), async (req: Request, res: Response) => {
        // Who is calling comes first, and an unauthenticated caller learns nothing from the answer:
        // the reason goes to our log, the caller gets {"error":"unauthorized"}.
        if (!config.appId && !isLoopback(req.socket.remoteAddress)) {
          deps.log?.('warn', 'refused an unauthenticated Teams request', { reason: 'not from a loopback address, and no MicrosoftAppId is configured to check tokens' });
          res.status(401).json({ error: 'unauthorized' });
          return;
        }
        // The token (with an app id; anonymous on loopback without one) is checked before anything
        // is recorded: an unsigned copy of a click must never claim its delivery.
        let identity: Identity | undefined;
        if (config.appId) {
          const checked = await routeConsole(deps.log, () => adapter.authenticate(req));
          const body = (isObject(req.body) ? req.body : {}) as { serviceUrl?: unknown };
          const refusal = !checked.ok ? checked : checked.identity.serviceurl !== body.serviceUrl ? { reason: 'the token’s serviceurl claim is not the activity’s serviceUrl', unavailable: false } : undefined;
          if (refusal) {
            deps.log?.(refusal.unavailable ? 'error' : 'warn', refusal.unavailable ? 'could not check a Teams request’s token' : 'refused an unauthenticated Teams request', { reason: refusal.reason });
            // Keys that could not be fetched: 503, so the Bot Connector retries. Anything else about a token is a 401.
            if (refusal.unavailable) res.setHeader('retry-after', '5');
            res.status(refusal.unavailable ? 503 : 401).json({ error: refusal.unavailable ? 'unavailable' : 'unauthorized' });
            return;
          }
          if (checked.ok) identity = checked.identity;
        }
        const problem = envelopeProblem(req.body);
        if (problem) {
          res.status(400).json({ error: `Not a Bot Framework activity: ${problem.slice(0, 200)}.` });
          return;
        }
        // Teams redelivers slow turns, sometimes under a new activity id: the same activity, or the
        // same person pressing the same card button with the same data, is handled once (on any
        // replica) and a repeat gets the first answer again rather than a second decision.
        const keys = deliveryKeys(req.body);
        const claimed: string[] = [];
        for (const { key, ttlMs } of keys) {
          let claim: Awaited<ReturnType<typeof deps.store.claimDelivery>>;
          try {
            claim = await deps.store.claimDelivery(key, ttlMs, ABANDONED_TURN_MS);
          } catch (e) {
            // The database is unreachable: nothing about this delivery can be recorded, so nothing is
            // taken on — the person is told to try again (rather than the request being lost).
            deps.log?.('warn', 'refused a Teams delivery: the database is unavailable', { error: (e as Error).message });
            for (const k of claimed) await deps.store.forgetDelivery(k).catch(deliveryNotRecorded);
            await refuseUnrecorded(identity, req, res);
            return;
          }
          if (claim.kind === 'duplicate') {
            const first = claim.status !== undefined ? { status: claim.status, response: claim.response ?? '' } : await deps.store.deliveryAnswer(key, 10_000);
            const answer = first ?? { status: 200, response: JSON.stringify({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'That action is already being handled.' }) };
            for (const k of claimed) await deps.store.settleDelivery(k, answer.status, answer.response).catch(deliveryNotRecorded);
            res.status(answer.status).type('application/json').send(answer.response);
            return;
          }
          claimed.push(key);
        }
        let status = 500;
        let captured = '';
        try {
          const answer = await routeConsole(deps.log, () => adapter.turn(identity, req, (ctx) => bot.run(ctx)));
          status = answer.status;
          captured = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
          if (captured) res.status(status).type('application/json').send(captured);
          else res.status(status).end();
        } catch (e) {
          // The turn's own errors are caught by onTurnError; this is the SDK failing around it.
          deps.log?.('error', 'a Teams turn failed', { error: (e as Error).stack ?? String(e) });
          if (!res.headersSent) res.status(500).json({ error: 'internal error' });
        } finally {
          // A failed delivery is not remembered: a correct retry must get through.
          // Bookkeeping after the answer is sent: a failure here must not fail the turn, but is logged
          // (a redelivery may then be handled again, or wait for the record to expire). The keys
          // together: their answers are recorded in one batch.
          await Promise.all(keys.map(({ key }) => (status >= 400 ? deps.store.forgetDelivery(key) : deps.store.settleDelivery(key, status, captured)).catch(deliveryNotRecorded)));
        }
      });
    },
  };
}
