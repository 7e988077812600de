// Key Vault events from the simulator to a webhook, as Event Grid delivers them: the validation
// handshake, one POST per event in the Event Grid schema (or CloudEvents 1.0), the endpoint's
// secret or a bearer token; keys created through ARM and rotated on the data plane raise
// KeyNewVersionCreated, KeyNearExpiry / KeyExpired are emitted on demand, disabling raises nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SdkArmGateway, staticTokenCredential } from '../../src/azure/sdk-gateway';
import { SIM_EXPIRING_KEY, SIM_EXPIRING_KEY_VERSION, SIM_KEY, SIM_KEY_VERSION_CURRENT, SIM_RBAC_VAULT, SIM_RG, SIM_SUBSCRIPTION_ID, startSimulator, type Simulator } from '../../src/simulator';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** A webhook that records what it gets and answers the handshake (unless told not to). */
async function startWebhook(opts: { answerHandshake?: boolean } = {}) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body: unknown = text ? JSON.parse(text) : undefined;
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.method === 'OPTIONS') {
        res.writeHead(200, opts.answerHandshake === false ? {} : { 'webhook-allowed-origin': String(req.headers['webhook-request-origin']) }).end();
        return;
      }
      if (req.headers['aeg-event-type'] === 'SubscriptionValidation' && opts.answerHandshake !== false) {
        const code = (body as Array<{ data: { validationCode: string } }>)[0]!.data.validationCode;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ validationResponse: code }));
        return;
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events/eventgrid`;
  const notifications = () => received.filter((r) => r.method === 'POST' && r.headers['aeg-event-type'] !== 'SubscriptionValidation');
  return { url, received, notifications, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let sim: Simulator;
let hook: Awaited<ReturnType<typeof startWebhook>>;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(async () => {
  hook = await startWebhook();
});
afterEach(async () => {
  sim.reset();
  await hook.close();
});

const VAULT_ID = `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.KeyVault/vaults/${SIM_RBAC_VAULT}`;
const arm = () => new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries: 0, pacer: false });
type EventBody = Array<{ id: string; topic: string; subject: string; eventType: string; eventTime: string; data: Record<string, unknown>; dataVersion: string; metadataVersion: string }>;

describe('subscribing a webhook', () => {
  it('runs the validation handshake first, with the secret in the URL', async () => {
    await sim.deliverEventsTo(hook.url, { code: 's3cret' });
    expect(hook.received).toHaveLength(1);
    const [hs] = hook.received;
    expect(hs!.headers['aeg-event-type']).toBe('SubscriptionValidation');
    expect(new URL(hs!.url, 'http://x').searchParams.get('code')).toBe('s3cret');
    const [event] = hs!.body as Array<{ eventType: string; data: { validationCode: string; validationUrl: string } }>;
    expect(event!.eventType).toBe('Microsoft.EventGrid.SubscriptionValidationEvent');
    expect(event!.data.validationCode).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('is refused when the endpoint does not echo the validation code, and then gets nothing', async () => {
    const mute = await startWebhook({ answerHandshake: false });
    try {
      await expect(sim.deliverEventsTo(mute.url)).rejects.toThrow(/validation handshake failed/);
      sim.emitKeyEvent('KeyNearExpiry', SIM_RBAC_VAULT, SIM_EXPIRING_KEY);
      await sim.flushEvents();
      expect(mute.notifications()).toHaveLength(0);
    } finally {
      await mute.close();
    }
  });
});

describe('KeyNewVersionCreated', () => {
  it('a rotation on the data plane: a new current version, seen through ARM, and its event in the Event Grid schema', async () => {
    await sim.deliverEventsTo(hook.url, { token: 'entra-token-for-the-bot' });
    const version = sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
    expect(version).toMatch(/^[0-9a-f]{32}$/);
    expect(version).not.toBe(SIM_KEY_VERSION_CURRENT);
    await sim.flushEvents();

    const key = await arm().get<{ properties: { keyUriWithVersion: string; attributes: { enabled: boolean; exp?: number } } }>(`${VAULT_ID}/keys/${SIM_KEY}`, '2024-11-01');
    expect(key.properties.keyUriWithVersion.endsWith(`/${version}`)).toBe(true);
    expect(key.properties.attributes.enabled).toBe(true);
    const versions = await arm().list<{ name: string }>(`${VAULT_ID}/keys/${SIM_KEY}/versions`, '2024-11-01');
    expect(versions.map((v) => v.name)).toContain(version);

    const [delivery] = hook.notifications();
    expect(delivery!.headers['aeg-event-type']).toBe('Notification');
    expect(delivery!.headers['authorization']).toBe('Bearer entra-token-for-the-bot');
    expect(delivery!.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = delivery!.body as EventBody;
    expect(body).toHaveLength(1);
    expect(body[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      topic: VAULT_ID,
      subject: SIM_KEY,
      eventType: 'Microsoft.KeyVault.KeyNewVersionCreated',
      eventTime: expect.any(String),
      data: {
        Id: `https://${SIM_RBAC_VAULT}.vault.azure.net/keys/${SIM_KEY}/${version}`,
        VaultName: SIM_RBAC_VAULT,
        ObjectType: 'Key',
        ObjectName: SIM_KEY,
        Version: version,
        NBF: null,
        EXP: String(key.properties.attributes.exp),
      },
      dataVersion: '1',
      metadataVersion: '1',
    });
  });

  it('a key created through ARM (Keys_CreateIfNotExist) raises it for the first version; the same PUT again writes and raises nothing', async () => {
    await sim.deliverEventsTo(hook.url);
    const body = { properties: { kty: 'RSA', keySize: 3072, keyOps: ['wrapKey', 'unwrapKey'] } };
    const created = await arm().put<{ name: string; properties: { keyUriWithVersion: string; kty: string; keySize: number } }>(`${VAULT_ID}/keys/new-cmk`, '2024-11-01', body);
    expect(created.status).toBe(200);
    expect(created.body.properties).toMatchObject({ kty: 'RSA', keySize: 3072 });
    const version = created.body.properties.keyUriWithVersion.split('/').pop();
    await arm().put(`${VAULT_ID}/keys/new-cmk`, '2024-11-01', { properties: { kty: 'EC' } });
    await sim.flushEvents();
    const events = hook.notifications().map((n) => (n.body as EventBody)[0]!);
    expect(events.map((e) => [e.eventType, e.subject, e.data['Version']])).toEqual([['Microsoft.KeyVault.KeyNewVersionCreated', 'new-cmk', version]]);
    const again = await arm().get<{ properties: { kty: string } }>(`${VAULT_ID}/keys/new-cmk`, '2024-11-01');
    expect(again.properties.kty).toBe('RSA');
  });
});

