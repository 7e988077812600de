// A local stand-in for a Microsoft Entra tenant's token signing, as Event Grid's "Microsoft Entra
// authentication" for webhooks uses it: the tenant's v2.0 OpenID metadata and JWKS on loopback, and
// access tokens signed with its RSA key (issuer https://login.microsoftonline.com/{tenant}/v2.0,
// audience = the app Event Grid asks a token for). The endpoint verifies them with its own code;
// only the metadata URL is ours.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, type KeyLike, SignJWT } from 'jose';

export interface EntraTokenIssuer {
  tenantId: string;
  metadataUrl: string;
  /** A token Entra would issue to Event Grid for `audience`; `claims` override or add claims. */
  token(audience: string, claims?: Record<string, unknown>): Promise<string>;
  /** The same claims signed with a key the metadata does not vouch for (same kid): a forgery. */
  forged(audience: string): Promise<string>;
  keyFetches(): number;
  close(): Promise<void>;
}

export async function startEntraTokenIssuer(tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47'): Promise<EntraTokenIssuer> {
  const real = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const kid = `entra-test-${Math.random().toString(36).slice(2, 8)}`;
  const jwk = { ...(await exportJWK(real.publicKey)), kid, use: 'sig', alg: 'RS256' };
  const issuer = `https://login.microsoftonline.com/${tenantId}/v2.0`;
  let fetches = 0;
  let base = '';
  const server: Server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
      res.end(JSON.stringify({ issuer, jwks_uri: `${base}/${tenantId}/discovery/v2.0/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
      return;
    }
    if (req.url === `/${tenantId}/discovery/v2.0/keys`) {
      fetches++;
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const sign = (key: KeyLike, audience: string, claims: Record<string, unknown> = {}) =>
    new SignJWT({
      tid: tenantId,
      // Event Grid's first-party app, as Entra names it in tokens it issues to Event Grid.
      azp: '4962773b-9cdb-44cf-a8bf-237846a00ab7',
      roles: ['AzureEventGridSecureWebhookSubscriber'],
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .setIssuer(typeof claims.iss === 'string' ? claims.iss : issuer)
      .setAudience(typeof claims.aud === 'string' ? claims.aud : audience)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 60)
      .setNotBefore(Math.floor(Date.now() / 1000) - 60)
      .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : Math.floor(Date.now() / 1000) + 3600)
      .sign(key);
  return {
    tenantId,
    metadataUrl: `${base}/${tenantId}/v2.0/.well-known/openid-configuration`,
    token: (audience, claims) => sign(real.privateKey, audience, claims),
    forged: (audience) => sign(other.privateKey, audience),
    keyFetches: () => fetches,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
