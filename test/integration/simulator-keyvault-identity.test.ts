// Microsoft.KeyVault and Microsoft.ManagedIdentity in the simulator, against the reference examples.
import {
  SIM_DISABLED_KEY,
  SIM_EC_KEY,
  SIM_EXPIRED_KEY,
  SIM_FIREWALL_VAULT,
  SIM_IDENTITY,
  SIM_IDENTITY_CLIENT_ID,
  SIM_IDENTITY_NO_ACCESS,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_IDENTITY_WEST,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_KEY_VERSION_OLD,
  SIM_POLICY_KEY,
  SIM_POLICY_VAULT,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_RG_WEST,
  SIM_SUBSCRIPTION_ID,
  SIM_TENANT_ID,
  SIM_WEST_VAULT,
  simIdentityId,
  simKeyId,
  simVaultId,
  startSimulator,
  type Simulator,
} from '../../src/simulator';
import * as seedIds from '../../src/simulator/seed-ids';
import { call, loadExample, shapeDiff } from '../fixtures/azure-rest/helpers';

let sim: Simulator;
const KV = '2024-11-01';
const MI = '2024-11-30';
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const body200 = (rel: string) => loadExample(rel).responses['200'].body;

describe('Microsoft.KeyVault vaults', () => {
  it('GET vault has the shape of getVault.json and createVaultWithNetworkAcls.json', async () => {
    const rbac = await call(sim, 'GET', simVaultId(SIM_RBAC_VAULT), { apiVersion: KV });
    expect(rbac.status).toBe(200);
    // hsmPoolResourceId is a read-only oddity of the examples that vaults do not return.
    expect(shapeDiff(body200('Microsoft.KeyVault/2024-11-01/getVault.json'), rbac.body, ['properties.hsmPoolResourceId'])).toEqual([]);
    expect(rbac.body.properties).toMatchObject({
      tenantId: SIM_TENANT_ID,
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      enablePurgeProtection: true,
      vaultUri: `https://${SIM_RBAC_VAULT}.vault.azure.net/`,
      publicNetworkAccess: 'Enabled',
      provisioningState: 'Succeeded',
      accessPolicies: [],
    });

    const firewall = await call(sim, 'GET', simVaultId(SIM_FIREWALL_VAULT), { apiVersion: '2023-07-01' });
    expect(shapeDiff(body200('Microsoft.KeyVault/2024-11-01/createVaultWithNetworkAcls.json'), firewall.body, ['properties.hsmPoolResourceId'])).toEqual([]);
    expect(firewall.body.properties.networkAcls).toMatchObject({ defaultAction: 'Deny', bypass: 'None' });
  });

  it('access-policy vault grants the CMK identity get/wrapKey/unwrapKey', async () => {
    const res = await call(sim, 'GET', simVaultId(SIM_POLICY_VAULT), { apiVersion: KV });
    expect(res.body.properties.enableRbacAuthorization).toBe(false);
    expect(res.body.properties.accessPolicies).toContainEqual({
      tenantId: SIM_TENANT_ID,
      objectId: SIM_IDENTITY_PRINCIPAL_ID,
      permissions: { keys: ['get', 'wrapKey', 'unwrapKey'], secrets: [], certificates: [] },
    });
  });

  it('lists vaults by resource group and by subscription', async () => {
    const byRg = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG_WEST}/providers/Microsoft.KeyVault/vaults`, { apiVersion: KV });
    expect(byRg.body.value.map((v: { name: string }) => v.name)).toEqual([SIM_WEST_VAULT]);
    const bySub = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft.KeyVault/vaults`, { apiVersion: KV });
    expect(bySub.body.value).toHaveLength(5);
  });
});

