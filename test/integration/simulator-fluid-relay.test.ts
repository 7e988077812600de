// Microsoft.FluidRelay/fluidRelayServers in the simulator: the CMK example, validation, create-only rules.
import { ResourceManagementClient } from '@azure/arm-resources';
import {
  BUILTIN_ROLE_IDS,
  CMK_ERROR_CODE,
  SIM_BOT_PRINCIPAL_ID,
  SIM_DISABLED_KEY,
  SIM_EC_KEY,
  SIM_EXPIRED_KEY,
  SIM_FIREWALL_KEY,
  SIM_FIREWALL_VAULT,
  SIM_FLUID_CMK,
  SIM_FLUID_EXISTING,
  SIM_FLUID_STALE,
  SIM_IDENTITY,
  SIM_IDENTITY_CLIENT_ID,
  SIM_IDENTITY_CUSTOM_ROLE,
  SIM_IDENTITY_INHERITED,
  SIM_IDENTITY_NO_ASSIGN,
  SIM_IDENTITY_OTHER_TENANT,
  SIM_IDENTITY_WRAP_ONLY,
  SIM_IDENTITY_NO_ACCESS,
  SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_IDENTITY_WEST,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_KEY_VERSION_OLD,
  SIM_NOT_YET_VALID_KEY,
  SIM_NO_WRAP_KEY,
  SIM_NOPURGE_KEY,
  SIM_NOPURGE_KEY_VERSION,
  SIM_NOPURGE_VAULT,
  SIM_NOSOFTDELETE_KEY,
  SIM_NOSOFTDELETE_VAULT,
  SIM_OTHER_TENANT_KEY,
  SIM_OTHER_TENANT_VAULT,
  SIM_POLICY_KEY,
  SIM_POLICY_VAULT,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_RG_IDENTITIES_LOCKED,
  SIM_RG_LOCKED,
  SIM_RG_WEST,
  SIM_ROTATED_KEY,
  SIM_ROTATED_KEY_VERSION_CURRENT,
  SIM_ROTATED_KEY_VERSION_OLD,
  SIM_SUBSCRIPTION_ID,
  SIM_TENANT_ID,
  SIM_WEST_KEY,
  SIM_WEST_VAULT,
  simFluidRelayId,
  simIdentityId,
  simKeyId,
  simKeyUrl,
  simRgId,
  simSeededRoleAssignmentId,
  simSubscriptionId,
  simVaultId,
  startSimulator,
  roleAssignmentResource,
  type Simulator,
} from '../../src/simulator';
import { call, loadExample, shapeDiff, simCredential, type Json } from '../fixtures/azure-rest/helpers';

let sim: Simulator;
let client: ResourceManagementClient;
const V = '2022-06-01';
const CMK_EXAMPLE = loadExample('Microsoft.FluidRelay/2022-06-01/FluidRelayServers_CreateWithCmk.json');

