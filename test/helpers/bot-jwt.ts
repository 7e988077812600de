// A local stand-in for the Bot Framework's token signing: an OpenID configuration and its JWKS on
// loopback, and tokens signed with its RSA key exactly as the Bot Connector signs what it sends a
// bot (issuer https://api.botframework.com, audience = the bot's app id, serviceurl claim, kid,
// keys endorsed for "msteams"). botbuilder validates them with its own code; only the URL of the
// metadata is ours. `keysDelayMs` makes the key download slow, as it is on a cold start.
import { createServer, type Server } from 'node:http';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';

export const CHANNEL_ISSUER = 'https://api.botframework.com';

export interface BotTokenIssuer {
  metadataUrl: string;
  /** A token the Bot Connector would send for an activity to `appId` at `serviceUrl`. */
  token(appId: string, serviceUrl: string, overrides?: Record<string, unknown>): string;
  /** The same claims signed with a key the metadata does not vouch for (same kid): a forgery. */
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

export async function startBotTokenIssuer(opts: { keysDelayMs?: number } = {}): Promise<BotTokenIssuer> {
  const real = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `test-key-${Math.random().toString(36).slice(2, 8)}`;
  const jwk = real.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  let fetches = 0;
  let base = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/v1/.well-known/openidconfiguration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer: CHANNEL_ISSUER, jwks_uri: `${base}/v1/.well-known/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
      return;
    }
    if (req.url === '/v1/.well-known/keys') {
      fetches++;
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [{ kty: 'RSA', use: 'sig', kid, n: jwk.n, e: jwk.e, endorsements: ['msteams'] }] }));
      }, opts.keysDelayMs ?? 0);
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}`;
  const claims = (appId: string, serviceUrl: string, overrides: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: CHANNEL_ISSUER, aud: appId, serviceurl: serviceUrl, nbf: now - 60, iat: now - 60, exp: now + 3600, ...overrides };
  };
  return {
    metadataUrl: `${base}/v1/.well-known/openidconfiguration`,
    token: (appId, serviceUrl, overrides) => sign(real.privateKey, kid, claims(appId, serviceUrl, overrides)),
    forged: (appId, serviceUrl) => sign(other.privateKey, kid, claims(appId, serviceUrl)),
    keyFetches: () => fetches,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
