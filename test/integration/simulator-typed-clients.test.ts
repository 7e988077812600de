// Azure's own typed management clients, at their DEFAULT api-versions (no apiVersion option
// anywhere), read every seeded resource of the types they cover from the simulator, and the
// typed results carry the seeded values. (@azure/arm-keyvault 5 and @azure/arm-storage 20+ are
// TypeSpec clients whose models flatten `properties`.) Dev dependencies only: the product uses its own gateway.
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ChaosManagementClient } from '@azure/arm-chaos';
import { KeyVaultManagementClient } from '@azure/arm-keyvault';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { StorageManagementClient } from '@azure/arm-storage';
import {
  BUILTIN_ROLE_IDS,
  SIM_CHAOS_CMK,
  SIM_CHAOS_CONTAINER,
  SIM_CHAOS_EXISTING,
  SIM_IDENTITY,
  SIM_IDENTITY_CLIENT_ID,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_KEY_VERSION_OLD,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_STORAGE_CMK,
  SIM_SUBSCRIPTION_ID,
  SIM_SUBSCRIPTION2_ID,
  SIM_SUBSCRIPTION3_ID,
  SIM_TENANT_ID,
  simSeededRoleAssignmentId,
  simStorageId,
  simSubscriptionId,
  startSimulator,
  type SimResource,
  type Simulator,
} from '../../src/simulator';
import { simCredential } from '../fixtures/azure-rest/helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
afterEach(() => sim.reset());

/** Endpoint + trust of the simulator's CA; no api-version anywhere. */
const opts = () => ({ endpoint: sim.endpoint, tlsOptions: { ca: sim.ca }, retryOptions: { maxRetries: 0 } });

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const seeded = (type: string) => sim.state.ofType(type);
const rgOf = (r: SimResource) => r.id.split('/')[4]!;
/** The api-versions the client sent to a provider namespace (its defaults: nothing overrides them here). */
const versionsSentTo = (ns: string) => [...new Set(sim.requests.filter((r) => r.path.toLowerCase().includes(`/providers/${ns.toLowerCase()}/`)).map((r) => r.query['api-version']))];

describe('@azure/arm-keyvault (default api-version)', () => {
  it('reads every seeded vault, key and key version with the values seeded', async () => {
    const kv = new KeyVaultManagementClient(simCredential, SIM_SUBSCRIPTION_ID, opts());
    const vaults = seeded('Microsoft.KeyVault/vaults');
    // vaults.list goes through the generic resource list (api-version 2015-11-01, fixed in the SDK).
    const listed = await all(kv.vaults.list());
    expect(listed.map((v) => v.name).sort()).toEqual(vaults.map((v) => v.name).sort());
    for (const vault of vaults) {
      const got = await kv.vaults.get(rgOf(vault), vault.name);
      const p = vault.properties as { enableRbacAuthorization: boolean; tenantId: string; vaultUri: string };
      expect(got.properties.vaultUri).toBe(p.vaultUri);
      expect(got.properties.tenantId).toBe(p.tenantId);
      expect(got.properties.enableRbacAuthorization).toBe(p.enableRbacAuthorization);
      expect(got.location).toBe(vault.location);
      const keys = await all(kv.keys.list(rgOf(vault), vault.name));
      expect(keys.map((k) => k.name).sort()).toEqual(
        sim.state
          .ofType('Microsoft.KeyVault/vaults/keys', vault.id)
          .map((k) => k.name)
          .sort(),
      );
      for (const key of keys) {
        const one = await kv.keys.get(rgOf(vault), vault.name, key.name!);
        expect(one.keyUri).toBe(`https://${vault.name}.vault.azure.net:443/keys/${key.name}`);
        const versions = await all(kv.keys.listVersions(rgOf(vault), vault.name, key.name!));
        expect(versions.length).toBeGreaterThan(0);
        for (const v of versions) {
          const version = await kv.keys.getVersion(rgOf(vault), vault.name, key.name!, v.name!);
          expect(version.keyUriWithVersion).toBe(`${one.keyUri}/${v.name}`);
        }
      }
    }
    const cmk = await kv.keys.get(SIM_RG, SIM_RBAC_VAULT, SIM_KEY);
    expect(cmk.kty).toBe('RSA');
    expect(cmk.keySize).toBe(3072);
    expect(cmk.keyUriWithVersion).toContain(SIM_KEY_VERSION_CURRENT);
    const old = await kv.keys.getVersion(SIM_RG, SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_OLD);
    expect(old.attributes?.enabled).toBe(true);
    const seededOld = sim.state.get(`${sim.state.ofType('Microsoft.KeyVault/vaults').find((v) => v.name === SIM_RBAC_VAULT)!.id}/keys/${SIM_KEY}/versions/${SIM_KEY_VERSION_OLD}`)!;
    expect(old.attributes?.expires).toBe((seededOld.properties as { attributes: { exp: number } }).attributes.exp);
    expect(versionsSentTo('Microsoft.KeyVault')).toEqual(['2026-02-01']);
    expect(sim.requests.every((r) => r.status === 200)).toBe(true);
  });
});