beforeAll(async () => {
  sim = await startSimulator();
  client = new ResourceManagementClient(simCredential, SIM_SUBSCRIPTION_ID, { endpoint: sim.endpoint, tlsOptions: { ca: sim.ca }, retryOptions: { maxRetries: 0 } });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

interface CmkBodyOptions {
  location?: string;
  /** Identities listed in identity.userAssignedIdentities (names, resolved with simIdentityId). */
  assigned?: string[];
  /** The identity named in keyEncryptionKeyIdentity. */
  cmkIdentity?: string;
  keyUrl?: string;
  identityType?: string;
}

/** The CreateWithCmk example's request body, with its ids rewritten to seeded resources. */
function cmkBody(o: CmkBodyOptions = {}): Json {
  const body = structuredClone(CMK_EXAMPLE.parameters.resource);
  const cmkIdentity = simIdentityId(o.cmkIdentity ?? SIM_IDENTITY);
  body.location = o.location ?? 'eastus';
  body.identity.userAssignedIdentities = Object.fromEntries((o.assigned ?? [o.cmkIdentity ?? SIM_IDENTITY]).map((n) => [simIdentityId(n), {}]));
  const cmk = body.properties.encryption.customerManagedKeyEncryption;
  cmk.keyEncryptionKeyIdentity.userAssignedIdentityResourceId = cmkIdentity;
  cmk.keyEncryptionKeyUrl = o.keyUrl ?? simKeyUrl(SIM_RBAC_VAULT, SIM_KEY);
  if (o.identityType) cmk.keyEncryptionKeyIdentity.identityType = o.identityType;
  return body;
}

const put = (name: string, body: unknown, apiVersion = V, rg = SIM_RG) => call(sim, 'PUT', simFluidRelayId(name, rg), { apiVersion, body });
const patch = (name: string, body: unknown) => call(sim, 'PATCH', simFluidRelayId(name), { apiVersion: V, body });
const get = (name: string, apiVersion = V) => call(sim, 'GET', simFluidRelayId(name), { apiVersion });

function expectCmkFailure(res: { status: number; body: Json }, reason: string): void {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe(CMK_ERROR_CODE);
  expect(res.body.error.message).toMatch(/^Unexpected error happened when configuring CMK\. \S/);
  expect(res.body.error.details[0].code).toBe(reason);
}

describe('creating a server with a customer-managed key', () => {
  it('answers the CreateWithCmk example synchronously with 200 and the example’s shape', async () => {
    const body = cmkBody();
    const res = await put('fr-cmk', body);
    expect(res.status).toBe(200);
    expect(res.headers['azure-asyncoperation']).toBeUndefined();
    expect(res.headers['location']).toBeUndefined();
    expect(shapeDiff(CMK_EXAMPLE.responses['200'].body, res.body)).toEqual([]);
    expect(res.body.id).toBe(simFluidRelayId('fr-cmk'));
    expect(res.body.id).toContain('/providers/Microsoft.FluidRelay/fluidRelayServers/');
    expect(res.body.identity.userAssignedIdentities).toEqual({
      [simIdentityId(SIM_IDENTITY)]: { principalId: SIM_IDENTITY_PRINCIPAL_ID, clientId: SIM_IDENTITY_CLIENT_ID },
    });
    expect(res.body.properties).toMatchObject({ provisioningState: 'Succeeded', storagesku: 'basic', encryption: body.properties.encryption });
    expect(res.body.properties.frsTenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.properties.fluidRelayEndpoints.serviceEndpoints).toEqual(['https://fr-cmk.eastus.fluidrelay.azure.com']);
    expect(res.body.tags).toEqual({ Category: 'sales' });

    const read = await get('fr-cmk');
    expect(shapeDiff(loadExample('Microsoft.FluidRelay/2022-06-01/FluidRelayServers_Get.json').responses['200'].body, read.body)).toEqual([]);
    expect(read.body.properties.encryption).toEqual(body.properties.encryption);
  });

  it('works through the SDK’s generic beginCreateOrUpdateByIdAndWait in one request', async () => {
    const created = await client.resources.beginCreateOrUpdateByIdAndWait(simFluidRelayId('fr-sdk'), V, cmkBody());
    expect((created.properties as Json).encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl).toBe(simKeyUrl(SIM_RBAC_VAULT, SIM_KEY));
    expect(sim.requests.map((r) => r.method)).toEqual(['PUT']);
    const byId = await client.resources.getById(simFluidRelayId('fr-sdk'), V);
    expect((byId.properties as Json).encryption).toBeDefined();
    await expect(client.resources.beginCreateOrUpdateByIdAndWait(simFluidRelayId('fr-sdk-ec'), V, cmkBody({ keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EC_KEY) }))).rejects.toMatchObject({
      statusCode: 400,
      code: CMK_ERROR_CODE,
    });
  });

  it('answers the 2025-06-20-preview example with that version’s shape', async () => {
    const example = loadExample('Microsoft.FluidRelay/2025-06-20-preview/FluidRelayServers_CreateWithCmk.json');
    const res = await put('fr-preview', cmkBody(), '2025-06-20-preview');
    expect(res.status).toBe(200);
    expect(shapeDiff(example.responses['200'].body, res.body)).toEqual([]);
    expect((await get('fr-preview')).body.properties.sharedKeyAccess).toBeUndefined();
  });

  it.each([
    ['a pinned key version', () => cmkBody({ keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_OLD) }), 'eastus'],
    ['an access-policy vault', () => cmkBody({ keyUrl: simKeyUrl(SIM_POLICY_VAULT, SIM_POLICY_KEY) }), 'eastus'],
    ['a west vault reached through a group-scope role', () => cmkBody({ location: 'westus', cmkIdentity: SIM_IDENTITY_WEST, keyUrl: simKeyUrl(SIM_WEST_VAULT, SIM_WEST_KEY) }), 'westus'],
  ])('accepts %s', async (_label, body, location) => {
    const res = await put('fr-ok', body(), V, location === 'westus' ? SIM_RG_WEST : SIM_RG);
    expect(res.status).toBe(200);
  });

  it('answers the CreateOrUpdate and CreateWithAmi examples (no CMK) with their shapes', async () => {
    const plain = loadExample('Microsoft.FluidRelay/2022-06-01/FluidRelayServers_CreateOrUpdate.json');
    const res = await put('fr-plain', { ...plain.parameters.resource, location: 'eastus' });
    expect(res.status).toBe(200);
    expect(shapeDiff(plain.responses['200'].body, res.body)).toEqual([]);
    expect(res.body.identity).toMatchObject({ type: 'SystemAssigned', tenantId: SIM_TENANT_ID });

    const ami = loadExample('Microsoft.FluidRelay/2022-06-01/FluidRelayServers_CreateWithAmi.json');
    const amiBody = {
      ...ami.parameters.resource,
      location: 'eastus',
      identity: { type: ami.parameters.resource.identity.type, userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {}, [simIdentityId(SIM_IDENTITY_NO_ACCESS)]: {} } },
    };
    const withAmi = await put('fr-ami', amiBody);
    expect(withAmi.status).toBe(200);
    expect(shapeDiff(ami.responses['200'].body, withAmi.body)).toEqual([]);
    // The example answers type "SystemAssigned" for this request; the simulator keeps what was sent.
    expect(withAmi.body.identity.type).toBe('SystemAssigned, UserAssigned');
    expect(Object.keys(withAmi.body.identity.userAssignedIdentities)).toEqual([simIdentityId(SIM_IDENTITY), simIdentityId(SIM_IDENTITY_NO_ACCESS)]);
  });

  it('gives a system-assigned identity a principal id, and all-zero ids without one (as the examples)', async () => {
    const { encryption: _none, ...plain } = cmkBody().properties;
    const both = await put('fr-both', { ...cmkBody(), properties: plain, identity: { ...cmkBody().identity, type: 'SystemAssigned, UserAssigned' } });
    expect(both.status).toBe(200);
    expect(both.body.identity.principalId).not.toBe('00000000-0000-0000-0000-000000000000');
    const user = await put('fr-user', cmkBody());
    expect(user.body.identity.principalId).toBe('00000000-0000-0000-0000-000000000000');
  });
});

