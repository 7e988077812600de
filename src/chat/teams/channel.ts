// The Teams endpoint: botbuilder's CloudAdapter at POST /api/messages. With a Microsoft app id
// configured every request must carry a valid Bot Framework JWT (botbuilder's own check: issuer,
// audience, lifetime, signing keys, service URL), checked before anything is recorded; the turn
// then runs on that authentication. Without one — local use with the Agents Playground — requests
// are unauthenticated, so we accept them only from a loopback address. A refused caller gets
// {"error":"unauthorized"}; the reason is in our log.
import { type Activity, CloudAdapter, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions, type InvokeResponse, type TurnContext } from 'botbuilder';
import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { createHash } from 'node:crypto';
import type { Config } from '../../config';
import { type Log, routeConsole } from '../../log';
import { canonicalJson } from '../../domain/canonical';
import type { TargetRegistry } from '../../targets';
import type { ChannelDeps } from '../channel-deps';
import { TeamsNotifier } from './notifier';
import { TeamsBot } from './teams-bot';

const ACTIVITY_TTL_MS = 15 * 60_000;
/** A second press of the same button with the same data within this long is a redelivery. */
const ACTION_TTL_MS = 2 * 60_000;
/** Card verbs that change something; a repeat of one must never count twice. */
const CHANGING_VERBS = new Set(['form.submit', 'request.approve', 'request.reject', 'request.cancel', 'finding.ack', 'finding.snooze']);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The envelope of an activity as botbuilder relies on it. Outside input: what does not fit is
 * refused with 400 before any handler runs, rather than failing somewhere inside botbuilder.
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
  if (r.success) return undefined;
  const i = r.error.issues[0]!;
  return `${i.path.join('.') || 'activity'} ${i.message}`;
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

type Authenticated = Awaited<ReturnType<ConfigurationBotFrameworkAuthentication['authenticateRequest']>>;

/** CloudAdapter running a turn for a request we have already authenticated (its `process` would check the token again and print its errors). */
export class TeamsAdapter extends CloudAdapter {
  turn(authenticated: Authenticated, activity: Activity, logic: (ctx: TurnContext) => Promise<void>): Promise<InvokeResponse | undefined> {
    return this.processActivity(authenticated, activity, logic);
  }
}

/** What botbuilder's own request handling does to an activity's times before a turn. */
function withDates(activity: Activity): Activity {
  const a = activity as Activity & Record<string, unknown>;
  for (const [field, raw] of [
    ['timestamp', 'rawTimestamp'],
    ['expiration', 'rawExpiration'],
    ['localTimestamp', 'rawLocalTimestamp'],
  ] as const) {
    if (typeof a[field] === 'string') {
      a[raw] = a[field];
      a[field] = new Date(a[field] as string);
    }
  }
  return a;
}

/**
 * A token that could not be checked (the signing keys could not be fetched) rather than a bad
 * one: 503, so the Bot Connector retries. Everything else about a token is a 401.
 */
function authUnavailable(e: unknown): boolean {
  const status = (e as { statusCode?: unknown }).statusCode;
  return (typeof status === 'number' && status >= 500) || (e as Error)?.name === 'FetchError';
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** What talks to Teams: the authentication, the adapter and the proactive notifier (the workflow's port). */
export interface TeamsTransport {
  config: Config['teams'];
  auth: ConfigurationBotFrameworkAuthentication;
  adapter: TeamsAdapter;
  notifier: TeamsNotifier;
}

export interface TeamsChannel {
  mount(app: Express): void;
}

/** The public cloud's Bot Framework endpoints (botbuilder's defaults), for when one of them is replaced. */
const PUBLIC_CLOUD = {
  ValidateAuthority: true,
  ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
  ToChannelFromBotOAuthScope: 'https://api.botframework.com',
  ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
  OAuthUrl: 'https://api.botframework.com',
  ToBotFromChannelOpenIdMetadataUrl: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
  ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
  CallerId: 'urn:botframework:azure',
};

/**
 * The Teams side that needs no workflow: token checks, the adapter and the notifier. Built first,
 * so the workflow gets its notifier at construction and the channel gets the workflow at its own.
 */
export function createTeamsTransport(config: Config['teams'], deps: { targets: TargetRegistry; log?: Log; openIdMetadataUrl?: string }): TeamsTransport {
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: config.appId ?? '',
    MicrosoftAppPassword: config.appPassword ?? '',
    // Without an app id nothing is authenticated (loopback only): botbuilder wants no tenant then.
    MicrosoftAppType: config.appId ? config.appType : 'MultiTenant',
    MicrosoftAppTenantId: config.appTenantId ?? '',
    ...(deps.openIdMetadataUrl ? { ...PUBLIC_CLOUD, ToBotFromChannelOpenIdMetadataUrl: deps.openIdMetadataUrl } : {}),
  } as ConfigurationBotFrameworkAuthenticationOptions);
  const adapter = new TeamsAdapter(auth);
  adapter.onTurnError = async (ctx, error) => {
    deps.log?.('error', 'unhandled error in a Teams turn', { error: error.stack ?? String(error) });
    await ctx.sendActivity('Something went wrong on my side. Nothing was changed in Azure. Please try again.').catch(() => undefined);
  };
  return { config, auth, adapter, notifier: new TeamsNotifier(adapter, config.appId ?? '', deps.targets) };
}