describe('time-based events and changes without events', () => {
  it('KeyNearExpiry names the version and its expiry, in CloudEvents 1.0 when subscribed so (after the OPTIONS handshake)', async () => {
    await sim.deliverEventsTo(hook.url, { schema: 'CloudEventSchemaV1_0' });
    expect(hook.received[0]).toMatchObject({ method: 'OPTIONS', headers: { 'webhook-request-origin': 'eventgrid.azure.net' } });
    sim.emitKeyEvent('KeyNearExpiry', SIM_RBAC_VAULT, SIM_EXPIRING_KEY);
    await sim.flushEvents();
    const version = sim.state.get(`${VAULT_ID}/keys/${SIM_EXPIRING_KEY}/versions/${SIM_EXPIRING_KEY_VERSION}`)!;
    const exp = (version.properties as { attributes: { exp: number } }).attributes.exp;
    const [delivery] = hook.notifications();
    expect(delivery!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(delivery!.body).toEqual({
      id: expect.any(String),
      source: VAULT_ID,
      specversion: '1.0',
      type: 'Microsoft.KeyVault.KeyNearExpiry',
      subject: SIM_EXPIRING_KEY,
      time: expect.any(String),
      data: expect.objectContaining({ Version: SIM_EXPIRING_KEY_VERSION, EXP: String(exp), ObjectType: 'Key' }),
    });
  });

  it('disabling a key changes what ARM shows and sends no event (Key Vault has none for it)', async () => {
    await sim.deliverEventsTo(hook.url);
    sim.setKeyEnabled(SIM_RBAC_VAULT, SIM_KEY, false);
    const key = await arm().get<{ properties: { attributes: { enabled: boolean } } }>(`${VAULT_ID}/keys/${SIM_KEY}`, '2024-11-01');
    const current = await arm().get<{ properties: { attributes: { enabled: boolean } } }>(`${VAULT_ID}/keys/${SIM_KEY}/versions/${SIM_KEY_VERSION_CURRENT}`, '2024-11-01');
    expect([key.properties.attributes.enabled, current.properties.attributes.enabled]).toEqual([false, false]);
    sim.setKeyEnabled(SIM_RBAC_VAULT, SIM_KEY, true);
    expect((await arm().get<{ properties: { attributes: { enabled: boolean } } }>(`${VAULT_ID}/keys/${SIM_KEY}`, '2024-11-01')).properties.attributes.enabled).toBe(true);
    expect(await sim.flushEvents()).toHaveLength(0);
  });

  it('a subscription filtered to some types gets only those; reset() ends every subscription', async () => {
    await sim.deliverEventsTo(hook.url, { includedEventTypes: ['KeyExpired'] });
    sim.emitKeyEvent('KeyNearExpiry', SIM_RBAC_VAULT, SIM_EXPIRING_KEY);
    sim.emitKeyEvent('KeyExpired', SIM_RBAC_VAULT, SIM_EXPIRING_KEY);
    sim.emitKeyEvent('VaultAccessPolicyChanged', SIM_RBAC_VAULT);
    await sim.flushEvents();
    expect(hook.notifications().map((n) => (n.body as EventBody)[0]!.eventType)).toEqual(['Microsoft.KeyVault.KeyExpired']);
    sim.reset();
    sim.emitKeyEvent('KeyExpired', SIM_RBAC_VAULT, SIM_EXPIRING_KEY);
    expect(await sim.flushEvents()).toHaveLength(0);
    expect(hook.notifications()).toHaveLength(1);
  });

  it('records an endpoint that refuses a delivery, without retrying', async () => {
    await sim.deliverEventsTo(hook.url, { validate: false });
    await hook.close();
    sim.emitKeyEvent('VaultAccessPolicyChanged', SIM_RBAC_VAULT);
    const [d] = await sim.flushEvents();
    expect(d).toMatchObject({ eventType: 'Microsoft.KeyVault.VaultAccessPolicyChanged', status: 0 });
    expect(d!.error).toBeTruthy();
    expect((d!.body as EventBody)[0]!.data).toEqual({ Id: `https://${SIM_RBAC_VAULT}.vault.azure.net`, VaultName: SIM_RBAC_VAULT, ObjectType: 'Vault', ObjectName: SIM_RBAC_VAULT, Version: null, NBF: null, EXP: null });
    hook = await startWebhook(); // afterEach closes it
  });
});