describe('customer-managed keys need identity type UserAssigned (the Fluid Relay CMK doc)', () => {
  it('refuses CMK on a server whose identity is also system-assigned, at creation and on a later PATCH', async () => {
    const both = await put('fr-both-cmk', { ...cmkBody(), identity: { ...cmkBody().identity, type: 'SystemAssigned, UserAssigned' } });
    expect(both.status).toBe(400);
    expect(both.body.error.code).toBe(CMK_ERROR_CODE);
    expect(both.body.error.details[0].code).toBe('IdentityTypeNotSupported');
    expect(sim.state.get(simFluidRelayId('fr-both-cmk'))).toBeUndefined();

    const patched = await call(sim, 'PATCH', simFluidRelayId(SIM_FLUID_CMK), {
      apiVersion: '2022-06-01',
      body: { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } } },
    });
    expect([patched.status, patched.body.error?.details?.[0]?.code]).toEqual([400, 'IdentityTypeNotSupported']);
    expect((sim.state.get(simFluidRelayId(SIM_FLUID_CMK))!.identity as { type: string }).type).toBe('UserAssigned');
  });
});

describe('CMK validation answers 400 with ARM’s error body', () => {
  const url = (key: string, vault = SIM_RBAC_VAULT, version?: string) => simKeyUrl(vault, key, version);
  it.each<[string, CmkBodyOptions, string]>([
    ['an EC key', { keyUrl: url(SIM_EC_KEY) }, 'KeyTypeNotSupported'],
    ['a disabled key', { keyUrl: url(SIM_DISABLED_KEY) }, 'KeyDisabled'],
    ['an expired key', { keyUrl: url(SIM_EXPIRED_KEY) }, 'KeyExpired'],
    ['a key not valid yet', { keyUrl: url(SIM_NOT_YET_VALID_KEY) }, 'KeyNotYetValid'],
    ['a key without wrapKey/unwrapKey', { keyUrl: url(SIM_NO_WRAP_KEY) }, 'KeyOperationsNotPermitted'],
    ['an identity without key access (RBAC vault)', { cmkIdentity: SIM_IDENTITY_NO_ACCESS }, 'KeyAccessDenied'],
    ['an identity without key access (access-policy vault)', { cmkIdentity: SIM_IDENTITY_NO_ACCESS, keyUrl: url(SIM_POLICY_KEY, SIM_POLICY_VAULT) }, 'KeyAccessDenied'],
    ['a key identity not in identity.userAssignedIdentities', { assigned: [SIM_IDENTITY_NO_ACCESS] }, 'IdentityNotAssigned'],
    ['an identity in another region', { cmkIdentity: SIM_IDENTITY_WEST }, 'RegionMismatch'],
    ['a vault in another region', { location: 'westus', cmkIdentity: SIM_IDENTITY_WEST }, 'RegionMismatch'],
    ['a vault firewall without the trusted-services bypass', { keyUrl: url(SIM_FIREWALL_KEY, SIM_FIREWALL_VAULT) }, 'VaultFirewallBlocksTrustedServices'],
    ['a vault in another tenant', { keyUrl: url(SIM_OTHER_TENANT_KEY, SIM_OTHER_TENANT_VAULT) }, 'TenantMismatch'],
    ['an unknown vault', { keyUrl: url(SIM_KEY, 'kv-nowhere') }, 'KeyVaultNotFound'],
    ['a managed HSM key', { keyUrl: 'https://contoso-hsm.managedhsm.azure.net/keys/k' }, 'KeyVaultNotFound'],
    ['an unknown key', { keyUrl: url('no-such-key') }, 'KeyNotFound'],
    ['an unknown key version', { keyUrl: url(SIM_KEY, SIM_RBAC_VAULT, 'f'.repeat(32)) }, 'KeyVersionNotFound'],
    ['a malformed key URL', { keyUrl: `http://${SIM_RBAC_VAULT}.vault.azure.net/keys/${SIM_KEY}` }, 'InvalidKeyUrl'],
    ['a system-assigned key identity', { identityType: 'SystemAssigned' }, 'IdentityTypeNotSupported'],
  ])('%s', async (_label, options, reason) => {
    const res = await put('fr-bad', cmkBody(options), V, options.location === 'westus' ? SIM_RG_WEST : SIM_RG);
    expectCmkFailure(res, reason);
    expect(sim.state.get(simFluidRelayId('fr-bad'))).toBeUndefined();
  });

  it('accepts an identity once it holds a key-scope role whose data actions cover read/wrap/unwrap', async () => {
    expectCmkFailure(await put('fr-key-scope', cmkBody({ cmkIdentity: SIM_IDENTITY_NO_ACCESS })), 'KeyAccessDenied');
    sim.state.put(
      roleAssignmentResource({
        name: '12121212-1212-4212-8212-121212121212',
        scope: simKeyId(SIM_RBAC_VAULT, SIM_KEY),
        roleGuid: BUILTIN_ROLE_IDS.keyVaultCryptoUser,
        principalId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
        createdOn: new Date().toISOString(),
      }),
    );
    expect((await put('fr-key-scope', cmkBody({ cmkIdentity: SIM_IDENTITY_NO_ACCESS }))).status).toBe(200);
  });
});

