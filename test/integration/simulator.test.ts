// The simulator's ARM front door and Microsoft.Resources, over real HTTPS with the real SDK.
import { ResourceManagementClient } from '@azure/arm-resources';
import { createPipelineRequest, createDefaultHttpClient } from '@azure/core-rest-pipeline';
import { ServiceClient } from '@azure/core-client';
import https from 'node:https';
import {
  BUILTIN_ROLE_IDS,
  SIM_BOT_PRINCIPAL_ID,
  SIM_FLUID_EXISTING,
  SIM_IDENTITY,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_RG_IDENTITIES_LOCKED,
  SIM_RG_LOCKED,
  SIM_RG_WEST,
  SIM_SUBSCRIPTION2_ID,
  SIM_SUBSCRIPTION3_ID,
  SIM_RG_LABS,
  simChaosId,
  simSubscriptionId,
  SIM_SUBSCRIPTION_ID,
  SIM_TENANT_ID,
  simFluidRelayId,
  simIdentityId,
  simRgId,
  simVaultId,
  roleAssignmentResource,
  startSimulator,
  type Simulator,
} from '../../src/simulator';
import { call, simCredential } from '../fixtures/azure-rest/helpers';

let sim: Simulator;
let client: ResourceManagementClient;
const SUB = `/subscriptions/${SIM_SUBSCRIPTION_ID}`;

