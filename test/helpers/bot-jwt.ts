// A local stand-in for the token signing the bot trusts: an Entra authority on loopback that
// publishes its signing keys (JWKS) where the Microsoft 365 Agents SDK looks for them
// (`{authority}/{tenant}/discovery/v2.0/keys`), and tokens signed with its RSA key as a channel
// sends them to a bot (issuer `{authority}/{tenant}/v2.0`, audience = the bot's app id,
// serviceurl claim, kid). The SDK validates them with its own code; only the authority URL is
// ours. `keysDelayMs` makes the key download slow, as it is on a cold start.
// Tokens issued by https://api.botframework.com — what the Bot Connector sends with a Teams
// channel's activities — are checked by the same code against keys at login.botframework.com, a
// URL the SDK does not let us replace: `botFrameworkKeys` serves them there through nock.
import { createServer, type Server } from 'node:http';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import nock from 'nock';

export interface BotTokenIssuer {
  /** In place of https://login.microsoftonline.com (AppOptions.teamsAuthorityEndpoint). */
  authorityEndpoint: string;
  /** The `iss` of the tokens it signs. */
  issuer: string;
  /** A token the channel would send for an activity to `appId` at `serviceUrl`. */
  token(appId: string, serviceUrl: string, overrides?: Record<string, unknown>): string;
  /** The same claims signed with a key the authority does not publish (same kid): a forgery. */
  forged(appId: string, serviceUrl: string): string;
  /** How often the keys were downloaded. */
  keyFetches(): number;
  close(): Promise<void>;
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

function sign(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(claims));
  const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key);
  return `${head}.${body}.${b64url(signature)}`;
}

/**
 * A signing key as an issuer publishes it (its JWK, with `extra` fields), and tokens for an
 * activity to `appId` at `serviceUrl` with the issuer's `iss`: signed with it, or forged (another
 * key, the same kid).
 */
function signingKey(kidPrefix: string, extra: Record<string, unknown> = {}) {
  const real = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `${kidPrefix}-${Math.random().toString(36).slice(2, 8)}`;
  const { n, e } = real.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const claims = (iss: string, appId: string, serviceUrl: string, overrides: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss, aud: appId, serviceurl: serviceUrl, nbf: now - 60, iat: now - 60, exp: now + 3600, ...overrides };
  };
  return {
    jwks: { keys: [{ kty: 'RSA', use: 'sig', kid, n, e, ...extra }] },
    token: (iss: string, appId: string, serviceUrl: string, overrides?: Record<string, unknown>) => sign(real.privateKey, kid, claims(iss, appId, serviceUrl, overrides)),
    forged: (iss: string, appId: string, serviceUrl: string) => sign(other.privateKey, kid, claims(iss, appId, serviceUrl)),
  };
}

/** `tenant`: the bot's tenant — botframework.com for a multi-tenant bot (the SDK's default). */
export async function startBotTokenIssuer(opts: { keysDelayMs?: number; tenant?: string } = {}): Promise<BotTokenIssuer> {
  const tenant = opts.tenant ?? 'botframework.com';
  const key = signingKey('test-key', { alg: 'RS256' });
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === `/${tenant}/discovery/v2.0/keys`) {
      fetches++;
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(key.jwks));
      }, opts.keysDelayMs ?? 0);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as { port: number };
  const base = `http://127.0.0.1:${addr.port}`;
  const issuer = `${base}/${tenant}/v2.0`;
  return {
    authorityEndpoint: base,
    issuer,
    token: (appId, serviceUrl, overrides) => key.token(issuer, appId, serviceUrl, overrides),
    forged: (appId, serviceUrl) => key.forged(issuer, appId, serviceUrl),
    keyFetches: () => fetches,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// nock starts intercepting when it is loaded: only `botFrameworkKeys` turns it on, and only until its restore().
nock.restore();

/** Where the Agents SDK fetches the keys of tokens whose issuer is https://api.botframework.com (jwt-middleware buildJwksUri). */
const BOT_FRAMEWORK_KEYS = { origin: 'https://login.botframework.com', path: '/v1/.well-known/keys' };

export interface BotFrameworkKeys {
  /** A token as the Bot Framework issues it for an activity to `appId` at `serviceUrl`. */
  token(appId: string, serviceUrl: string): string;
  /** The same claims signed with a key the Bot Framework does not publish (same kid). */
  forged(appId: string, serviceUrl: string): string;
  keyFetches(): number;
  /** Stops intercepting: every request goes out as before. */
  restore(): void;
}

/**
 * The Bot Framework's signing keys, served at login.botframework.com to this process (nock; every
 * other request passes through untouched), and tokens signed with them as the Bot Connector sends
 * them: issuer https://api.botframework.com, audience the bot's app id, the serviceurl claim, and
 * the channel endorsement the published key carries.
 */
export function botFrameworkKeys(): BotFrameworkKeys {
  const key = signingKey('bf-key', { endorsements: ['msteams', 'webchat'] });
  const iss = 'https://api.botframework.com';
  let fetches = 0;
  if (!nock.isActive()) nock.activate();
  nock(BOT_FRAMEWORK_KEYS.origin)
    .persist()
    .get(BOT_FRAMEWORK_KEYS.path)
    .reply(200, () => {
      fetches++;
      return key.jwks;
    });
  return {
    token: (appId, serviceUrl) => key.token(iss, appId, serviceUrl),
    forged: (appId, serviceUrl) => key.forged(iss, appId, serviceUrl),
    keyFetches: () => fetches,
    restore: () => {
      nock.cleanAll();
      nock.restore();
    },
  };
}