describe('the seeded unusual cases: exactly one problem each, or none', () => {
  const url = (key: string, vault = SIM_RBAC_VAULT, version?: string) => simKeyUrl(vault, key, version);

  it.each<[string, CmkBodyOptions]>([
    ['an identity whose role is inherited from the resource group (id-inherited)', { cmkIdentity: SIM_IDENTITY_INHERITED }],
    ['an identity with a custom keys/* role (id-custom-role)', { cmkIdentity: SIM_IDENTITY_CUSTOM_ROLE }],
    ['a rotated key, versionless', { keyUrl: url(SIM_ROTATED_KEY) }],
    ['a rotated key pinned to its current version', { keyUrl: url(SIM_ROTATED_KEY, SIM_RBAC_VAULT, SIM_ROTATED_KEY_VERSION_CURRENT) }],
    // The service does not check these vault settings; the bot's vault.* checks do.
    ['a vault without purge protection (kv-no-purge)', { keyUrl: url(SIM_NOPURGE_KEY, SIM_NOPURGE_VAULT) }],
    ['a vault without soft delete (kv-no-softdelete)', { keyUrl: url(SIM_NOSOFTDELETE_KEY, SIM_NOSOFTDELETE_VAULT) }],
    ['a pinned key version in the access-policy vault without purge protection', { keyUrl: url(SIM_NOPURGE_KEY, SIM_NOPURGE_VAULT, SIM_NOPURGE_KEY_VERSION) }],
  ])('accepts %s', async (_label, options) => {
    const res = await put('fr-unusual', cmkBody(options));
    expect(res.status).toBe(200);
  });

  it('refuses the expired old version of the rotated key (KeyExpired)', async () => {
    expectCmkFailure(await put('fr-old', cmkBody({ keyUrl: url(SIM_ROTATED_KEY, SIM_RBAC_VAULT, SIM_ROTATED_KEY_VERSION_OLD) })), 'KeyExpired');
  });

  it('refuses id-wrap-only for the missing unwrap data action alone (KeyAccessDenied)', async () => {
    const res = await put('fr-wrap', cmkBody({ cmkIdentity: SIM_IDENTITY_WRAP_ONLY }));
    expectCmkFailure(res, 'KeyAccessDenied');
    expect(res.body.error.details[0].message).toContain(`lacks Microsoft.KeyVault/vaults/keys/unwrap/action on key '${SIM_KEY}'`);
  });

  it('refuses id-other-tenant only for its tenant (TenantMismatch; accepted once the tenant matches)', async () => {
    expectCmkFailure(await put('fr-tenant', cmkBody({ cmkIdentity: SIM_IDENTITY_OTHER_TENANT })), 'TenantMismatch');
    sim.state.patch(simIdentityId(SIM_IDENTITY_OTHER_TENANT), { properties: { tenantId: SIM_TENANT_ID } });
    expect((await put('fr-tenant', cmkBody({ cmkIdentity: SIM_IDENTITY_OTHER_TENANT }))).status).toBe(200);
  });

  it('refuses kv-cmk-firewall only for its firewall (accepted once trusted services may bypass it)', async () => {
    const body = () => cmkBody({ keyUrl: url(SIM_FIREWALL_KEY, SIM_FIREWALL_VAULT) });
    expectCmkFailure(await put('fr-fw', body()), 'VaultFirewallBlocksTrustedServices');
    sim.state.patch(simVaultId(SIM_FIREWALL_VAULT), { properties: { networkAcls: { bypass: 'AzureServices' } } });
    expect((await put('fr-fw', body())).status).toBe(200);
  });
});

