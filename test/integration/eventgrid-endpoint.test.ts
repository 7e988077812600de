// POST /events/eventgrid over real HTTP: an express app with just the Event Grid router, a local
// Entra token issuer, and deliveries shaped as Event Grid sends them (Key Vault's data in the
// PascalCase it really uses).
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { KeyVaultEvent } from '../../src/azure/event-grid';
import { createEventGridEndpoint, type EventGridEndpointOptions } from '../../src/events/eventgrid-endpoint';
import type { Log } from '../../src/log';
import { type EntraTokenIssuer, startEntraTokenIssuer } from '../helpers/entra-jwt';

const SECRET = 'eg-webhook-secret-0123456789';
const AUDIENCE = 'api://cmk-chatops-events';
const VAULT_ID = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-prod';

interface Endpoint {
  url: string;
  received: KeyVaultEvent[][];
  logs: Array<{ level: string; msg: string; data?: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function startEndpoint(overrides: Partial<EventGridEndpointOptions> = {}): Promise<Endpoint> {
  const received: KeyVaultEvent[][] = [];
  const logs: Endpoint['logs'] = [];
  const log: Log = (level, msg, data) => logs.push({ level, msg, data });
  const app = express();
  app.use(
    createEventGridEndpoint({
      secret: SECRET,
      log,
      onEvents: async (events) => {
        received.push(events);
      },
      ...overrides,
    }),
  );
  const server = await new Promise<Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/events/eventgrid`,
    received,
    logs,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// A Key Vault event as Event Grid delivers it (Event Grid schema).
function keyVaultEvent(type: string, over: { id?: string; key?: string; version?: string; exp?: number | string | null } = {}) {
  const key = over.key ?? 'cmk-key';
  const version = over.version ?? 'ee059b2bb5bc48398a53b168c6cdcb10';
  return {
    id: over.id ?? `evt-${type}-${key}`,
    topic: VAULT_ID,
    subject: type === 'VaultAccessPolicyChanged' ? 'kv-prod' : key,
    eventType: `Microsoft.KeyVault.${type}`,
    eventTime: '2026-12-06T07:59:33.1036736Z',
    data:
      type === 'VaultAccessPolicyChanged'
        ? { Id: 'https://kv-prod.vault.azure.net', VaultName: 'kv-prod', ObjectType: 'Vault', ObjectName: 'kv-prod', Version: null, NBF: null, EXP: null }
        : { Id: `https://kv-prod.vault.azure.net/keys/${key}/${version}`, VaultName: 'kv-prod', ObjectType: 'Key', ObjectName: key, Version: version, NBF: '1764950000', EXP: over.exp === undefined ? '1767542400' : over.exp },
    dataVersion: '1',
    metadataVersion: '1',
  };
}

// The same event in the CloudEvents 1.0 schema (source = the vault, as Event Grid maps topic).
function asCloudEvent(e: ReturnType<typeof keyVaultEvent>) {
  return { specversion: '1.0', id: e.id, source: e.topic, subject: e.subject, type: e.eventType, time: e.eventTime, data: e.data };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

const withCode = (url: string, code = SECRET) => `${url}?code=${encodeURIComponent(code)}`;

describe('Event Grid endpoint: shared secret (?code=)', () => {
  let ep: Endpoint;
  beforeAll(async () => {
    ep = await startEndpoint();
  });
  afterAll(() => ep.close());
  beforeEach(() => {
    ep.received.length = 0;
  });

  it('answers the Event Grid schema subscription validation with its code, only when authenticated', async () => {
    const validation = [
      {
        id: '2d1781af-3a4c-4d7c-bd0c-e34b19da4e66',
        topic: VAULT_ID,
        subject: '',
        data: { validationCode: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6', validationUrl: 'https://rp-eastus2.eventgrid.azure.net/eventsubscriptions/x/validate?id=1&t=2&apiVersion=2025-02-15&token=abc' },
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: '2026-12-06T08:00:00.0000000Z',
        metadataVersion: '1',
        dataVersion: '2',
      },
    ];
    const ok = await post(withCode(ep.url), validation, { 'aeg-event-type': 'SubscriptionValidation' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' });

    const anonymous = await post(ep.url, validation, { 'aeg-event-type': 'SubscriptionValidation' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: 'unauthorized' });
    expect(ep.received).toEqual([]);
  });

  it('answers the CloudEvents OPTIONS handshake with the allowed origin and rate, only when authenticated', async () => {
    const ok = await fetch(withCode(ep.url), { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
    expect(ok.headers.get('webhook-allowed-rate')).toBe('*');

    const anonymous = await fetch(ep.url, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('webhook-allowed-origin')).toBeNull();

    const noOrigin = await fetch(withCode(ep.url), { method: 'OPTIONS' });
    expect(noOrigin.status).toBe(400);
  });

  it('passes a KeyNewVersionCreated delivery to onEvents as our KeyVaultEvent', async () => {
    const res = await post(withCode(ep.url), [keyVaultEvent('KeyNewVersionCreated', { id: 'evt-1', version: 'b7c0ffee' })], { 'aeg-event-type': 'Notification' });
    expect(res.status).toBe(200);
    expect(ep.received).toEqual([
      [
        {
          type: 'KeyNewVersionCreated',
          vaultName: 'kv-prod',
          objectName: 'cmk-key',
          version: 'b7c0ffee',
          subject: 'cmk-key',
          id: 'evt-1',
          time: '2026-12-06T07:59:33.103Z',
          objectId: 'https://kv-prod.vault.azure.net/keys/cmk-key/b7c0ffee',
          vaultResourceId: VAULT_ID,
          expiresOn: '2026-01-04T16:00:00.000Z',
        },
      ],
    ]);
  });

  it('reads Key Vault data in camelCase too (as Azure documents it), with EXP as a number', async () => {
    const e = keyVaultEvent('KeyNearExpiry', { id: 'evt-camel' });
    const camel = { ...e, data: { id: e.data.Id, vaultName: 'kv-prod', objectType: 'Key', objectName: 'cmk-key', version: 'v9', nbf: 1764950000, exp: 1767542400 } };
    expect((await post(withCode(ep.url), [camel])).status).toBe(200);
    expect(ep.received[0]).toEqual([expect.objectContaining({ type: 'KeyNearExpiry', vaultName: 'kv-prod', objectName: 'cmk-key', version: 'v9', expiresOn: '2026-01-04T16:00:00.000Z' })]);
  });

  it.each([
    ['no credentials', (url: string) => url],
    ['a wrong code', (url: string) => withCode(url, 'eg-webhook-secret-0123456788')],
    ['the code as a prefix', (url: string) => withCode(url, SECRET.slice(0, -1))],
    ['the code twice', (url: string) => `${withCode(url)}&code=${SECRET}`],
    ['a bearer token when no audience is configured', (url: string) => url],
  ])('refuses %s with 401 and calls nothing', async (_what, urlOf) => {
    const res = await post(urlOf(ep.url), [keyVaultEvent('KeyExpired')], { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized' });
    expect(ep.received).toEqual([]);
  });

  it('passes only the Key Vault key events of a mixed batch; the others are acknowledged and ignored', async () => {
    const blob = {
      id: 'evt-blob',
      topic: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1',
      subject: '/blobServices/default/containers/c/blobs/b',
      eventType: 'Microsoft.Storage.BlobCreated',
      eventTime: '2026-12-06T08:00:00Z',
      data: { api: 'PutBlob', url: 'https://st1.blob.core.windows.net/c/b' },
      dataVersion: '',
      metadataVersion: '1',
    };
    const secret = { ...keyVaultEvent('KeyNewVersionCreated', { id: 'evt-secret' }), eventType: 'Microsoft.KeyVault.SecretNewVersionCreated' };
    const batch = [keyVaultEvent('KeyNearExpiry', { id: 'evt-near' }), blob, secret, keyVaultEvent('VaultAccessPolicyChanged', { id: 'evt-policy' }), keyVaultEvent('KeyExpired', { id: 'evt-expired', key: 'other-key' })];
    const res = await post(withCode(ep.url), batch);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 3, ignored: 2 });
    expect(ep.received).toHaveLength(1);
    expect(ep.received[0]!.map((e) => [e.id, e.type, e.objectName])).toEqual([
      ['evt-near', 'KeyNearExpiry', 'cmk-key'],
      ['evt-policy', 'VaultAccessPolicyChanged', undefined],
      ['evt-expired', 'KeyExpired', 'other-key'],
    ]);
    expect(ep.received[0]![1]).toMatchObject({ vaultName: 'kv-prod', subject: 'kv-prod', vaultResourceId: VAULT_ID });

    // A delivery with nothing for us: 200, and onEvents is not called with an empty list.
    ep.received.length = 0;
    const none = await post(withCode(ep.url), [blob]);
    expect(none.status).toBe(200);
    expect(ep.received).toEqual([]);
  });

  it('reads CloudEvents 1.0: structured (one event, and a batch) and binary mode', async () => {
    const one = asCloudEvent(keyVaultEvent('KeyNewVersionCreated', { id: 'ce-1', version: 'v2' }));
    expect((await post(withCode(ep.url), one, { 'content-type': 'application/cloudevents+json; charset=utf-8' })).status).toBe(200);
    const batch = [asCloudEvent(keyVaultEvent('KeyNearExpiry', { id: 'ce-2' })), asCloudEvent(keyVaultEvent('KeyExpired', { id: 'ce-3' }))];
    expect((await post(withCode(ep.url), batch, { 'content-type': 'application/cloudevents-batch+json' })).status).toBe(200);
    const binary = keyVaultEvent('KeyNewVersionCreated', { id: 'ce-4', version: 'v3' });
    const res = await post(withCode(ep.url), binary.data, {
      'ce-specversion': '1.0',
      'ce-id': 'ce-4',
      'ce-type': 'Microsoft.KeyVault.KeyNewVersionCreated',
      'ce-source': VAULT_ID,
      'ce-subject': 'cmk-key',
      'ce-time': '2026-12-06T08:01:00Z',
    });
    expect(res.status).toBe(200);
    expect(ep.received.map((d) => d.map((e) => [e.id, e.type, e.version ?? null]))).toEqual([
      [['ce-1', 'KeyNewVersionCreated', 'v2']],
      [
        ['ce-2', 'KeyNearExpiry', 'ee059b2bb5bc48398a53b168c6cdcb10'],
        ['ce-3', 'KeyExpired', 'ee059b2bb5bc48398a53b168c6cdcb10'],
      ],
      [['ce-4', 'KeyNewVersionCreated', 'v3']],
    ]);
    expect(ep.received[2]![0]).toMatchObject({ vaultResourceId: VAULT_ID, subject: 'cmk-key', time: '2026-12-06T08:01:00.000Z', objectId: 'https://kv-prod.vault.azure.net/keys/cmk-key/v3' });
  });

  it.each([
    ['not JSON', 'vault=kv-prod', /not JSON/],
    ['JSON that is not events', { hello: 'world' }, /not Event Grid events/],
    ['a CloudEvent of another spec version', { ...asCloudEvent(keyVaultEvent('KeyExpired')), specversion: '0.3' }, /CloudEvents/],
    ['a Key Vault event without its vault', [{ ...keyVaultEvent('KeyExpired'), data: { ObjectName: 'k' } }], /vaultname/],
  ])('answers 400 to %s and calls nothing', async (_what, body, message) => {
    const res = await post(withCode(ep.url), body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
    expect(ep.received).toEqual([]);
  });

  it('refuses a body over the limit with 413', async () => {
    const small = await startEndpoint({ maxBodyBytes: 2048 });
    try {
      const res = await post(withCode(small.url), [keyVaultEvent('KeyExpired', { id: 'x'.repeat(4000) })]);
      expect(res.status).toBe(413);
      expect(small.received).toEqual([]);
    } finally {
      await small.close();
    }
  });
});

describe('Event Grid endpoint: onEvents failures', () => {
  it('answers 500 when onEvents fails (so Event Grid redelivers) and logs it', async () => {
    let calls = 0;
    const ep = await startEndpoint({
      onEvents: async () => {
        calls++;
        if (calls === 1) throw new Error('database unavailable');
      },
    });
    try {
      const delivery = [keyVaultEvent('KeyExpired', { id: 'evt-retry' })];
      const first = await post(withCode(ep.url), delivery);
      expect(first.status).toBe(500);
      expect(ep.logs.find((l) => l.level === 'error')).toMatchObject({ data: { error: 'database unavailable', eventIds: ['evt-retry'] } });
      // Event Grid's redelivery of the same events succeeds.
      expect((await post(withCode(ep.url), delivery)).status).toBe(200);
      expect(calls).toBe(2);
    } finally {
      await ep.close();
    }
  });

  it('answers 500 when onEvents does not finish in time', async () => {
    const ep = await startEndpoint({ handlerTimeoutMs: 100, onEvents: () => new Promise(() => undefined) });
    try {
      const started = Date.now();
      expect((await post(withCode(ep.url), [keyVaultEvent('KeyExpired')])).status).toBe(500);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await ep.close();
    }
  });
});

describe('Event Grid endpoint: Microsoft Entra bearer tokens', () => {
  let issuer: EntraTokenIssuer;
  let ep: Endpoint;
  beforeAll(async () => {
    issuer = await startEntraTokenIssuer();
    ep = await startEndpoint({ secret: undefined, audience: AUDIENCE, tenantId: issuer.tenantId, openIdMetadataUrl: issuer.metadataUrl });
  });
  afterAll(async () => {
    await ep.close();
    await issuer.close();
  });
  beforeEach(() => {
    ep.received.length = 0;
  });

  it('accepts a delivery with a token of the tenant for the configured audience', async () => {
    const res = await post(ep.url, [keyVaultEvent('KeyNewVersionCreated', { id: 'evt-entra' })], { authorization: `Bearer ${await issuer.token(AUDIENCE)}` });
    expect(res.status).toBe(200);
    expect(ep.received).toEqual([[expect.objectContaining({ id: 'evt-entra', type: 'KeyNewVersionCreated', vaultName: 'kv-prod', objectName: 'cmk-key' })]]);
  });

  it('answers both handshakes when the token is valid', async () => {
    const auth = { authorization: `Bearer ${await issuer.token(AUDIENCE)}` };
    const validation = [
      { id: 'v1', topic: VAULT_ID, subject: '', data: { validationCode: 'code-42' }, eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent', eventTime: '2026-12-06T08:00:00Z', metadataVersion: '1', dataVersion: '2' },
    ];
    const res = await post(ep.url, validation, auth);
    expect(await res.json()).toEqual({ validationResponse: 'code-42' });
    const options = await fetch(ep.url, { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net', ...auth } });
    expect(options.status).toBe(200);
  });

  it.each<[string, (i: EntraTokenIssuer) => Promise<string>]>([
    ['a forged token (signed with a key the tenant does not publish)', (i) => i.forged(AUDIENCE)],
    ['a token for another audience', (i) => i.token('api://someone-else')],
    ['a token from another tenant', (i) => i.token(AUDIENCE, { iss: 'https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0' })],
    ['an expired token', (i) => i.token(AUDIENCE, { exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['a token that is not a JWT', async () => 'not-a-jwt'],
    // Any app of the tenant can get a token for the audience; only Event Grid holds the role.
    ['a token of another app of the tenant (no Event Grid role)', (i) => i.token(AUDIENCE, { roles: [], azp: '0b1c0ffe-0000-0000-0000-000000000000' })],
  ])('refuses %s with 401 and calls nothing', async (_what, tokenOf) => {
    const res = await post(ep.url, [keyVaultEvent('KeyExpired')], { authorization: `Bearer ${await tokenOf(issuer)}` });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized' });
    expect(ep.received).toEqual([]);
  });

  it('refuses a ?code= when only Entra authentication is configured', async () => {
    const res = await post(withCode(ep.url), [keyVaultEvent('KeyExpired')]);
    expect(res.status).toBe(401);
    expect(ep.received).toEqual([]);
  });

  it('answers 503 (Event Grid retries) when the tenant keys cannot be read, and accepts once they can', async () => {
    // The tenant's metadata fails once (an outage), then answers (a redirect to the real one).
    let asked = 0;
    const flaky = createServer((_req, res) => {
      asked++;
      if (asked === 1) res.writeHead(500).end();
      else res.writeHead(302, { location: issuer.metadataUrl }).end();
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()));
    const down = await startEndpoint({ secret: undefined, audience: AUDIENCE, tenantId: issuer.tenantId, openIdMetadataUrl: `http://127.0.0.1:${(flaky.address() as { port: number }).port}/openid-configuration` });
    try {
      const delivery = [keyVaultEvent('KeyExpired', { id: 'evt-after-outage' })];
      const res = await post(down.url, delivery, { authorization: `Bearer ${await issuer.token(AUDIENCE)}` });
      expect(res.status).toBe(503);
      expect(down.received).toEqual([]);
      const again = await post(down.url, delivery, { authorization: `Bearer ${await issuer.token(AUDIENCE)}` });
      expect(again.status).toBe(200);
      expect(down.received).toEqual([[expect.objectContaining({ id: 'evt-after-outage' })]]);
    } finally {
      flaky.closeAllConnections();
      flaky.close();
      await down.close();
    }
  });
});
