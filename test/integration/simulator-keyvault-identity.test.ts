// Microsoft.KeyVault and Microsoft.ManagedIdentity in the simulator, against the reference examples.
import {
  BUILTIN_ROLE_IDS,
  SIM_DISABLED_KEY,
  SIM_EC_KEY,
  SIM_EXPIRED_KEY,
  SIM_FIREWALL_VAULT,
  SIM_IDENTITY,
  SIM_IDENTITY_CLIENT_ID,
  SIM_IDENTITY_CUSTOM_ROLE,
  SIM_IDENTITY_GROUP_MEMBER,
  SIM_IDENTITY_INHERITED,
  SIM_IDENTITY_NO_ACCESS,
  SIM_IDENTITY_NO_ASSIGN,
  SIM_IDENTITY_OTHER_TENANT,
  SIM_IDENTITY_WRAP_ONLY,
  SIM_NOPURGE_KEY,
  SIM_NOPURGE_KEY_VERSION,
  SIM_NOPURGE_VAULT,
  SIM_NOSOFTDELETE_KEY,
  SIM_NOSOFTDELETE_KEY_VERSION,
  SIM_NOSOFTDELETE_VAULT,
  SIM_OTHER_TENANT_ID,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_IDENTITY_WEST,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_KEY_VERSION_OLD,
  SIM_POLICY_KEY,
  SIM_POLICY_VAULT,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_RG_IDENTITIES_LOCKED,
  SIM_RG_WEST,
  SIM_ROTATED_KEY,
  SIM_ROTATED_KEY_VERSION_CURRENT,
  SIM_ROTATED_KEY_VERSION_OLD,
  SIM_SUBSCRIPTION_ID,
  SIM_TENANT_ID,
  SIM_WEST_VAULT,
  simIdentityId,
  simKeyId,
  simRoleDefinitionId,
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
    expect(bySub.body.value).toHaveLength(8); // with kv-cmk-group-policy
  });

  it('kv-no-purge: access-policy vault with soft delete but no purge protection (the property is absent, as ARM returns it)', async () => {
    const res = await call(sim, 'GET', simVaultId(SIM_NOPURGE_VAULT), { apiVersion: KV });
    expect(res.status).toBe(200);
    expect(shapeDiff(body200('Microsoft.KeyVault/2024-11-01/getVault.json'), res.body, ['properties.hsmPoolResourceId', 'properties.enablePurgeProtection'])).toEqual([]);
    expect(res.body).toMatchObject({ id: simVaultId(SIM_NOPURGE_VAULT), location: 'eastus' });
    expect(res.body.properties).toMatchObject({ tenantId: SIM_TENANT_ID, enableRbacAuthorization: false, enableSoftDelete: true, softDeleteRetentionInDays: 90 });
    expect(res.body.properties.enablePurgeProtection).toBeUndefined();
    expect(res.body.properties.accessPolicies).toEqual([{ tenantId: SIM_TENANT_ID, objectId: SIM_IDENTITY_PRINCIPAL_ID, permissions: { keys: ['get', 'wrapKey', 'unwrapKey'], secrets: [], certificates: [] } }]);
    const key = await call(sim, 'GET', simKeyId(SIM_NOPURGE_VAULT, SIM_NOPURGE_KEY), { apiVersion: KV });
    expect(key.body.properties).toMatchObject({ kty: 'RSA', keySize: 2048, attributes: { enabled: true, recoveryLevel: 'Recoverable+Purgeable' } });
    expect(key.body.properties.keyOps).toEqual(expect.arrayContaining(['wrapKey', 'unwrapKey']));
    expect(key.body.properties.attributes.exp).toBeGreaterThan(nowS() + 30 * 86400);
    const versions = await call(sim, 'GET', `${simKeyId(SIM_NOPURGE_VAULT, SIM_NOPURGE_KEY)}/versions`, { apiVersion: KV });
    expect(versions.body.value.map((v: { name: string }) => v.name)).toEqual([SIM_NOPURGE_KEY_VERSION]);
  });

  it('kv-no-softdelete: soft delete off, no retention, no purge protection; its keys are Purgeable', async () => {
    const res = await call(sim, 'GET', simVaultId(SIM_NOSOFTDELETE_VAULT), { apiVersion: KV });
    expect(res.body).toMatchObject({ id: simVaultId(SIM_NOSOFTDELETE_VAULT), location: 'eastus' });
    expect(res.body.properties).toMatchObject({ enableRbacAuthorization: false, enableSoftDelete: false });
    expect(res.body.properties.softDeleteRetentionInDays).toBeUndefined();
    expect(res.body.properties.enablePurgeProtection).toBeUndefined();
    expect(res.body.properties.accessPolicies.map((p: { objectId: string; permissions: { keys: string[] } }) => [p.objectId, p.permissions.keys])).toEqual([[SIM_IDENTITY_PRINCIPAL_ID, ['get', 'wrapKey', 'unwrapKey']]]);
    const key = await call(sim, 'GET', simKeyId(SIM_NOSOFTDELETE_VAULT, SIM_NOSOFTDELETE_KEY), { apiVersion: KV });
    expect(key.body.properties).toMatchObject({ kty: 'RSA', keySize: 2048, attributes: { enabled: true, recoveryLevel: 'Purgeable' } });
    expect(key.body.properties.keyUriWithVersion).toBe(`https://${SIM_NOSOFTDELETE_VAULT}.vault.azure.net:443/keys/${SIM_NOSOFTDELETE_KEY}/${SIM_NOSOFTDELETE_KEY_VERSION}`);
  });

  it('kv-cmk-firewall: eastus, firewall without the trusted-services bypass, and id-fluid-cmk holds the crypto role there', async () => {
    const res = await call(sim, 'GET', simVaultId(SIM_FIREWALL_VAULT), { apiVersion: KV });
    expect(res.body.location).toBe('eastus');
    expect(res.body.properties).toMatchObject({ enableRbacAuthorization: true, enableSoftDelete: true, enablePurgeProtection: true, networkAcls: { defaultAction: 'Deny', bypass: 'None' } });
    const roles = await call(sim, 'GET', `${simVaultId(SIM_FIREWALL_VAULT)}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`atScope() and assignedTo('${SIM_IDENTITY_PRINCIPAL_ID}')`)}`, {
      apiVersion: '2022-04-01',
    });
    expect(roles.body.value.map((a: { properties: { roleDefinitionId: string } }) => a.properties.roleDefinitionId)).toEqual([simRoleDefinitionId(BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser)]);
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

  it('rotated-cmk: GET returns the current version; the old version is enabled but expired', async () => {
    const key = await call(sim, 'GET', simKeyId(SIM_RBAC_VAULT, SIM_ROTATED_KEY), { apiVersion: KV });
    expect(shapeDiff(body200('Microsoft.KeyVault/2024-11-01/getKey.json'), key.body)).toEqual([]);
    expect(key.body.properties).toMatchObject({
      kty: 'RSA',
      keySize: 2048,
      keyUriWithVersion: `https://${SIM_RBAC_VAULT}.vault.azure.net:443/keys/${SIM_ROTATED_KEY}/${SIM_ROTATED_KEY_VERSION_CURRENT}`,
      attributes: { enabled: true, recoveryLevel: 'Recoverable' },
    });
    expect(key.body.properties.keyOps).toEqual(expect.arrayContaining(['wrapKey', 'unwrapKey']));
    expect(key.body.properties.attributes.exp - nowS()).toBeGreaterThan(650 * 86400);
    expect(key.body.properties.attributes.exp - nowS()).toBeLessThan(740 * 86400);

    const list = await call(sim, 'GET', `${simKeyId(SIM_RBAC_VAULT, SIM_ROTATED_KEY)}/versions`, { apiVersion: KV });
    expect(list.body.value.map((v: { name: string }) => v.name)).toEqual([SIM_ROTATED_KEY_VERSION_OLD, SIM_ROTATED_KEY_VERSION_CURRENT]);
    const old = await call(sim, 'GET', `${simKeyId(SIM_RBAC_VAULT, SIM_ROTATED_KEY)}/versions/${SIM_ROTATED_KEY_VERSION_OLD}`, { apiVersion: KV });
    expect(shapeDiff(body200('Microsoft.KeyVault/2024-11-01/getKeyVersion.json'), old.body)).toEqual([]);
    expect(old.body.properties).toMatchObject({ kty: 'RSA', keySize: 2048, attributes: { enabled: true } });
    expect(old.body.properties.attributes.exp).toBeLessThan(nowS());
    expect(old.body.properties.keyUriWithVersion).toBe(`https://${SIM_RBAC_VAULT}.vault.azure.net:443/keys/${SIM_ROTATED_KEY}/${SIM_ROTATED_KEY_VERSION_OLD}`);
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
    const versions = Object.entries(seedIds).filter(([k]) => k.includes('_VERSION'));
    expect(versions.length).toBeGreaterThan(15);
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
    expect(props).toHaveLength(9);
    const all = props.flatMap((p: { principalId: string; clientId: string }) => [p.principalId, p.clientId]);
    expect(new Set(all).size).toBe(18);
  });

  it('seeds the unusual identities in eastus, with their exported ids', async () => {
    const cases: [string, string, string, string, string][] = [
      [SIM_IDENTITY_OTHER_TENANT, SIM_RG, seedIds.SIM_IDENTITY_OTHER_TENANT_PRINCIPAL_ID, seedIds.SIM_IDENTITY_OTHER_TENANT_CLIENT_ID, SIM_OTHER_TENANT_ID],
      [SIM_IDENTITY_WRAP_ONLY, SIM_RG, seedIds.SIM_IDENTITY_WRAP_ONLY_PRINCIPAL_ID, seedIds.SIM_IDENTITY_WRAP_ONLY_CLIENT_ID, SIM_TENANT_ID],
      [SIM_IDENTITY_INHERITED, SIM_RG, seedIds.SIM_IDENTITY_INHERITED_PRINCIPAL_ID, seedIds.SIM_IDENTITY_INHERITED_CLIENT_ID, SIM_TENANT_ID],
      [SIM_IDENTITY_CUSTOM_ROLE, SIM_RG, seedIds.SIM_IDENTITY_CUSTOM_ROLE_PRINCIPAL_ID, seedIds.SIM_IDENTITY_CUSTOM_ROLE_CLIENT_ID, SIM_TENANT_ID],
      [SIM_IDENTITY_NO_ASSIGN, SIM_RG_IDENTITIES_LOCKED, seedIds.SIM_IDENTITY_NO_ASSIGN_PRINCIPAL_ID, seedIds.SIM_IDENTITY_NO_ASSIGN_CLIENT_ID, SIM_TENANT_ID],
    ];
    for (const [name, rg, principalId, clientId, tenantId] of cases) {
      const res = await call(sim, 'GET', simIdentityId(name), { apiVersion: MI });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`,
        name,
        location: 'eastus',
        properties: { principalId, clientId, tenantId },
      });
    }
    const locked = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG_IDENTITIES_LOCKED}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, {
      apiVersion: MI,
    });
    expect(locked.body.value.map((i: { name: string }) => i.name)).toEqual([SIM_IDENTITY_NO_ASSIGN]);
  });

  it('lists by resource group and creates one with PUT', async () => {
    const rg = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, { apiVersion: MI });
    expect(rg.body.value.map((i: { name: string }) => i.name)).toEqual([SIM_IDENTITY, SIM_IDENTITY_NO_ACCESS, SIM_IDENTITY_OTHER_TENANT, SIM_IDENTITY_WRAP_ONLY, SIM_IDENTITY_INHERITED, SIM_IDENTITY_CUSTOM_ROLE, SIM_IDENTITY_GROUP_MEMBER]);
    const created = await call(sim, 'PUT', simIdentityId('id-new'), { apiVersion: MI, body: { location: 'eastus' } });
    expect(created.status).toBe(201);
    expect(created.body.properties.principalId).toMatch(/^[0-9a-f-]{36}$/);
    const again = await call(sim, 'PUT', simIdentityId('id-new'), { apiVersion: MI, body: { location: 'eastus', tags: { a: 'b' } } });
    expect(again.status).toBe(200);
    expect(again.body.properties.principalId).toBe(created.body.properties.principalId);
  });
});