describe('the seeded CMK servers', () => {
  const cmkOf = (keyUrl: string) => ({
    keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: simIdentityId(SIM_IDENTITY) },
    keyEncryptionKeyUrl: keyUrl,
  });
  const changeKey = (name: string, keyUrl: string) => patch(name, { properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: keyUrl } } } });

  it('fr-existing-cmk and fr-stale-cmk read like FluidRelayServers_Get.json with their CMK and identity', async () => {
    const example = loadExample('Microsoft.FluidRelay/2022-06-01/FluidRelayServers_Get.json').responses['200'].body;
    for (const [name, keyUrl] of [
      [SIM_FLUID_CMK, simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT)],
      [SIM_FLUID_STALE, simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY, SIM_ROTATED_KEY_VERSION_OLD)],
    ] as const) {
      const res = await get(name);
      expect(res.status).toBe(200);
      expect(shapeDiff(example, res.body)).toEqual([]);
      expect(res.body).toMatchObject({
        id: simFluidRelayId(name),
        name,
        location: 'eastus',
        identity: {
          type: 'UserAssigned',
          principalId: '00000000-0000-0000-0000-000000000000',
          userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: { principalId: SIM_IDENTITY_PRINCIPAL_ID, clientId: SIM_IDENTITY_CLIENT_ID } },
        },
        properties: { provisioningState: 'Succeeded', encryption: { customerManagedKeyEncryption: cmkOf(keyUrl) } },
      });
    }
  });

  it('fr-existing-cmk: a key change is accepted (the current key is alive), removing CMK is refused', async () => {
    expectCmkFailure(await patch(SIM_FLUID_CMK, { properties: { encryption: null } }), 'CmkCannotBeDisabled');
    expectCmkFailure(await put(SIM_FLUID_CMK, { location: 'eastus', identity: cmkBody().identity, properties: { storagesku: 'standard' } }), 'CmkCannotBeDisabled');
    const moved = await changeKey(SIM_FLUID_CMK, simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY));
    expect(moved.status).toBe(200);
    expect(moved.body.properties.encryption.customerManagedKeyEncryption).toEqual(cmkOf(simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY)));
  });

  it('fr-stale-cmk: a key change is refused with PreviousKeyUnavailable (its pinned version expired); other updates work', async () => {
    const stuck = await changeKey(SIM_FLUID_STALE, simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY, SIM_ROTATED_KEY_VERSION_CURRENT));
    expectCmkFailure(stuck, 'PreviousKeyUnavailable');
    expect(stuck.body.error.details[0].message).toContain(SIM_ROTATED_KEY_VERSION_OLD);
    expectCmkFailure(await put(SIM_FLUID_STALE, cmkBody({ keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY) })), 'PreviousKeyUnavailable');
    expect((await get(SIM_FLUID_STALE)).body.properties.encryption.customerManagedKeyEncryption).toEqual(cmkOf(simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY, SIM_ROTATED_KEY_VERSION_OLD)));
    const tagged = await patch(SIM_FLUID_STALE, { tags: { owner: 'platform' } });
    expect([tagged.status, tagged.body.tags]).toEqual([200, { owner: 'platform' }]);
  });
});