describe('@azure/arm-msi (default api-version)', () => {
  it('reads every seeded user-assigned identity with its principal and client ids', async () => {
    const msi = new ManagedServiceIdentityClient(simCredential, SIM_SUBSCRIPTION_ID, opts());
    const identities = seeded('Microsoft.ManagedIdentity/userAssignedIdentities');
    const bySub = await all(msi.userAssignedIdentities.listBySubscription());
    expect(bySub.map((i) => i.name).sort()).toEqual(identities.map((i) => i.name).sort());
    for (const identity of identities) {
      const got = await msi.userAssignedIdentities.get(rgOf(identity), identity.name);
      const p = identity.properties as { principalId: string; clientId: string; tenantId: string };
      expect([got.principalId, got.clientId, got.tenantId]).toEqual([p.principalId, p.clientId, p.tenantId]);
    }
    expect(versionsSentTo('Microsoft.ManagedIdentity')).toEqual(['2024-11-30']);
    const main = await msi.userAssignedIdentities.get(SIM_RG, SIM_IDENTITY);
    expect([main.principalId, main.clientId, main.tenantId]).toEqual([SIM_IDENTITY_PRINCIPAL_ID, SIM_IDENTITY_CLIENT_ID, SIM_TENANT_ID]);
  });
});

describe('@azure/arm-authorization (default api-versions)', () => {
  it('reads every seeded role assignment and role definition', async () => {
    const auth = new AuthorizationManagementClient(simCredential, SIM_SUBSCRIPTION_ID, opts());
    const assignments = seeded('Microsoft.Authorization/roleAssignments');
    const listed = [
      ...(await all(auth.roleAssignments.listForSubscription())),
      ...(await all(auth.roleAssignments.listForScope(simSubscriptionId(SIM_SUBSCRIPTION2_ID)))),
      ...(await all(auth.roleAssignments.listForScope(simSubscriptionId(SIM_SUBSCRIPTION3_ID)))),
    ];
    for (const a of assignments) {
      expect(listed.map((x) => x.id?.toLowerCase())).toContain(a.id.toLowerCase());
      const got = await auth.roleAssignments.getById(a.id);
      const p = a.properties as { principalId: string; roleDefinitionId: string; scope: string };
      expect([got.principalId, got.roleDefinitionId, got.scope]).toEqual([p.principalId, p.roleDefinitionId, p.scope]);
    }
    const crypto = await auth.roleAssignments.getById(simSeededRoleAssignmentId('identityCryptoOnRbacVault'));
    expect(crypto.principalId).toBe(SIM_IDENTITY_PRINCIPAL_ID);
    expect(crypto.roleDefinitionId).toContain(BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser);

    const roles = seeded('Microsoft.Authorization/roleDefinitions');
    const listedRoles = await all(auth.roleDefinitions.list(simSubscriptionId()));
    expect(listedRoles.map((r) => r.name).sort()).toEqual(roles.map((r) => r.name).sort());
    for (const role of roles) {
      const got = await auth.roleDefinitions.get(simSubscriptionId(), role.name);
      expect(got.roleName).toBe((role.properties as { roleName: string }).roleName);
    }
    expect(versionsSentTo('Microsoft.Authorization')).toEqual(['2022-04-01']);
    expect(sim.requests.every((r) => r.status === 200)).toBe(true);
    const ops = await all(auth.permissions.listForResourceGroup(SIM_RG));
    expect(ops.some((p) => p.actions?.includes('*'))).toBe(true);
  });
});

