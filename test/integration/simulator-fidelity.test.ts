// Simulator fidelity, part 2 (issue 13 item 7): what the simulator used to get wrong against
// Azure's published specs and docs, each over HTTPS against the running simulator.
import {
  CHAOS_ERROR_CODES,
  CMK_ERROR_CODE,
  SIM_NOPURGE_KEY,
  SIM_NOPURGE_VAULT,
  SIM_CROSS_TENANT_APP_CLIENT_ID,
  SIM_OTHER_TENANT_KEY,
  SIM_OTHER_TENANT_VAULT,
  SIM_GROUP_CRYPTO,
  SIM_GROUP_CRYPTO_NAME,
  SIM_GROUP_POLICY_KEY,
  SIM_GROUP_POLICY_VAULT,
  SIM_GROUP_TEAM,
  SIM_IDENTITY_GROUP_MEMBER,
  SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_RBAC_VAULT,
  SIM_KEY,
  simKeyUrl,
  simSeededRoleAssignmentId,
  simVaultId,
  SIM_CHAOS_CMK,
  SIM_HSM_KEY,
  SIM_HSM_KEY_VERSION,
  SIM_IDENTITY,
  SIM_IDENTITY_NO_ACCESS,
  SIM_MANAGED_HSM,
  SIM_RG,
  SIM_STORAGE_NO_CMK,
  SIM_STORAGE_CMK,
  SIM_SUBSCRIPTION_ID,
  simChaosId,
  simFluidRelayId,
  simHsmKeyUrl,
  simManagedHsmId,
  simChaosVmTargetId,
  simIdentityId,
  simStorageId,
  startSimulator,
  type Simulator,
} from '../../src/simulator';
import { call, type Json } from '../fixtures/azure-rest/helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.setLro({ retryAfterSeconds: 0 });
});

/** GET of an absolute URL the simulator handed out (Azure-AsyncOperation / Location). */
const follow = (url: string) => call(sim, 'GET', url.slice(sim.endpoint.length));