describe('other PUT validation', () => {
  it('refuses unknown regions, including the example’s own "west-us"', async () => {
    const res = await put('fr-region', CMK_EXAMPLE.parameters.resource);
    expect([res.status, res.body.error.code]).toEqual([400, 'LocationNotAvailableForResourceType']);
    const missing = await put('fr-region', { properties: {} });
    expect([missing.status, missing.body.error.code]).toEqual([400, 'LocationRequired']);
  });

  it('checks the identity block: closed enum, existing identities, entries only with UserAssigned', async () => {
    const noSpace = await put('fr-id', { ...cmkBody(), identity: { ...cmkBody().identity, type: 'SystemAssigned,UserAssigned' } });
    expect([noSpace.status, noSpace.body.error.code, noSpace.body.error.target]).toEqual([400, 'InvalidRequestContent', 'identity.type']);
    const unknown = await put('fr-id', cmkBody({ assigned: [SIM_IDENTITY, 'id-ghost'] }));
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'InvalidUserAssignedIdentity']);
    expect(unknown.body.error.message).toContain('id-ghost');
    const empty = await put('fr-id', { location: 'eastus', identity: { type: 'UserAssigned' } });
    expect([empty.status, empty.body.error.code]).toEqual([400, 'InvalidUserAssignedIdentity']);
    const stray = await put('fr-id', { location: 'eastus', identity: { type: 'SystemAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } } });
    expect([stray.status, stray.body.error.code]).toEqual([400, 'InvalidUserAssignedIdentity']);
  });

  it('needs the caller to hold userAssignedIdentities/assign/action on the identity (LinkedAuthorizationFailed)', async () => {
    // Contributor's '*' includes assign/action, so swap the bot's roles for one that can only write Fluid Relay.
    sim.state.delete(simSeededRoleAssignmentId('botContributor'));
    sim.state.delete(simSeededRoleAssignmentId('botManagedIdentityOperator'));
    const customRole = '13131313-1313-4313-8313-131313131313';
    sim.state.put({
      id: `/providers/Microsoft.Authorization/roleDefinitions/${customRole}`,
      name: customRole,
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: { roleName: 'Fluid Relay writer', type: 'CustomRole', assignableScopes: [simSubscriptionId()], permissions: [{ actions: ['Microsoft.FluidRelay/*'], notActions: [], dataActions: [], notDataActions: [] }] },
    });
    sim.state.put(roleAssignmentResource({ name: customRole, scope: simSubscriptionId(), roleGuid: customRole, principalId: SIM_BOT_PRINCIPAL_ID, createdOn: new Date().toISOString() }));
    expect((await put('fr-linked-ok', { location: 'eastus', properties: { storagesku: 'basic' } })).status).toBe(200);
    const res = await put('fr-linked', cmkBody());
    expect([res.status, res.body.error.code]).toEqual([403, 'LinkedAuthorizationFailed']);
    expect(res.body.error.message).toContain('Microsoft.ManagedIdentity/userAssignedIdentities/assign/action');
  });

  it('id-no-assign: the seeded bot may not assign it (LinkedAuthorizationFailed), and that is the only problem', async () => {
    const res = await put('fr-no-assign', cmkBody({ cmkIdentity: SIM_IDENTITY_NO_ASSIGN }));
    expect([res.status, res.body.error.code]).toEqual([403, 'LinkedAuthorizationFailed']);
    expect(res.body.error.message).toContain('Microsoft.ManagedIdentity/userAssignedIdentities/assign/action');
    expect(res.body.error.message).toContain(simIdentityId(SIM_IDENTITY_NO_ASSIGN));
    expect(sim.state.get(simFluidRelayId('fr-no-assign'))).toBeUndefined();
    sim.state.put(
      roleAssignmentResource({
        name: '14141414-1414-4414-8414-141414141414',
        scope: simRgId(SIM_RG_IDENTITIES_LOCKED),
        roleGuid: BUILTIN_ROLE_IDS.managedIdentityOperator,
        principalId: SIM_BOT_PRINCIPAL_ID,
        createdOn: new Date().toISOString(),
      }),
    );
    expect((await put('fr-no-assign', cmkBody({ cmkIdentity: SIM_IDENTITY_NO_ASSIGN }))).status).toBe(200);
  });

  it('rg-locked: the bot may not write there (AuthorizationFailed)', async () => {
    const res = await put('fr-locked', cmkBody(), V, SIM_RG_LOCKED);
    expect([res.status, res.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(res.body.error.message).toContain('Microsoft.FluidRelay/fluidRelayServers/write');
    expect(res.body.error.message).toContain(simRgId(SIM_RG_LOCKED));
  });
});

describe('CMK can only be set at creation and never removed', () => {
  it('an existing server without CMK cannot get one by PUT or PATCH', async () => {
    const viaPut = await put(SIM_FLUID_EXISTING, cmkBody());
    expectCmkFailure(viaPut, 'CmkOnlyAtCreation');
    const viaPatch = await patch(SIM_FLUID_EXISTING, { identity: cmkBody().identity, properties: { encryption: cmkBody().properties.encryption } });
    expectCmkFailure(viaPatch, 'CmkOnlyAtCreation');
    expect((await get(SIM_FLUID_EXISTING)).body.properties.encryption).toBeUndefined();
  });

  it('a CMK server cannot drop it by PUT or PATCH, and keeps it on a tags-only PATCH', async () => {
    expect((await put('fr-keep', cmkBody())).status).toBe(200);
    const { encryption: _dropped, ...propsWithout } = cmkBody().properties;
    expectCmkFailure(await put('fr-keep', { ...cmkBody(), properties: propsWithout }), 'CmkCannotBeDisabled');
    expectCmkFailure(await patch('fr-keep', { properties: { encryption: {} } }), 'CmkCannotBeDisabled');
    expectCmkFailure(await patch('fr-keep', { properties: { encryption: null } }), 'CmkCannotBeDisabled');
    expectCmkFailure(await patch('fr-keep', { identity: { userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: null, [simIdentityId(SIM_IDENTITY_NO_ACCESS)]: {} } } }), 'IdentityNotAssigned');

    const tagged = await patch('fr-keep', loadExample('Microsoft.FluidRelay/2022-06-01/FluidRelayServers_Update.json').parameters.resource);
    expect(tagged.status).toBe(200);
    expect(shapeDiff(loadExample('Microsoft.FluidRelay/2022-06-01/FluidRelayServers_Update.json').responses['200'].body, tagged.body)).toEqual([]);
    expect(tagged.body.properties.encryption).toEqual(cmkBody().properties.encryption);
  });

  it('PATCH changes the key after validating it, while the current key is still usable', async () => {
    expect((await put('fr-rotate', cmkBody())).status).toBe(200);
    const pinned = simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT);
    expectCmkFailure(await patch('fr-rotate', { properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EC_KEY) } } } }), 'KeyTypeNotSupported');
    const ok = await patch('fr-rotate', { properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: pinned } } } });
    expect(ok.status).toBe(200);
    expect(ok.body.properties.encryption.customerManagedKeyEncryption).toEqual({
      keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: simIdentityId(SIM_IDENTITY) },
      keyEncryptionKeyUrl: pinned,
    });

    sim.state.patch(`${simKeyId(SIM_RBAC_VAULT, SIM_KEY)}/versions/${SIM_KEY_VERSION_CURRENT}`, { properties: { attributes: { enabled: false } } });
    const stuck = await patch('fr-rotate', { properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: simKeyUrl(SIM_POLICY_VAULT, SIM_POLICY_KEY) } } } });
    expectCmkFailure(stuck, 'PreviousKeyUnavailable');
  });

  it('PATCH refuses a different location and answers 404 for a missing server', async () => {
    const moved = await patch(SIM_FLUID_EXISTING, { location: 'westus' });
    expect([moved.status, moved.body.error.code]).toEqual([400, 'LocationMismatch']);
    const missing = await patch('fr-none', { tags: {} });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'ResourceNotFound']);
  });
});