export type TeamsChannelDeps = ChannelDeps;

/** The endpoint and the bot, over a transport, with every collaborator given at construction. */
export function createTeamsChannel(transport: TeamsTransport, deps: TeamsChannelDeps): TeamsChannel {
  const { config, auth, adapter, notifier } = transport;
  const deliveryNotRecorded = (e: unknown) => deps.log?.('warn', 'could not record a Teams delivery as handled', { error: (e as Error).message });
  const bot = new TeamsBot({ workflow: deps.workflow, watchdog: deps.watchdog, router: deps.router, registry: deps.registry, store: deps.store, queue: deps.queue, catalog: deps.catalog, notifier, log: deps.log });

  return {
    mount(app) {
      app.post('/api/messages', express.json({ limit: '256kb' }), async (req: Request, res: Response) => {
        // Who is calling comes first, and an unauthenticated caller learns nothing from the answer:
        // the reason goes to our log, the caller gets {"error":"unauthorized"}.
        if (!config.appId && !isLoopback(req.socket.remoteAddress)) {
          deps.log?.('warn', 'refused an unauthenticated Teams request', { reason: 'not from a loopback address, and no MicrosoftAppId is configured to check tokens' });
          res.status(401).json({ error: 'unauthorized' });
          return;
        }
        // The Bot Framework JWT (with an app id; anonymous on loopback without one) is checked
        // before anything is recorded: an unsigned copy of a click must never claim its delivery.
        const activity = (isObject(req.body) ? req.body : {}) as Partial<Activity>;
        let authenticated: Authenticated;
        try {
          authenticated = await routeConsole(deps.log, () => auth.authenticateRequest(activity as Activity, req.get('authorization') ?? ''));
        } catch (e) {
          const unavailable = authUnavailable(e);
          deps.log?.(unavailable ? 'error' : 'warn', unavailable ? 'could not check a Teams request’s token' : 'refused an unauthenticated Teams request', { reason: (e as Error).message ?? String(e) });
          if (unavailable) res.setHeader('retry-after', '5');
          res.status(unavailable ? 503 : 401).json({ error: unavailable ? 'unavailable' : 'unauthorized' });
          return;
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
          const claim = await deps.store.claimDelivery(key, ttlMs);
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
          const invoke = await routeConsole(deps.log, () => adapter.turn(authenticated, withDates(activity as Activity), (ctx) => bot.run(ctx)));
          status = invoke?.status ?? 200;
          captured = invoke?.body === undefined ? '' : JSON.stringify(invoke.body);
          if (captured) res.status(status).type('application/json').send(captured);
          else res.status(status).end();
        } catch (e) {
          // The turn's own errors are caught by onTurnError; this is botbuilder failing around it.
          deps.log?.('error', 'a Teams turn failed', { error: (e as Error).stack ?? String(e) });
          if (!res.headersSent) res.status(500).json({ error: 'internal error' });
        } finally {
          for (const { key } of keys) {
            // A failed delivery is not remembered: a correct retry must get through.
            // Bookkeeping after the answer is sent: a failure here must not fail the turn, but is logged
            // (a redelivery may then be handled again, or wait for the record to expire).
            if (status >= 400) await deps.store.forgetDelivery(key).catch(deliveryNotRecorded);
            else await deps.store.settleDelivery(key, status, captured).catch(deliveryNotRecorded);
          }
        }
      });
    },
  };
}