describe('Chaos Studio 2026-11-01 (GA) carries customerDataStorage', () => {
  const V = '2026-11-01';
  /** The shape of stable/2026-11-01 Experiments_CreateOrUpdate, on seeded resources. */
  function experiment(o: { identityType?: string; cds?: boolean } = {}): Json {
    const type = o.identityType ?? 'UserAssigned';
    return {
      location: 'eastus',
      identity: { type, ...(type.includes('UserAssigned') ? { userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } } : {}) },
      tags: { owner: 'chatops' },
      properties: {
        ...(o.cds === false ? {} : { customerDataStorage: { blobContainerName: 'azurechaosstudioexperiments', storageAccountResourceId: simStorageId(SIM_STORAGE_CMK) } }),
        selectors: [{ type: 'List', id: 'selector1', targets: [{ type: 'ChaosTarget', id: simChaosVmTargetId() }] }],
        steps: [
          {
            name: 'step1',
            branches: [
              {
                name: 'branch1',
                actions: [{ name: 'urn:csci:microsoft:virtualMachine:shutdown/1.0', type: 'continuous', duration: 'PT10M', parameters: [{ key: 'abruptShutdown', value: 'false' }], selectorId: 'selector1' }],
              },
            ],
          },
        ],
      },
    };
  }

  it('is served: GET of the seeded CMK experiment shows customerDataStorage (2025-01-01 still leaves it out)', async () => {
    const ga = await call(sim, 'GET', simChaosId(SIM_CHAOS_CMK), { apiVersion: V });
    expect(ga.status).toBe(200);
    expect(ga.body.properties.customerDataStorage).toEqual({ storageAccountResourceId: simStorageId(SIM_STORAGE_CMK), blobContainerName: expect.any(String) });
    const old = await call(sim, 'GET', simChaosId(SIM_CHAOS_CMK), { apiVersion: '2025-01-01' });
    expect(old.body.properties.customerDataStorage).toBeUndefined();
    const list = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.Chaos/experiments`, { apiVersion: V });
    const cmk = list.body.value.find((e: Json) => e.name === SIM_CHAOS_CMK);
    expect(cmk.properties.customerDataStorage.storageAccountResourceId).toBe(simStorageId(SIM_STORAGE_CMK));
  });

  it('creates a CMK experiment: 201 Creating with customerDataStorage and Azure-AsyncOperation, then Succeeded', async () => {
    const res = await call(sim, 'PUT', simChaosId('chaos-2611'), { apiVersion: V, body: experiment() });
    expect(res.status).toBe(201);
    expect(res.body.properties.provisioningState).toBe('Creating');
    expect(res.body.properties.customerDataStorage.blobContainerName).toBe('azurechaosstudioexperiments');
    expect(res.headers['azure-asyncoperation']).toContain('api-version=2026-11-01');
    let status = await follow(String(res.headers['azure-asyncoperation']));
    while (status.body.status !== 'Succeeded') status = await follow(String(res.headers['azure-asyncoperation']));
    const got = await call(sim, 'GET', simChaosId('chaos-2611'), { apiVersion: V });
    expect(got.body.properties.provisioningState).toBe('Succeeded');
    expect(got.body.properties.customerDataStorage.storageAccountResourceId).toBe(simStorageId(SIM_STORAGE_CMK));
  });

  it('applies the CMK checks (a system-assigned identity is refused) and accepts the v5 identity "SystemAssigned,UserAssigned"', async () => {
    const sys = await call(sim, 'PUT', simChaosId('chaos-2611-sys'), { apiVersion: V, body: experiment({ identityType: 'SystemAssigned' }) });
    expect([sys.status, sys.body.error?.code]).toEqual([400, CHAOS_ERROR_CODES.UserAssignedIdentityRequired]);
    const both = await call(sim, 'PUT', simChaosId('chaos-2611-both'), { apiVersion: V, body: experiment({ identityType: 'SystemAssigned,UserAssigned' }) });
    expect(both.status).toBe(201);
  });

  it('PATCH takes identity and tags and answers 202 without a body; the experiment keeps customerDataStorage', async () => {
    const res = await call(sim, 'PATCH', simChaosId(SIM_CHAOS_CMK), { apiVersion: V, body: { tags: { k: 'v' } } });
    expect(res.status).toBe(202);
    expect(res.text).toBe('');
    expect(res.headers['location']).toBeDefined();
    let r = await follow(String(res.headers['location']));
    while (r.status === 202) r = await follow(String(res.headers['location']));
    expect(r.status).toBe(200);
    expect(r.body.tags).toEqual({ k: 'v' });
    expect(r.body.properties.customerDataStorage.storageAccountResourceId).toBe(simStorageId(SIM_STORAGE_CMK));
  });
});

describe('Managed HSM keys are accepted by Fluid Relay and Storage', () => {
  const HSM_URI = `https://${SIM_MANAGED_HSM}.managedhsm.azure.net`;

  it('serves the seeded managed HSM and its key (ManagedHsms_Get / ManagedHsmKeys_Get shapes)', async () => {
    const hsm = await call(sim, 'GET', simManagedHsmId(SIM_MANAGED_HSM), { apiVersion: '2026-02-01' });
    expect(hsm.status).toBe(200);
    expect(hsm.body).toMatchObject({
      type: 'Microsoft.KeyVault/managedHSMs',
      sku: { family: 'B', name: 'Standard_B1' },
      properties: { hsmUri: `${HSM_URI}/`, enableSoftDelete: true, enablePurgeProtection: true, provisioningState: 'Succeeded' },
    });
    const list = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.KeyVault/managedHSMs`, { apiVersion: '2026-02-01' });
    expect(list.body.value.map((h: Json) => h.name)).toEqual([SIM_MANAGED_HSM]);
    const key = await call(sim, 'GET', `${simManagedHsmId(SIM_MANAGED_HSM)}/keys/${SIM_HSM_KEY}`, { apiVersion: '2026-02-01' });
    expect(key.status).toBe(200);
    expect(key.body).toMatchObject({ type: 'Microsoft.KeyVault/managedHSMs/keys', properties: { kty: 'RSA-HSM', keyUri: simHsmKeyUrl(SIM_MANAGED_HSM, SIM_HSM_KEY) } });
    const version = await call(sim, 'GET', `${simManagedHsmId(SIM_MANAGED_HSM)}/keys/${SIM_HSM_KEY}/versions/${SIM_HSM_KEY_VERSION}`, { apiVersion: '2026-02-01' });
    expect(version.body.properties.keyUriWithVersion).toBe(simHsmKeyUrl(SIM_MANAGED_HSM, SIM_HSM_KEY, SIM_HSM_KEY_VERSION));
    // managedHSMs/keys appeared in 2022-11-01: an older version is ARM's InvalidResourceType.
    expect((await call(sim, 'GET', `${simManagedHsmId(SIM_MANAGED_HSM)}/keys/${SIM_HSM_KEY}`, { apiVersion: '2021-10-01' })).status).toBe(404);
  });

  function frBody(keyUrl: string, identity = SIM_IDENTITY): Json {
    return {
      location: 'eastus',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(identity)]: {} } },
      properties: {
        storagesku: 'basic',
        encryption: { customerManagedKeyEncryption: { keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: simIdentityId(identity) }, keyEncryptionKeyUrl: keyUrl } },
      },
    };
  }

  it('Fluid Relay: a server with a managed HSM key URL (versionless or pinned) is created', async () => {
    const res = await call(sim, 'PUT', simFluidRelayId('fr-hsm'), { apiVersion: '2022-06-01', body: frBody(simHsmKeyUrl(SIM_MANAGED_HSM, SIM_HSM_KEY)) });
    expect(res.status).toBe(200);
    expect(res.body.properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl).toBe(simHsmKeyUrl(SIM_MANAGED_HSM, SIM_HSM_KEY));
    const pinned = await call(sim, 'PUT', simFluidRelayId('fr-hsm-pinned'), { apiVersion: '2022-06-01', body: frBody(simHsmKeyUrl(SIM_MANAGED_HSM, SIM_HSM_KEY, SIM_HSM_KEY_VERSION)) });
    expect(pinned.status).toBe(200);
  });

  it('Fluid Relay: an identity without the HSM’s local role is refused (KeyAccessDenied), an unknown HSM is KeyVaultNotFound', async () => {
    const denied = await call(sim, 'PUT', simFluidRelayId('fr-hsm-denied'), { apiVersion: '2022-06-01', body: frBody(simHsmKeyUrl(SIM_MANAGED_HSM, SIM_HSM_KEY), SIM_IDENTITY_NO_ACCESS) });
    expect([denied.status, denied.body.error.code, denied.body.error.details[0].code]).toEqual([400, CMK_ERROR_CODE, 'KeyAccessDenied']);
    const nowhere = await call(sim, 'PUT', simFluidRelayId('fr-hsm-nowhere'), { apiVersion: '2022-06-01', body: frBody(simHsmKeyUrl('hsm-nowhere', SIM_HSM_KEY)) });
    expect(nowhere.body.error.details[0].code).toBe('KeyVaultNotFound');
  });

  const storageCmk = (identity: string, keyvaulturi = HSM_URI) => ({
    identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(identity)]: {} } },
    properties: { encryption: { keySource: 'Microsoft.Keyvault', identity: { userAssignedIdentity: simIdentityId(identity) }, keyvaultproperties: { keyvaulturi, keyname: SIM_HSM_KEY, keyversion: '' } } },
  });

  it('Storage: keyvaulturi on a managed HSM is accepted and GET names the HSM key version in use', async () => {
    const res = await call(sim, 'PATCH', simStorageId(SIM_STORAGE_NO_CMK), { apiVersion: '2025-01-01', body: storageCmk(SIM_IDENTITY) });
    expect(res.status).toBe(200);
    expect(res.body.properties.encryption.keySource).toBe('Microsoft.Keyvault');
    expect(res.body.properties.encryption.keyvaultproperties.currentVersionedKeyIdentifier).toBe(`${HSM_URI}/keys/${SIM_HSM_KEY}/${SIM_HSM_KEY_VERSION}`);
  });

  it('Storage: an identity without the HSM’s local role is refused with KeyVaultAuthenticationFailure', async () => {
    const res = await call(sim, 'PATCH', simStorageId(SIM_STORAGE_NO_CMK), { apiVersion: '2025-01-01', body: storageCmk(SIM_IDENTITY_NO_ACCESS) });
    expect([res.status, res.body.error.code]).toEqual([400, 'KeyVaultAuthenticationFailure']);
  });
});

describe('group membership: assignedTo(), RBAC and access policies through groups, and Microsoft Graph', () => {
  const assignments = (scope: string, filter: string) => call(sim, 'GET', `${scope}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(filter)}`, { apiVersion: '2022-04-01' });

  it('assignedTo() returns the group’s assignment to a member of a nested group; principalId eq only direct ones', async () => {
    const viaGroup = await assignments(simVaultId(SIM_RBAC_VAULT), `assignedTo('${SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID}')`);
    expect(viaGroup.status).toBe(200);
    expect(viaGroup.body.value.map((a: Json) => a.id)).toEqual([simSeededRoleAssignmentId('groupCryptoOnRbacVault')]);
    expect(viaGroup.body.value[0].properties).toMatchObject({ principalId: SIM_GROUP_CRYPTO, principalType: 'Group' });
    const direct = await assignments(simVaultId(SIM_RBAC_VAULT), `principalId eq '${SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID}'`);
    expect(direct.body.value).toEqual([]);
    // A principal in no group sees the same through both filters.
    const own = await assignments(simVaultId(SIM_RBAC_VAULT), `assignedTo('${SIM_IDENTITY_PRINCIPAL_ID}')`);
    const ownEq = await assignments(simVaultId(SIM_RBAC_VAULT), `principalId eq '${SIM_IDENTITY_PRINCIPAL_ID}'`);
    expect(own.body.value.map((a: Json) => a.id).sort()).toEqual(ownEq.body.value.map((a: Json) => a.id).sort());
  });

  function frBody(keyUrl: string, identity: string): Json {
    return {
      location: 'eastus',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(identity)]: {} } },
      properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: simIdentityId(identity) }, keyEncryptionKeyUrl: keyUrl } } },
    };
  }

  it('a key write honours access granted through a group: RBAC (kv-cmk-rbac) and an access policy naming the group (kv-cmk-group-policy)', async () => {
    const rbac = await call(sim, 'PUT', simFluidRelayId('fr-group-rbac'), { apiVersion: '2022-06-01', body: frBody(simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), SIM_IDENTITY_GROUP_MEMBER) });
    expect(rbac.status).toBe(200);
    const policy = await call(sim, 'PUT', simFluidRelayId('fr-group-policy'), { apiVersion: '2022-06-01', body: frBody(simKeyUrl(SIM_GROUP_POLICY_VAULT, SIM_GROUP_POLICY_KEY), SIM_IDENTITY_GROUP_MEMBER) });
    expect(policy.status).toBe(200);
    const vault = await call(sim, 'GET', simVaultId(SIM_GROUP_POLICY_VAULT), { apiVersion: '2026-02-01' });
    expect(vault.body.properties.accessPolicies.map((p: Json) => p.objectId)).toEqual([SIM_GROUP_CRYPTO]);
    // Out of the group, the same identity is refused.
    sim.state.patch(`/directory/groups/${SIM_GROUP_TEAM}`, { properties: { members: [] } });
    const out = await call(sim, 'PUT', simFluidRelayId('fr-group-out'), { apiVersion: '2022-06-01', body: frBody(simKeyUrl(SIM_GROUP_POLICY_VAULT, SIM_GROUP_POLICY_KEY), SIM_IDENTITY_GROUP_MEMBER) });
    expect(out.body.error.details[0].code).toBe('KeyAccessDenied');
  });

  it('Graph checkMemberGroups and transitiveMemberOf answer transitive membership', async () => {
    const check = await call(sim, 'POST', `/v1.0/directoryObjects/${SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID}/checkMemberGroups`, { body: { groupIds: [SIM_GROUP_CRYPTO, '88888888-8888-4888-8888-888888888899'] } });
    expect(check.status).toBe(200);
    expect(check.body).toEqual({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)', value: [SIM_GROUP_CRYPTO] });
    const none = await call(sim, 'POST', `/v1.0/directoryObjects/${SIM_IDENTITY_PRINCIPAL_ID}/checkMemberGroups`, { body: { groupIds: [SIM_GROUP_CRYPTO] } });
    expect(none.body.value).toEqual([]);
    const tmo = await call(sim, 'GET', `/v1.0/servicePrincipals/${SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID}/transitiveMemberOf`);
    expect(tmo.status).toBe(200);
    expect(tmo.body.value.map((g: Json) => [g['@odata.type'], g.id]).sort()).toEqual(
      [
        ['#microsoft.graph.group', SIM_GROUP_CRYPTO],
        ['#microsoft.graph.group', SIM_GROUP_TEAM],
      ].sort(),
    );
    expect(tmo.body.value.find((g: Json) => g.id === SIM_GROUP_CRYPTO).displayName).toBe(SIM_GROUP_CRYPTO_NAME);
    const unknown = await call(sim, 'GET', '/v1.0/servicePrincipals/00000000-0000-4000-8000-000000000000/transitiveMemberOf');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'Request_ResourceNotFound']);
  });

  it('without the Graph permission both answer 403 Authorization_RequestDenied (reset() restores it)', async () => {
    sim.setGraphPermission(false);
    const check = await call(sim, 'POST', `/v1.0/directoryObjects/${SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID}/checkMemberGroups`, { body: { groupIds: [SIM_GROUP_CRYPTO] } });
    expect([check.status, check.body.error.code, check.body.error.message]).toEqual([403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.']);
    const tmo = await call(sim, 'GET', `/v1.0/servicePrincipals/${SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID}/transitiveMemberOf`);
    expect(tmo.status).toBe(403);
    sim.reset();
    expect((await call(sim, 'GET', `/v1.0/servicePrincipals/${SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID}/transitiveMemberOf`)).status).toBe(200);
  });
});

describe('cross-tenant Storage CMK with encryption.identity.federatedIdentityClientId', () => {
  const crossTenant = (o: { identity?: string; clientId?: string | null } = {}) => {
    const identity = o.identity ?? SIM_IDENTITY;
    return {
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(identity)]: {} } },
      properties: {
        encryption: {
          keySource: 'Microsoft.Keyvault',
          identity: { userAssignedIdentity: simIdentityId(identity), ...(o.clientId === null ? {} : { federatedIdentityClientId: o.clientId ?? SIM_CROSS_TENANT_APP_CLIENT_ID }) },
          keyvaultproperties: { keyvaulturi: `https://${SIM_OTHER_TENANT_VAULT}.vault.azure.net`, keyname: SIM_OTHER_TENANT_KEY, keyversion: '' },
        },
      },
    };
  };
  const patchNoCmk = (body: unknown) => call(sim, 'PATCH', simStorageId(SIM_STORAGE_NO_CMK), { apiVersion: '2025-01-01', body });

  it('accepts a vault in another tenant through the multi-tenant application (200, federatedIdentityClientId kept)', async () => {
    const res = await patchNoCmk(crossTenant());
    expect(res.status).toBe(200);
    expect(res.body.properties.encryption.identity).toEqual({ userAssignedIdentity: simIdentityId(SIM_IDENTITY), federatedIdentityClientId: SIM_CROSS_TENANT_APP_CLIENT_ID });
    expect(res.body.properties.encryption.keyvaultproperties.keyvaulturi).toBe(`https://${SIM_OTHER_TENANT_VAULT}.vault.azure.net`);
  });

  it('without federatedIdentityClientId the same vault is still KeyVaultTenantMismatch', async () => {
    const res = await patchNoCmk(crossTenant({ clientId: null }));
    expect([res.status, res.body.error.code]).toEqual([400, 'KeyVaultTenantMismatch']);
  });

  it('an unknown application, or an identity its federated credential does not trust, cannot authenticate (KeyVaultAuthenticationFailure)', async () => {
    const unknown = await patchNoCmk(crossTenant({ clientId: '99999999-9999-4999-8999-999999999999' }));
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'KeyVaultAuthenticationFailure']);
    const untrusted = await patchNoCmk(crossTenant({ identity: SIM_IDENTITY_NO_ACCESS }));
    expect([untrusted.status, untrusted.body.error.code]).toEqual([400, 'KeyVaultAuthenticationFailure']);
  });
});