describe('GET, list, DELETE', () => {
  it('lists by resource group and subscription, deletes with 200 then 204, and answers ResourceNotFound afterwards', async () => {
    await put('fr-list', cmkBody());
    const byRg = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.FluidRelay/fluidRelayServers`, { apiVersion: V });
    expect(byRg.body.value.map((s: Json) => s.name)).toEqual([SIM_FLUID_EXISTING, SIM_FLUID_CMK, SIM_FLUID_STALE, 'fr-list']);
    const bySub = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft.FluidRelay/fluidRelayServers`, { apiVersion: V });
    expect(bySub.body.value).toHaveLength(4);

    expect((await call(sim, 'DELETE', simFluidRelayId('fr-list'), { apiVersion: V })).status).toBe(200);
    expect((await call(sim, 'DELETE', simFluidRelayId('fr-list'), { apiVersion: V })).status).toBe(204);
    const gone = await get('fr-list');
    expect(gone.status).toBe(404);
    expect(gone.body.error.message).toBe(`The Resource 'Microsoft.FluidRelay/fluidRelayServers/fr-list' under resource group '${SIM_RG}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  });

  it('the seeded server has no CMK', async () => {
    const res = await get(SIM_FLUID_EXISTING);
    expect(res.status).toBe(200);
    expect(shapeDiff(loadExample('Microsoft.FluidRelay/2022-06-01/FluidRelayServers_Get.json').responses['200'].body, res.body)).toEqual([]);
    expect(res.body.properties.encryption).toBeUndefined();
    expect(res.body.identity).toBeUndefined();
  });
});