describe('Microsoft.KeyVault keys', () => {
  it('GET key returns the current version shaped like getKey.json, times as Unix seconds', async () => {
    const res = await call(sim, 'GET', simKeyId(SIM_RBAC_VAULT, SIM_KEY), { apiVersion: KV });
    expect(res.status).toBe(200);
    expect(shapeDiff(body200('Microsoft.KeyVault/2024-11-01/getKey.json'), res.body)).toEqual([]);
    const p = res.body.properties;
    expect(p).toMatchObject({
      kty: 'RSA',
      keySize: 3072,
      keyUri: `https://${SIM_RBAC_VAULT}.vault.azure.net:443/keys/${SIM_KEY}`,
      keyUriWithVersion: `https://${SIM_RBAC_VAULT}.vault.azure.net:443/keys/${SIM_KEY}/${SIM_KEY_VERSION_CURRENT}`,
      attributes: { enabled: true, recoveryLevel: 'Recoverable' },
    });
    expect(p.keyOps).toEqual(expect.arrayContaining(['wrapKey', 'unwrapKey']));
    expect(Number.isInteger(p.attributes.exp)).toBe(true);
    expect(p.attributes.exp - nowS()).toBeGreaterThan(700 * 86400);
    expect(p.attributes.created).toBeLessThan(nowS());
    expect(p.rotationPolicy.lifetimeActions.length).toBeGreaterThan(0);
    expect(p.rotationPolicy.attributes.expiryTime).toBe('P2Y');
  });

  it('lists versions like listKeyVersions.json (no kty/keyOps) and gets one like getKeyVersion.json', async () => {
    const list = await call(sim, 'GET', `${simKeyId(SIM_RBAC_VAULT, SIM_KEY)}/versions`, { apiVersion: KV });
    expect(shapeDiff(body200('Microsoft.KeyVault/2024-11-01/listKeyVersions.json'), list.body)).toEqual([]);
    expect(list.body.value.map((v: { name: string }) => v.name)).toEqual([SIM_KEY_VERSION_OLD, SIM_KEY_VERSION_CURRENT]);
    for (const v of list.body.value) expect(Object.keys(v.properties).sort()).toEqual(['attributes', 'keyUri', 'keyUriWithVersion']);

    const one = await call(sim, 'GET', `${simKeyId(SIM_RBAC_VAULT, SIM_KEY)}/versions/${SIM_KEY_VERSION_OLD}`, { apiVersion: KV });
    expect(shapeDiff(body200('Microsoft.KeyVault/2024-11-01/getKeyVersion.json'), one.body)).toEqual([]);
    expect(one.body).toMatchObject({ name: SIM_KEY_VERSION_OLD, type: 'Microsoft.KeyVault/vaults/keys/versions' });
    expect(one.body.properties.attributes.exp).toBeLessThan(list.body.value[1].properties.attributes.exp);

    const missing = await call(sim, 'GET', `${simKeyId(SIM_RBAC_VAULT, SIM_KEY)}/versions/${'0'.repeat(32)}`, { apiVersion: KV });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'ResourceNotFound']);
  });

  it('seeds the EC, disabled and expired keys the checks need', async () => {
    const get = async (key: string) => (await call(sim, 'GET', simKeyId(SIM_RBAC_VAULT, key), { apiVersion: KV })).body.properties;
    const ec = await get(SIM_EC_KEY);
    expect(ec).toMatchObject({ kty: 'EC', curveName: 'P-256', keyOps: ['sign', 'verify'] });
    expect(ec.keySize).toBeUndefined();
    expect((await get(SIM_DISABLED_KEY)).attributes.enabled).toBe(false);
    const expired = await get(SIM_EXPIRED_KEY);
    expect(expired.attributes.enabled).toBe(true);
    expect(expired.attributes.exp).toBeLessThan(nowS());
    const policyKey = await call(sim, 'GET', `${simKeyId(SIM_POLICY_VAULT, SIM_POLICY_KEY)}/versions`, { apiVersion: KV });
    expect(policyKey.body.value).toHaveLength(1);
  });

  it('derives recoveryLevel from the vault’s purge protection', async () => {
    const west = await call(sim, 'GET', simKeyId(SIM_WEST_VAULT, seedIds.SIM_WEST_KEY), { apiVersion: KV });
    expect(west.body.properties.attributes.recoveryLevel).toBe('Recoverable+Purgeable');
    sim.state.patch(simVaultId(SIM_WEST_VAULT), { properties: { enablePurgeProtection: true } });
    const after = await call(sim, 'GET', simKeyId(SIM_WEST_VAULT, seedIds.SIM_WEST_KEY), { apiVersion: KV });
    expect(after.body.properties.attributes.recoveryLevel).toBe('Recoverable');
  });

  it('lists keys in pages of 25 with a nextLink', async () => {
    const first = await call(sim, 'GET', `${simVaultId(SIM_RBAC_VAULT)}/keys`, { apiVersion: KV });
    expect(first.body.nextLink).toBeUndefined();
    const seeded = first.body.value.length;
    const template = sim.state.get(simKeyId(SIM_RBAC_VAULT, SIM_EXPIRED_KEY))!;
    for (let i = 0; i < 30; i++) {
      sim.state.put({ ...structuredClone(template), id: simKeyId(SIM_RBAC_VAULT, `bulk-${i}`), name: `bulk-${i}` });
    }
    const page1 = await call(sim, 'GET', `${simVaultId(SIM_RBAC_VAULT)}/keys`, { apiVersion: KV });
    expect(page1.body.value).toHaveLength(25);
    const next = new URL(page1.body.nextLink);
    const page2 = await call(sim, 'GET', `${next.pathname}${next.search}`);
    expect(page2.body.value).toHaveLength(seeded + 30 - 25);
    expect(page2.body.nextLink).toBeUndefined();
  });

  it('key version ids are 32 hex characters', () => {
    const versions = Object.entries(seedIds).filter(([k]) => k.endsWith('_VERSION') || k.startsWith('SIM_KEY_VERSION'));
    expect(versions.length).toBeGreaterThan(10);
    for (const [, v] of versions) expect(v).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('Microsoft.ManagedIdentity', () => {
  it('GET identity has the shape of IdentityGet.json', async () => {
    const res = await call(sim, 'GET', simIdentityId(SIM_IDENTITY), { apiVersion: MI });
    expect(res.status).toBe(200);
    expect(shapeDiff(body200('Microsoft.ManagedIdentity/2024-11-30/IdentityGet.json'), res.body)).toEqual([]);
    expect(res.body).toMatchObject({
      id: simIdentityId(SIM_IDENTITY),
      location: 'eastus',
      properties: { principalId: SIM_IDENTITY_PRINCIPAL_ID, clientId: SIM_IDENTITY_CLIENT_ID, tenantId: SIM_TENANT_ID, isolationScope: 'None' },
    });
    const west = await call(sim, 'GET', simIdentityId(SIM_IDENTITY_WEST), { apiVersion: '2023-01-31' });
    expect(west.body.id).toContain(`/resourceGroups/${SIM_RG_WEST}/`);
    expect(west.body.location).toBe('westus');
  });

  it('gives every identity a distinct principal and client id', async () => {
    const res = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, { apiVersion: MI });
    const props = res.body.value.map((i: { properties: { principalId: string; clientId: string } }) => i.properties);
    expect(props).toHaveLength(3);
    const all = props.flatMap((p: { principalId: string; clientId: string }) => [p.principalId, p.clientId]);
    expect(new Set(all).size).toBe(6);
  });

  it('lists by resource group and creates one with PUT', async () => {
    const rg = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, { apiVersion: MI });
    expect(rg.body.value.map((i: { name: string }) => i.name)).toEqual([SIM_IDENTITY, SIM_IDENTITY_NO_ACCESS]);
    const created = await call(sim, 'PUT', simIdentityId('id-new'), { apiVersion: MI, body: { location: 'eastus' } });
    expect(created.status).toBe(201);
    expect(created.body.properties.principalId).toMatch(/^[0-9a-f-]{36}$/);
    const again = await call(sim, 'PUT', simIdentityId('id-new'), { apiVersion: MI, body: { location: 'eastus', tags: { a: 'b' } } });
    expect(again.status).toBe(200);
    expect(again.body.properties.principalId).toBe(created.body.properties.principalId);
  });
});