beforeAll(async () => {
  sim = await startSimulator();
  client = new ResourceManagementClient(simCredential, SIM_SUBSCRIPTION_ID, {
    endpoint: sim.endpoint,
    tlsOptions: { ca: sim.ca },
    retryOptions: { maxRetries: 0 },
  });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

describe('TLS', () => {
  it('serves HTTPS on loopback that a client trusting the CA accepts', async () => {
    expect(sim.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.ca).toContain('BEGIN CERTIFICATE');
    const res = await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01' });
    expect(res.status).toBe(200);
  });

  it('is refused by a plain fetch that does not trust the CA', async () => {
    expect(process.env['NODE_TLS_REJECT_UNAUTHORIZED']).toBeUndefined();
    const err: unknown = await fetch(`${sim.endpoint}/subscriptions?api-version=2022-12-01`, { headers: { authorization: 'Bearer sim' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('TypeError'); // fetch failed
    expect(String((err as { cause?: { code?: string } }).cause?.code)).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
    await expect(call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01', trustCa: false })).rejects.toThrow();
  });

  it('presents a certificate for localhost, 127.0.0.1 and ::1', async () => {
    const cert = await new Promise<{ subjectaltname?: string }>((resolve, reject) => {
      const req = https.get(`${sim.endpoint}/`, { ca: sim.ca, agent: false }, (res) => {
        resolve((res.socket as import('node:tls').TLSSocket).getPeerCertificate());
        res.resume();
      });
      req.on('error', reject);
    });
    expect(cert.subjectaltname).toContain('DNS:localhost');
    expect(cert.subjectaltname).toContain('IP Address:127.0.0.1');
    expect(cert.subjectaltname).toMatch(/IP Address:(::1|0:0:0:0:0:0:0:1)/);
  });
});

describe('ARM front door', () => {
  it('answers 401 AuthenticationFailed without a bearer token', async () => {
    const res = await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01', token: false });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." } });
    expect(res.headers['www-authenticate']).toContain('Bearer');
    const basic = await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01', token: false, headers: { authorization: 'Basic abc' } });
    expect(basic.status).toBe(401);
  });

  it('answers 400 MissingApiVersionParameter without api-version, and names supported versions for a wrong one', async () => {
    const missing = await call(sim, 'GET', `${SUB}/resourcegroups`);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('MissingApiVersionParameter');

    // A tracked type (it has a location): 400 NoRegisteredProviderFound, as ARM answers.
    const bad = await call(sim, 'GET', `${simVaultId(SIM_RBAC_VAULT)}`, { apiVersion: '2019-09-02' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('NoRegisteredProviderFound');
    expect(bad.body.error.message).toContain("No registered resource provider found for location 'eastus' and API version '2019-09-02' for type 'vaults'");
    expect(bad.body.error.message).toContain("The supported api-versions are '2026-03-01-preview, 2026-02-01, 2025-05-01,");
    // A location-less type: 404 InvalidResourceType (vaults/keys exist only from 2019-09-01).
    const badKey = await call(sim, 'GET', `${simVaultId(SIM_RBAC_VAULT)}/keys`, { apiVersion: '2018-02-14' });
    expect([badKey.status, badKey.body.error.code]).toEqual([404, 'InvalidResourceType']);
    expect(badKey.body.error.message).toContain("The resource type 'vaults/keys' could not be found in the namespace 'Microsoft.KeyVault' for api version '2018-02-14'");
    // ARM's own endpoints: 400 InvalidApiVersionParameter, resource groups included.
    const badRg = await call(sim, 'GET', simRgId(), { apiVersion: '2099-01-01' });
    expect([badRg.status, badRg.body.error.code]).toEqual([400, 'InvalidApiVersionParameter']);
    expect(badRg.body.error.message).toContain("The api-version '2099-01-01' is invalid. The supported versions are '2025-04-01, 2024-08-01,");

    const badPut = await call(sim, 'PUT', simFluidRelayId('x'), { apiVersion: '2021-03-12-preview', body: { location: 'eastus' } });
    expect(badPut.status).toBe(400);
    expect(badPut.body.error.code).toBe('NoRegisteredProviderFound');
    expect(badPut.body.error.message).toContain('2022-06-01');

    const malformed = await call(sim, 'GET', '/subscriptions', { apiVersion: 'latest' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('InvalidApiVersionParameter');
  });

  it('answers 404 ResourceNotFound with ARM’s message for a missing resource', async () => {
    const res = await call(sim, 'GET', simVaultId('kv-nope'), { apiVersion: '2024-11-01' });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: 'ResourceNotFound',
        message: `The Resource 'Microsoft.KeyVault/vaults/kv-nope' under resource group '${SIM_RG}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      },
    });
  });

  it('answers unknown subscriptions, groups, namespaces and types as ARM does', async () => {
    const sub = await call(sim, 'GET', '/subscriptions/99999999-9999-4999-8999-999999999999/resourcegroups', { apiVersion: '2022-12-01' });
    expect([sub.status, sub.body.error.code]).toEqual([404, 'SubscriptionNotFound']);
    const rg = await call(sim, 'GET', `${SUB}/resourceGroups/rg-nope/providers/Microsoft.KeyVault/vaults/kv`, { apiVersion: '2024-11-01' });
    expect([rg.status, rg.body.error.code]).toEqual([404, 'ResourceGroupNotFound']);
    const ns = await call(sim, 'GET', `${SUB}/resourceGroups/${SIM_RG}/providers/Microsoft.Nope/things/x`, { apiVersion: '2024-11-01' });
    expect([ns.status, ns.body.error.code]).toEqual([400, 'InvalidResourceNamespace']);
    const type = await call(sim, 'GET', `${SUB}/resourceGroups/${SIM_RG}/providers/Microsoft.KeyVault/things/x`, { apiVersion: '2024-11-01' });
    expect([type.status, type.body.error.code]).toEqual([404, 'InvalidResourceType']);
  });

  it('matches path segments case-insensitively and returns canonical ids', async () => {
    const shouted = simVaultId(SIM_RBAC_VAULT).toUpperCase().replace(SIM_SUBSCRIPTION_ID.toUpperCase(), SIM_SUBSCRIPTION_ID);
    const res = await call(sim, 'GET', shouted, { apiVersion: '2024-11-01' });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(simVaultId(SIM_RBAC_VAULT));
    const doubled = await call(sim, 'GET', `/${simVaultId(SIM_RBAC_VAULT)}`, { apiVersion: '2024-11-01' });
    expect(doubled.status).toBe(200);
  });

  it('answers malformed JSON with 400 InvalidRequestContent', async () => {
    const res = await call(sim, 'PUT', simFluidRelayId('fr-bad-json'), { apiVersion: '2022-06-01', rawBody: '{"location": "eastus",' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequestContent');
  });

  it('sends ARM’s request ids, echoes the correlation id and counts the rate-limit budget down', async () => {
    const a = await call(sim, 'GET', `${SUB}/resourcegroups`, { apiVersion: '2022-12-01', headers: { 'x-ms-correlation-request-id': 'corr-123' } });
    const b = await call(sim, 'GET', `${SUB}/resourcegroups`, { apiVersion: '2022-12-01' });
    expect(a.headers['x-ms-correlation-request-id']).toBe('corr-123');
    expect(b.headers['x-ms-correlation-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-ms-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-ms-request-id']).not.toBe(b.headers['x-ms-request-id']);
    const readsA = Number(a.headers['x-ms-ratelimit-remaining-subscription-reads']);
    const readsB = Number(b.headers['x-ms-ratelimit-remaining-subscription-reads']);
    expect(readsA).toBeGreaterThan(0);
    expect(readsB).toBe(readsA - 1);
    const w = await call(sim, 'PUT', simIdentityId('id-new'), { apiVersion: '2024-11-30', body: { location: 'westeurope' } });
    expect(w.status).toBe(201);
    expect(Number(w.headers['x-ms-ratelimit-remaining-subscription-writes'])).toBeGreaterThan(0);
    expect(w.headers['x-ms-ratelimit-remaining-subscription-reads']).toBeUndefined();
  });

  it('journals every request in order and lists the writes', async () => {
    await call(sim, 'GET', `${SUB}/resourcegroups`, { apiVersion: '2022-12-01' });
    await call(sim, 'PUT', simIdentityId('id-journal'), { apiVersion: '2024-11-30', body: { location: 'eastus' } });
    await call(sim, 'GET', '/subscriptions', { token: false, apiVersion: '2022-12-01' });
    expect(sim.requests.map((r) => [r.method, r.status])).toEqual([
      ['GET', 200],
      ['PUT', 201],
      ['GET', 401],
    ]);
    const [write] = sim.writes();
    expect(write).toMatchObject({ method: 'PUT', path: simIdentityId('id-journal'), query: { 'api-version': '2024-11-30' }, body: { location: 'eastus' } });
    expect(write!.headers['authorization']).toBe('Bearer <redacted>');
    expect(typeof write!.at).toBe('number');
  });

  it('reset() restores the seeded state and clears the journal', async () => {
    expect((await call(sim, 'PUT', simIdentityId('id-temp'), { apiVersion: '2024-11-30', body: { location: 'eastus' } })).status).toBe(201);
    sim.state.delete(simIdentityId(SIM_IDENTITY));
    sim.reset();
    expect(sim.requests).toHaveLength(0);
    expect(sim.state.get(simIdentityId('id-temp'))).toBeUndefined();
    expect(sim.state.get(simIdentityId(SIM_IDENTITY))?.name).toBe(SIM_IDENTITY);
  });
});

describe('fault and latency injection', () => {
  it('fails the matching request with the ARM error body and Retry-After, `times` times', async () => {
    sim.injectFault({ method: 'GET', pathIncludes: '/resourcegroups', status: 429, retryAfterSeconds: 7, times: 2 });
    const first = await call(sim, 'GET', `${SUB}/resourceGroups`, { apiVersion: '2022-12-01' });
    const other = await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01' });
    const second = await call(sim, 'GET', `${SUB}/resourcegroups`, { apiVersion: '2022-12-01' });
    const third = await call(sim, 'GET', `${SUB}/resourcegroups`, { apiVersion: '2022-12-01' });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('7');
    expect(first.body.error.code).toBe('TooManyRequests');
    expect(other.status).toBe(200);
    expect(second.status).toBe(429);
    expect(third.status).toBe(200);
  });

  it('uses the given code and message, defaults to one failure, and can drop the connection', async () => {
    sim.injectFault({ status: 503, code: 'ServiceBusy', message: 'try later' });
    const failed = await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01' });
    expect([failed.status, failed.body]).toEqual([503, { error: { code: 'ServiceBusy', message: 'try later' } }]);
    expect((await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01' })).status).toBe(200);

    sim.injectFault({ method: 'PUT', status: 0 });
    await expect(call(sim, 'PUT', `${SUB}/resourcegroups/rg-drop`, { apiVersion: '2022-12-01', body: { location: 'eastus' } })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(sim.requests.at(-1)?.status).toBe(0);
  });

  it('the SDK pipeline retries an injected 429 after Retry-After and succeeds', async () => {
    const retrying = new ServiceClient({
      endpoint: sim.endpoint,
      credential: simCredential,
      credentialScopes: 'https://management.azure.com/.default',
      tlsOptions: { ca: sim.ca },
      httpClient: createDefaultHttpClient(),
    });
    sim.injectFault({ pathIncludes: '/subscriptions', status: 429, retryAfterSeconds: 0 });
    const res = await retrying.sendRequest(createPipelineRequest({ url: `${sim.endpoint}/subscriptions?api-version=2022-12-01`, method: 'GET' }));
    expect(res.status).toBe(200);
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('delays every answer by the configured latency', async () => {
    sim.setLatency(500);
    const started = Date.now();
    await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(490);
    sim.setLatency(0);
    const again = Date.now();
    await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01' });
    expect(Date.now() - again).toBeLessThan(490);
  });
});

describe('Microsoft.Resources', () => {
  it('lists subscriptions, locations and gets a subscription', async () => {
    const subs = await call(sim, 'GET', '/subscriptions', { apiVersion: '2022-12-01' });
    expect(subs.body.value.map((s: { subscriptionId: string }) => s.subscriptionId)).toEqual([SIM_SUBSCRIPTION_ID, SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION3_ID]);
    expect(subs.body.value[0]).toMatchObject({ id: SUB, tenantId: SIM_TENANT_ID, displayName: 'Contoso Platform (sim)', state: 'Enabled' });
    const one = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION2_ID}`, { apiVersion: '2022-12-01' });
    expect(one.body.displayName).toBe('Contoso Sandbox (sim)');
    const locations = await call(sim, 'GET', `${SUB}/locations`, { apiVersion: '2022-12-01' });
    expect(locations.body.value.map((l: { name: string; displayName: string }) => [l.name, l.displayName])).toEqual([
      ['eastus', 'East US'],
      ['westus', 'West US'],
      ['westeurope', 'West Europe'],
    ]);
  });

  it('serves resource groups to the real ResourceManagementClient', async () => {
    const groups = [];
    for await (const g of client.resourceGroups.list()) groups.push(g);
    expect(groups.map((g) => [g.name, g.location])).toEqual([
      [SIM_RG, 'eastus'],
      [SIM_RG_WEST, 'westus'],
      [SIM_RG_LOCKED, 'eastus'],
      [SIM_RG_IDENTITIES_LOCKED, 'eastus'],
    ]);
    const rg = await client.resourceGroups.get(SIM_RG);
    expect(rg.properties?.provisioningState).toBe('Succeeded');
    expect(await client.resourceGroups.checkExistence(SIM_RG)).toEqual({ body: true });
    expect(await client.resourceGroups.checkExistence('rg-nope')).toEqual({ body: false });
    await expect(client.resourceGroups.get('rg-nope')).rejects.toMatchObject({ statusCode: 404, code: 'ResourceGroupNotFound' });
    // The bot is only Reader at the subscription: creating a group needs a write right there.
    await expect(client.resourceGroups.createOrUpdate('rg-sdk', { location: 'westeurope' })).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    sim.state.put(roleAssignmentResource({ name: '10101010-1010-4010-8010-101010101010', scope: SUB, roleGuid: BUILTIN_ROLE_IDS.contributor, principalId: SIM_BOT_PRINCIPAL_ID, createdOn: new Date().toISOString() }));
    const created = await client.resourceGroups.createOrUpdate('rg-sdk', { location: 'westeurope', tags: { a: 'b' } });
    expect(created).toMatchObject({ name: 'rg-sdk', location: 'westeurope', tags: { a: 'b' } });
  });

  it('lists top-level resources with $filter on resourceType and name (resources.list)', async () => {
    const all = [];
    for await (const r of client.resources.list()) all.push(r);
    const types = new Set(all.map((r) => r.type));
    expect(types).toEqual(
      new Set([
        'Microsoft.KeyVault/vaults',
        // Listed only (the Chaos experiments' target VM); Compute is not simulated.
        'Microsoft.Compute/virtualMachines',
        'Microsoft.KeyVault/managedHSMs',
        'Microsoft.ManagedIdentity/userAssignedIdentities',
        'Microsoft.FluidRelay/fluidRelayServers',
        'Microsoft.Storage/storageAccounts',
        'Microsoft.Chaos/experiments',
      ]),
    );

    const vaults = [];
    for await (const r of client.resources.list({ filter: "resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'KV-CMK-RBAC'" })) vaults.push(r);
    expect(vaults).toEqual([{ id: simVaultId(SIM_RBAC_VAULT), name: SIM_RBAC_VAULT, type: 'Microsoft.KeyVault/vaults', location: 'eastus', tags: {} }]);
    expect(sim.requests.at(-1)?.path).toBe(`${SUB}/resources`);

    const west = [];
    for await (const r of client.resources.listByResourceGroup(SIM_RG_WEST)) west.push(r.name);
    expect(west.sort()).toEqual(['id-west', 'kv-cmk-west']);

    const bad = await call(sim, 'GET', `${SUB}/resources?$filter=${encodeURIComponent("substringof('kv', name)")}`, { apiVersion: '2021-04-01' });
    expect(bad.status).toBe(400);
  });

  it('pages with $top and an absolute nextLink the SDK follows', async () => {
    const first = await call(sim, 'GET', `${SUB}/resources?$top=2`, { apiVersion: '2021-04-01' });
    expect(first.body.value).toHaveLength(2);
    expect(first.body.nextLink).toMatch(new RegExp(`^${sim.endpoint}/subscriptions/`));
    const names = [];
    for await (const r of client.resources.list({ top: 2 })) names.push(r.name);
    expect(names.length).toBeGreaterThan(4);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gets a resource by id with the SDK’s generic getById', async () => {
    const fr = await client.resources.getById(simFluidRelayId(SIM_FLUID_EXISTING), '2022-06-01');
    expect(fr).toMatchObject({ id: simFluidRelayId(SIM_FLUID_EXISTING), type: 'Microsoft.FluidRelay/fluidRelayServers', location: 'eastus' });
    await expect(client.resources.getById(simFluidRelayId('fr-none'), '2022-06-01')).rejects.toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
  });
});

describe('resource provider registration (Microsoft.Resources providers)', () => {
  const LABS = `/subscriptions/${SIM_SUBSCRIPTION3_ID}`;
  const frBody = { location: 'eastus', properties: { storagesku: 'standard' } };

  it('reports each namespace’s state per subscription: FluidRelay and Chaos are not registered in the labs subscription', async () => {
    const fr = await call(sim, 'GET', `${LABS}/providers/Microsoft.FluidRelay`, { apiVersion: '2021-04-01' });
    expect(fr.status).toBe(200);
    expect(fr.body).toMatchObject({ id: `${LABS}/providers/Microsoft.FluidRelay`, namespace: 'Microsoft.FluidRelay', registrationState: 'NotRegistered' });
    expect(fr.body.resourceTypes[0]).toMatchObject({ resourceType: 'fluidRelayServers' });
    expect(fr.body.resourceTypes[0].apiVersions).toContain('2022-06-01');
    const all = await call(sim, 'GET', `${LABS}/providers`, { apiVersion: '2025-04-01' });
    const states = Object.fromEntries(all.body.value.map((p: { namespace: string; registrationState: string }) => [p.namespace, p.registrationState]));
    expect(states).toMatchObject({ 'Microsoft.FluidRelay': 'NotRegistered', 'Microsoft.Chaos': 'NotRegistered', 'Microsoft.KeyVault': 'Registered', 'Microsoft.Storage': 'Registered' });
    const main = await call(sim, 'GET', `${SUB}/providers/Microsoft.Chaos`, { apiVersion: '2021-04-01' });
    expect(main.body.registrationState).toBe('Registered');
    const unknown = await call(sim, 'GET', `${SUB}/providers/Microsoft.Nope`, { apiVersion: '2021-04-01' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'InvalidResourceNamespace']);
  });

  it('answers a write to an unregistered namespace with 409 MissingSubscriptionRegistration, and accepts it once registered', async () => {
    const refused = await call(sim, 'PUT', simFluidRelayId('fr-labs', SIM_RG_LABS, SIM_SUBSCRIPTION3_ID), { apiVersion: '2022-06-01', body: frBody });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'MissingSubscriptionRegistration',
      message: "The subscription is not registered to use namespace 'Microsoft.FluidRelay'. See https://aka.ms/rps-not-found for how to register subscriptions.",
      details: [{ code: 'MissingSubscriptionRegistration', target: 'Microsoft.FluidRelay' }],
    });
    const chaos = await call(sim, 'PUT', simChaosId('chaos-labs', SIM_RG_LABS, SIM_SUBSCRIPTION3_ID), { apiVersion: '2023-10-27-preview', body: { location: 'eastus' } });
    expect([chaos.status, chaos.body.error.code]).toEqual([409, 'MissingSubscriptionRegistration']);
    expect((await call(sim, 'PUT', simFluidRelayId('fr-main'), { apiVersion: '2022-06-01', body: frBody })).status).toBe(200);

    // Registering needs <namespace>/register/action at the subscription: the bot is not allowed…
    const denied = await call(sim, 'POST', `${LABS}/providers/Microsoft.FluidRelay/register`, { apiVersion: '2021-04-01' });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    // …until it holds Contributor there.
    sim.state.put(
      roleAssignmentResource({ name: '99999999-9999-4999-8999-999999999999', scope: simSubscriptionId(SIM_SUBSCRIPTION3_ID), roleGuid: BUILTIN_ROLE_IDS.contributor, principalId: SIM_BOT_PRINCIPAL_ID, createdOn: new Date().toISOString() }),
    );
    const registered = await call(sim, 'POST', `${LABS}/providers/Microsoft.FluidRelay/register`, { apiVersion: '2021-04-01' });
    expect([registered.status, registered.body.registrationState]).toEqual([200, 'Registered']);
    expect((await call(sim, 'PUT', simFluidRelayId('fr-labs', SIM_RG_LABS, SIM_SUBSCRIPTION3_ID), { apiVersion: '2022-06-01', body: frBody })).status).toBe(200);
  });
});