describe('Storage error codes as Azure is seen to return them', () => {
  const patchNoCmk = (encryption: Json) =>
    call(sim, 'PATCH', simStorageId(SIM_STORAGE_NO_CMK), {
      apiVersion: '2025-01-01',
      body: { identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } }, properties: { encryption: { identity: { userAssignedIdentity: simIdentityId(SIM_IDENTITY) }, ...encryption } } },
    });

  it('a vault without purge protection: KeyVaultPolicyError "Keyvault policy recoverable is not set" (Azure/azure-cli#12346, #17914)', async () => {
    const res = await patchNoCmk({ keySource: 'Microsoft.Keyvault', keyvaultproperties: { keyvaulturi: `https://${SIM_NOPURGE_VAULT}.vault.azure.net`, keyname: SIM_NOPURGE_KEY, keyversion: '' } });
    expect([res.status, res.body.error.code]).toEqual([400, 'KeyVaultPolicyError']);
    expect(res.body.error.message).toMatch(/^Keyvault policy recoverable is not set/);
  });

  it('keySource Microsoft.Keyvault without keyvaultproperties: MissingKeyvaultProperties (hashicorp/terraform-provider-azurerm#658)', async () => {
    const res = await patchNoCmk({ keySource: 'Microsoft.Keyvault' });
    expect([res.status, res.body.error.code, res.body.error.message]).toEqual([400, 'MissingKeyvaultProperties', 'The encryption keyvault properties are missing from the request.']);
  });
});