describe('@azure/arm-storage (default api-version)', () => {
  it('reads every seeded storage account and blob container, CMK settings included', async () => {
    const st = new StorageManagementClient(simCredential, SIM_SUBSCRIPTION_ID, opts());
    const accounts = seeded('Microsoft.Storage/storageAccounts');
    const listed = await all(st.storageAccounts.list());
    expect(listed.map((a) => a.name).sort()).toEqual(accounts.map((a) => a.name).sort());
    for (const account of accounts) {
      const got = await st.storageAccounts.getProperties(rgOf(account), account.name);
      const enc = (account.properties as { encryption: { keySource: string } }).encryption;
      expect(got.encryption?.keySource).toBe(enc.keySource);
      const containers = await all(st.blobContainers.list(rgOf(account), account.name));
      expect(containers.map((c) => c.name).sort()).toEqual(
        sim.state
          .ofType('Microsoft.Storage/storageAccounts/blobServices/containers', account.id)
          .map((c) => c.name)
          .sort(),
      );
      for (const c of containers) expect((await st.blobContainers.get(rgOf(account), account.name, c.name!)).name).toBe(c.name);
    }
    const cmk = await st.storageAccounts.getProperties(SIM_RG, SIM_STORAGE_CMK);
    expect(cmk.id).toBe(simStorageId(SIM_STORAGE_CMK));
    expect(cmk.encryption?.keyVaultProperties?.keyName).toBe(SIM_KEY);
    expect(cmk.encryption?.keyVaultProperties?.currentVersionedKeyIdentifier).toContain(SIM_KEY_VERSION_CURRENT);
    expect(cmk.encryption?.encryptionIdentity?.encryptionUserAssignedIdentity).toContain(SIM_IDENTITY);
    expect((await st.blobContainers.get(SIM_RG, SIM_STORAGE_CMK, SIM_CHAOS_CONTAINER)).publicAccess).toBe('None');
    expect(versionsSentTo('Microsoft.Storage')).toEqual(['2026-09-01']);
    expect(sim.requests.every((r) => r.status === 200)).toBe(true);
  });
});

describe('@azure/arm-chaos (default api-version)', () => {
  it('reads every seeded experiment (the GA model has no customerDataStorage)', async () => {
    const chaos = new ChaosManagementClient(simCredential, SIM_SUBSCRIPTION_ID, opts());
    const experiments = seeded('Microsoft.Chaos/experiments');
    const listed = await all(chaos.experiments.listAll());
    expect(listed.map((e) => e.name).sort()).toEqual(experiments.map((e) => e.name).sort());
    for (const name of [SIM_CHAOS_EXISTING, SIM_CHAOS_CMK]) {
      const got = await chaos.experiments.get(SIM_RG, name);
      expect(got.identity?.type).toBe('UserAssigned');
      expect(got.selectors.length).toBeGreaterThan(0);
      expect(got.steps.length).toBeGreaterThan(0);
      expect((got as unknown as Record<string, unknown>)['customerDataStorage']).toBeUndefined();
    }
    expect(versionsSentTo('Microsoft.Chaos')).toEqual(['2023-11-01']);
    expect(sim.requests.every((r) => r.status === 200)).toBe(true);
  });
});
