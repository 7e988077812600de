// Microsoft.Storage/storageAccounts in the simulator: the CMK examples' shapes, the seeded
// accounts, PATCH to customer-managed keys with Azure Storage's checks, and blob containers.
import { ResourceManagementClient } from '@azure/arm-resources';
import {
  BUILTIN_ROLE_IDS,
  SIM_BOT_PRINCIPAL_ID,
  SIM_CHAOS_CONTAINER,
  SIM_DISABLED_KEY,
  SIM_EC_KEY,
  SIM_EXPIRED_KEY,
  SIM_EXPIRED_KEY_VERSION,
  SIM_FIREWALL_KEY,
  SIM_FIREWALL_VAULT,
  SIM_IDENTITY,
  SIM_IDENTITY_CLIENT_ID,
  SIM_IDENTITY_INHERITED,
  SIM_IDENTITY_NO_ACCESS,
  SIM_IDENTITY_NO_ASSIGN,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_IDENTITY_WRAP_ONLY,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_KEY_VERSION_OLD,
  SIM_NOPURGE_KEY,
  SIM_NOPURGE_VAULT,
  SIM_NOSOFTDELETE_KEY,
  SIM_NOSOFTDELETE_VAULT,
  SIM_NOT_YET_VALID_KEY,
  SIM_NO_WRAP_KEY,
  SIM_OTHER_TENANT_KEY,
  SIM_OTHER_TENANT_VAULT,
  SIM_POLICY_KEY,
  SIM_POLICY_VAULT,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_ROLE_ASSIGNMENT_NAMES,
  SIM_ROLE_ASSIGNMENT_SCOPES,
  SIM_STORAGE_BAD_KEY,
  SIM_STORAGE_CMK,
  SIM_STORAGE_NO_BLOB_ROLE,
  SIM_STORAGE_NO_CMK,
  SIM_STORAGE_PRIVATE,
  SIM_SUBSCRIPTION_ID,
  STORAGE_ERROR_CODES,
  simIdentityId,
  simKeyId,
  simRoleDefinitionId,
  simSeededRoleAssignmentId,
  simStorageContainerId,
  simStorageId,
  startSimulator,
  type Simulator,
} from '../../src/simulator';
import { call, loadExample, shapeDiff, simCredential, type Json } from '../fixtures/azure-rest/helpers';

let sim: Simulator;
let client: ResourceManagementClient;
const V = '2025-01-01';
const GET_CMK = loadExample('Microsoft.Storage/2025-01-01/StorageAccountGetPropertiesCMKEnabled.json');
const PATCH_CMK = loadExample('Microsoft.Storage/2025-01-01/StorageAccountUpdateUserAssignedEncryptionIdentityWithCMK.json');
const RBAC_URI = `https://${SIM_RBAC_VAULT}.vault.azure.net`;
/** Example fields that belong to options the simulated accounts do not have (GRS, routing preference, HNS, $expand). */
const NOT_SIMULATED = [
  'properties.geoReplicationStats',
  'properties.isHnsEnabled',
  'properties.routingPreference',
  'properties.primaryEndpoints.internetEndpoints',
  'properties.primaryEndpoints.microsoftEndpoints',
  'properties.secondaryLocation',
  'properties.statusOfSecondary',
];

beforeAll(async () => {
  sim = await startSimulator();
  client = new ResourceManagementClient(simCredential, SIM_SUBSCRIPTION_ID, { endpoint: sim.endpoint, tlsOptions: { ca: sim.ca }, retryOptions: { maxRetries: 0 } });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

const get = (name: string, apiVersion = V) => call(sim, 'GET', simStorageId(name), { apiVersion });
const patch = (name: string, body: unknown, apiVersion = V) => call(sim, 'PATCH', simStorageId(name), { apiVersion, body });

interface CmkOptions {
  vaultUri?: string;
  key?: string;
  version?: string;
  /** Identity named in encryption.identity (default id-fluid-cmk). */
  encryptionIdentity?: string | null;
  /** Identities assigned in the same PATCH (default: the encryption identity); null sends no identity block. */
  assign?: string[] | null;
  keySource?: string;
}

/** The UpdateUserAssignedEncryptionIdentityWithCMK example's request, rewritten to seeded resources. */
function cmkPatch(o: CmkOptions = {}): Json {
  const body = structuredClone(PATCH_CMK.parameters.parameters);
  const encId = o.encryptionIdentity === undefined ? SIM_IDENTITY : o.encryptionIdentity;
  if (o.assign === null) delete body.identity;
  else body.identity.userAssignedIdentities = Object.fromEntries((o.assign ?? [encId!]).map((n) => [simIdentityId(n), {}]));
  const enc = body.properties.encryption;
  enc.keyvaultproperties = { keyvaulturi: o.vaultUri ?? RBAC_URI, keyname: o.key ?? SIM_KEY, keyversion: o.version ?? '' };
  if (o.keySource) enc.keySource = o.keySource;
  if (encId === null) delete enc.identity;
  else enc.identity.userAssignedIdentity = simIdentityId(encId);
  return body;
}

function expectRefused(res: { status: number; body: Json }, code: string, reason?: string): void {
  expect([res.status, res.body?.error?.code]).toEqual([400, code]);
  expect(typeof res.body.error.message).toBe('string');
  if (reason) expect(res.body.error.details[0].code).toBe(reason);
}

describe('storage accounts: reads and seeds', () => {
  it('answers GET of the CMK account with StorageAccountGetPropertiesCMKEnabled.json’s shape, on every accepted api-version', async () => {
    for (const v of ['2025-01-01', '2024-01-01', '2023-05-01']) {
      const res = await get(SIM_STORAGE_CMK, v);
      expect(res.status).toBe(200);
      expect(shapeDiff(GET_CMK.responses['200'].body, res.body, [...NOT_SIMULATED, 'identity.principalId', 'identity.tenantId'])).toEqual([]);
    }
    const res = await get(SIM_STORAGE_CMK);
    expect(res.body).toMatchObject({
      id: simStorageId(SIM_STORAGE_CMK),
      name: SIM_STORAGE_CMK,
      type: 'Microsoft.Storage/storageAccounts',
      location: 'eastus',
      kind: 'StorageV2',
      sku: { name: 'Standard_LRS', tier: 'Standard' },
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: { principalId: SIM_IDENTITY_PRINCIPAL_ID, clientId: SIM_IDENTITY_CLIENT_ID } } },
      properties: {
        provisioningState: 'Succeeded',
        publicNetworkAccess: 'Enabled',
        networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' },
        encryption: {
          keySource: 'Microsoft.Keyvault',
          identity: { userAssignedIdentity: simIdentityId(SIM_IDENTITY) },
          keyvaultproperties: {
            keyvaulturi: RBAC_URI,
            keyname: SIM_KEY,
            keyversion: '',
            // keyversion '' = automatic rotation: the identifier names the key's current version
            currentVersionedKeyIdentifier: `${RBAC_URI}/keys/${SIM_KEY}/${SIM_KEY_VERSION_CURRENT}`,
          },
          services: { blob: { enabled: true, keyType: 'Account' }, file: { enabled: true, keyType: 'Account' } },
        },
      },
    });
    expect(res.body.properties.encryption.keyvaultproperties.lastKeyRotationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(Date.parse(res.body.properties.encryption.keyvaultproperties.currentVersionedKeyExpirationTimestamp)).toBeGreaterThan(Date.now());
  });

  it('seeds one account per failing storage check', async () => {
    const nocmk = (await get(SIM_STORAGE_NO_CMK)).body;
    expect(nocmk.properties.encryption.keySource).toBe('Microsoft.Storage');
    expect(nocmk.properties.encryption.keyvaultproperties).toBeUndefined();
    expect(nocmk.identity).toBeUndefined();
    expect([nocmk.properties.publicNetworkAccess, nocmk.properties.networkAcls.defaultAction]).toEqual(['Enabled', 'Allow']);

    const priv = (await get(SIM_STORAGE_PRIVATE)).body;
    expect([priv.properties.publicNetworkAccess, priv.properties.networkAcls.defaultAction]).toEqual(['Enabled', 'Deny']);
    expect(priv.properties.encryption.keySource).toBe('Microsoft.Keyvault');

    const noBlob = (await get(SIM_STORAGE_NO_BLOB_ROLE)).body;
    expect([noBlob.properties.encryption.keySource, noBlob.properties.networkAcls.defaultAction]).toEqual(['Microsoft.Keyvault', 'Allow']);

    const bad = (await get(SIM_STORAGE_BAD_KEY)).body;
    expect(bad.properties.encryption.keyvaultproperties).toMatchObject({ keyname: SIM_EXPIRED_KEY, keyversion: '', currentVersionedKeyIdentifier: `${RBAC_URI}/keys/${SIM_EXPIRED_KEY}/${SIM_EXPIRED_KEY_VERSION}` });
    expect(Date.parse(bad.properties.encryption.keyvaultproperties.currentVersionedKeyExpirationTimestamp)).toBeLessThan(Date.now());
  });

  it('grants id-fluid-cmk Storage Blob Data Contributor on every seeded account but stnoblobrole', async () => {
    for (const [name, key] of [
      [SIM_STORAGE_CMK, 'identityBlobOnCmkStorage'],
      [SIM_STORAGE_NO_CMK, 'identityBlobOnNoCmkStorage'],
      [SIM_STORAGE_PRIVATE, 'identityBlobOnPrivateStorage'],
      [SIM_STORAGE_BAD_KEY, 'identityBlobOnBadKeyStorage'],
      [SIM_STORAGE_NO_BLOB_ROLE, undefined],
    ] as const) {
      const res = await call(sim, 'GET', `${simStorageId(name)}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`atScope() and assignedTo('${SIM_IDENTITY_PRINCIPAL_ID}')`)}`, { apiVersion: '2022-04-01' });
      const roles = res.body.value.map((a: Json) => [a.name, a.properties.roleDefinitionId, a.properties.scope]);
      expect(roles).toEqual(key ? [[SIM_ROLE_ASSIGNMENT_NAMES[key], simRoleDefinitionId(BUILTIN_ROLE_IDS.storageBlobDataContributor), SIM_ROLE_ASSIGNMENT_SCOPES[key]]] : []);
    }
    expect(SIM_ROLE_ASSIGNMENT_SCOPES.identityBlobOnCmkStorage).toBe(simStorageId(SIM_STORAGE_CMK));
  });

  it('lists accounts by resource group and subscription; unknown accounts are 404 ResourceNotFound', async () => {
    const byRg = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.Storage/storageAccounts`, { apiVersion: V });
    expect(byRg.body.value.map((a: Json) => a.name).sort()).toEqual([SIM_STORAGE_BAD_KEY, SIM_STORAGE_CMK, SIM_STORAGE_NO_BLOB_ROLE, SIM_STORAGE_NO_CMK, SIM_STORAGE_PRIVATE].sort());
    const listed = byRg.body.value.find((a: Json) => a.name === SIM_STORAGE_CMK);
    expect(listed.properties.encryption.keyvaultproperties.currentVersionedKeyIdentifier).toContain(SIM_KEY_VERSION_CURRENT);
    const bySub = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft.Storage/storageAccounts`, { apiVersion: V });
    expect(bySub.body.value).toHaveLength(5);
    const missing = await get('stnope');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'ResourceNotFound']);
    const badVersion = await get(SIM_STORAGE_CMK, '2022-09-02');
    expect([badVersion.status, badVersion.body.error.code]).toEqual([400, 'NoRegisteredProviderFound']);
  });

  it('reads through the SDK’s generic getById', async () => {
    const account = await client.resources.getById(simStorageId(SIM_STORAGE_CMK), V);
    expect(account).toMatchObject({ kind: 'StorageV2', sku: { name: 'Standard_LRS' } });
    expect((account.properties as Json).encryption.keySource).toBe('Microsoft.Keyvault');
  });
});

describe('PATCH to customer-managed keys (StorageAccounts_Update, synchronous)', () => {
  it('answers the UpdateUserAssignedEncryptionIdentityWithCMK example with 200 and its shape, and GET shows the key', async () => {
    const res = await patch(SIM_STORAGE_NO_CMK, cmkPatch());
    expect(res.status).toBe(200);
    expect(res.headers['azure-asyncoperation']).toBeUndefined();
    expect(res.headers['location']).toBeUndefined();
    expect(shapeDiff(PATCH_CMK.responses['200'].body, res.body)).toEqual([]);
    expect(res.body.identity).toEqual({
      type: 'UserAssigned',
      userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: { principalId: SIM_IDENTITY_PRINCIPAL_ID, clientId: SIM_IDENTITY_CLIENT_ID } },
    });
    const enc = (await get(SIM_STORAGE_NO_CMK)).body.properties.encryption;
    expect(enc).toMatchObject({
      keySource: 'Microsoft.Keyvault',
      identity: { userAssignedIdentity: simIdentityId(SIM_IDENTITY) },
      keyvaultproperties: { keyvaulturi: RBAC_URI, keyname: SIM_KEY, keyversion: '', currentVersionedKeyIdentifier: `${RBAC_URI}/keys/${SIM_KEY}/${SIM_KEY_VERSION_CURRENT}` },
    });
    expect(Date.now() - Date.parse(enc.keyvaultproperties.lastKeyRotationTimestamp)).toBeLessThan(60_000);
  });

  it('works through the SDK’s generic beginUpdateByIdAndWait in one request', async () => {
    const updated = await client.resources.beginUpdateByIdAndWait(simStorageId(SIM_STORAGE_NO_CMK), V, cmkPatch(), { updateIntervalInMs: 0 });
    expect((updated.properties as Json).encryption.keySource).toBe('Microsoft.Keyvault');
    expect(sim.requests.map((r) => r.method)).toEqual(['PATCH']);
  });

  it('pins a key version when keyversion is given; keySource and member names are case-insensitive', async () => {
    const body = cmkPatch({ version: SIM_KEY_VERSION_OLD, keySource: 'microsoft.keyvault' });
    const enc = body.properties.encryption;
    enc.keyVaultProperties = enc.keyvaultproperties;
    delete enc.keyvaultproperties;
    const res = await patch(SIM_STORAGE_NO_CMK, body);
    expect(res.status).toBe(200);
    expect(res.body.properties.encryption).toMatchObject({
      keySource: 'Microsoft.Keyvault',
      keyvaultproperties: { keyversion: SIM_KEY_VERSION_OLD, currentVersionedKeyIdentifier: `${RBAC_URI}/keys/${SIM_KEY}/${SIM_KEY_VERSION_OLD}` },
    });
  });

  it('accepts SystemAssigned,UserAssigned (no space), an access-policy vault and an inherited role', async () => {
    const both = cmkPatch();
    both.identity.type = 'SystemAssigned,UserAssigned';
    const res = await patch(SIM_STORAGE_NO_CMK, both);
    expect(res.status).toBe(200);
    expect(res.body.identity.type).toBe('SystemAssigned,UserAssigned');
    expect(res.body.identity.principalId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await patch(SIM_STORAGE_NO_CMK, cmkPatch({ vaultUri: `https://${SIM_POLICY_VAULT}.vault.azure.net/`, key: SIM_POLICY_KEY }))).status).toBe(200);
    expect((await patch(SIM_STORAGE_NO_CMK, cmkPatch({ encryptionIdentity: SIM_IDENTITY_INHERITED }))).status).toBe(200);
  });

  it('follows an automatic rotation: currentVersionedKeyIdentifier names the key’s newest version', async () => {
    await patch(SIM_STORAGE_NO_CMK, cmkPatch());
    const key = sim.state.get(simKeyId(SIM_RBAC_VAULT, SIM_KEY))!;
    const newVersion = 'abcdef0123456789abcdef0123456789';
    const current = sim.state.get(`${key.id}/versions/${SIM_KEY_VERSION_CURRENT}`)!;
    sim.state.put({ ...structuredClone(current), id: `${key.id}/versions/${newVersion}`, name: newVersion });
    sim.state.patch(key.id, { properties: { keyUriWithVersion: `https://${SIM_RBAC_VAULT}.vault.azure.net:443/keys/${SIM_KEY}/${newVersion}` } });
    const res = await get(SIM_STORAGE_NO_CMK);
    expect(res.body.properties.encryption.keyvaultproperties.currentVersionedKeyIdentifier).toBe(`${RBAC_URI}/keys/${SIM_KEY}/${newVersion}`);
  });

  const uri = (vault: string) => `https://${vault}.vault.azure.net`;
  it.each<[string, CmkOptions, string, string?]>([
    ['a vault without purge protection', { vaultUri: uri(SIM_NOPURGE_VAULT), key: SIM_NOPURGE_KEY }, STORAGE_ERROR_CODES.KeyVaultPolicyError],
    ['a vault without soft delete', { vaultUri: uri(SIM_NOSOFTDELETE_VAULT), key: SIM_NOSOFTDELETE_KEY }, STORAGE_ERROR_CODES.KeyVaultPolicyError],
    ['an EC key', { key: SIM_EC_KEY }, STORAGE_ERROR_CODES.KeyVaultKeyTypeNotSupported, 'KeyTypeNotSupported'],
    ['a disabled key', { key: SIM_DISABLED_KEY }, STORAGE_ERROR_CODES.KeyVaultKeyDisabled, 'KeyDisabled'],
    ['a key not valid yet', { key: SIM_NOT_YET_VALID_KEY }, STORAGE_ERROR_CODES.KeyVaultKeyNotYetValid, 'KeyNotYetValid'],
    ['an expired key', { key: SIM_EXPIRED_KEY }, STORAGE_ERROR_CODES.KeyVaultKeyExpired, 'KeyExpired'],
    ['a key without wrap/unwrap', { key: SIM_NO_WRAP_KEY }, STORAGE_ERROR_CODES.KeyVaultKeyOperationsNotPermitted, 'KeyOperationsNotPermitted'],
    ['an unknown key', { key: 'no-such-key' }, STORAGE_ERROR_CODES.KeyVaultKeyNotFound, 'KeyNotFound'],
    ['an unknown key version', { version: 'f'.repeat(32) }, STORAGE_ERROR_CODES.KeyVaultKeyVersionNotFound, 'KeyVersionNotFound'],
    ['a malformed key version', { version: 'latest' }, STORAGE_ERROR_CODES.InvalidKeyVaultProperties],
    ['an unknown vault', { vaultUri: uri('kv-nowhere') }, STORAGE_ERROR_CODES.KeyVaultNotFound],
    ['a malformed vault URI', { vaultUri: 'http://kv-cmk-rbac.vault.azure.net' }, STORAGE_ERROR_CODES.InvalidKeyVaultProperties],
    ['a vault firewall without the trusted-services bypass', { vaultUri: uri(SIM_FIREWALL_VAULT), key: SIM_FIREWALL_KEY }, STORAGE_ERROR_CODES.KeyVaultFirewallBlocksTrustedServices, 'VaultFirewallBlocksTrustedServices'],
    ['a vault in another tenant', { vaultUri: uri(SIM_OTHER_TENANT_VAULT), key: SIM_OTHER_TENANT_KEY }, STORAGE_ERROR_CODES.KeyVaultTenantMismatch, 'TenantMismatch'],
    ['an encryption identity without key access', { encryptionIdentity: SIM_IDENTITY_NO_ACCESS }, STORAGE_ERROR_CODES.KeyVaultAuthenticationFailure, 'KeyAccessDenied'],
    ['an encryption identity without unwrap', { encryptionIdentity: SIM_IDENTITY_WRAP_ONLY }, STORAGE_ERROR_CODES.KeyVaultAuthenticationFailure, 'KeyAccessDenied'],
    ['an encryption identity the account does not hold', { assign: null }, STORAGE_ERROR_CODES.InvalidEncryptionIdentity],
    ['no managed identity at all', { assign: null, encryptionIdentity: null }, STORAGE_ERROR_CODES.InvalidEncryptionIdentity],
    ['an unknown keySource', { keySource: 'Microsoft.HSM' }, STORAGE_ERROR_CODES.InvalidEncryptionKeySource],
  ])('refuses %s', async (...row) => {
    // (a rest parameter: jest would take a fourth named parameter for the `done` callback)
    const [, options, code, reason] = row;
    const before = structuredClone(sim.state.get(simStorageId(SIM_STORAGE_NO_CMK)));
    expectRefused(await patch(SIM_STORAGE_NO_CMK, cmkPatch(options)), code, reason);
    expect(sim.state.get(simStorageId(SIM_STORAGE_NO_CMK))).toEqual(before);
  });

  it('refuses the identity type with a space, two user-assigned identities, unknown identities and a keyType change', async () => {
    const spaced = cmkPatch();
    spaced.identity.type = 'SystemAssigned, UserAssigned';
    expectRefused(await patch(SIM_STORAGE_NO_CMK, spaced), STORAGE_ERROR_CODES.InvalidIdentityType);
    expectRefused(await patch(SIM_STORAGE_NO_CMK, cmkPatch({ assign: [SIM_IDENTITY, SIM_IDENTITY_NO_ACCESS] })), STORAGE_ERROR_CODES.MultipleUserAssignedIdentitiesNotSupported);
    expectRefused(await patch(SIM_STORAGE_NO_CMK, { identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId('id-ghost')]: {} } } }), 'InvalidUserAssignedIdentity');
    expectRefused(await patch(SIM_STORAGE_NO_CMK, { identity: { type: 'UserAssigned' } }), 'InvalidUserAssignedIdentity');
    const keyType = cmkPatch();
    keyType.properties.encryption.services.blob.keyType = 'Service';
    expectRefused(await patch(SIM_STORAGE_NO_CMK, keyType), STORAGE_ERROR_CODES.AccountPropertyCannotBeUpdated);
  });

  it('needs the bot’s write right on the account and assign right on the identity', async () => {
    const noAssign = cmkPatch({ encryptionIdentity: SIM_IDENTITY_NO_ASSIGN });
    const res = await patch(SIM_STORAGE_NO_CMK, noAssign);
    expect([res.status, res.body.error.code]).toEqual([403, 'LinkedAuthorizationFailed']);
    sim.state.delete(simSeededRoleAssignmentId('botContributor'));
    const denied = await patch(SIM_STORAGE_NO_CMK, cmkPatch());
    expect([denied.status, denied.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(denied.body.error.message).toContain(SIM_BOT_PRINCIPAL_ID);
  });

  it('leaves an unchanged key alone (tags on stbadkey), but keeps the encryption identity assigned', async () => {
    const tags = await patch(SIM_STORAGE_BAD_KEY, { tags: { owner: 'chatops' } });
    expect([tags.status, tags.body.tags]).toEqual([200, { owner: 'chatops' }]);
    expect(tags.body.properties.encryption.keyvaultproperties.keyname).toBe(SIM_EXPIRED_KEY);
    // Re-sending the encryption block re-validates the key.
    expectRefused(await patch(SIM_STORAGE_BAD_KEY, { properties: { encryption: { keySource: 'Microsoft.Keyvault' } } }), STORAGE_ERROR_CODES.KeyVaultKeyExpired, 'KeyExpired');
    expectRefused(await patch(SIM_STORAGE_CMK, { identity: { type: 'None' } }), STORAGE_ERROR_CODES.InvalidEncryptionIdentity);
    // Back to Microsoft-managed keys is allowed.
    const back = await patch(SIM_STORAGE_CMK, { properties: { encryption: { keySource: 'Microsoft.Storage' } } });
    expect(back.status).toBe(200);
    expect(back.body.properties.encryption.keySource).toBe('Microsoft.Storage');
    expect(back.body.properties.encryption.keyvaultproperties).toBeUndefined();
  });

  it('updates network access', async () => {
    const open = await patch(SIM_STORAGE_PRIVATE, { properties: { networkAcls: { defaultAction: 'Allow' } } });
    expect(open.status).toBe(200);
    expect(open.body.properties.networkAcls).toEqual({ bypass: 'AzureServices', virtualNetworkRules: [], ipRules: [], resourceAccessRules: [], defaultAction: 'Allow' });
    const closed = await patch(SIM_STORAGE_PRIVATE, { properties: { publicNetworkAccess: 'disabled' } });
    expect(closed.body.properties.publicNetworkAccess).toBe('Disabled');
    expectRefused(await patch(SIM_STORAGE_PRIVATE, { properties: { publicNetworkAccess: 'Sometimes' } }), 'InvalidRequestContent');
    expectRefused(await patch(SIM_STORAGE_PRIVATE, { properties: { networkAcls: { bypass: 'None' } } }), 'InvalidRequestContent');
  });
});

describe('blob containers', () => {
  const containers = (account: string) => `${simStorageId(account)}/blobServices/default/containers`;

  it('answers GET of the seeded container with BlobContainersGet.json’s shape', async () => {
    const res = await call(sim, 'GET', simStorageContainerId(SIM_STORAGE_CMK, SIM_CHAOS_CONTAINER), { apiVersion: V });
    expect(res.status).toBe(200);
    const example = loadExample('Microsoft.Storage/2025-01-01/BlobContainersGet.json').responses['200'].body;
    // The example container has an immutability policy and legal holds; the seeded one has neither.
    expect(shapeDiff(example, res.body, ['properties.immutabilityPolicy', 'properties.legalHold'])).toEqual([]);
    expect(res.body).toMatchObject({
      id: simStorageContainerId(SIM_STORAGE_CMK, SIM_CHAOS_CONTAINER),
      name: SIM_CHAOS_CONTAINER,
      type: 'Microsoft.Storage/storageAccounts/blobServices/containers',
      properties: { publicAccess: 'None', hasImmutabilityPolicy: false, hasLegalHold: false, leaseState: 'Available' },
    });
    const missing = await call(sim, 'GET', simStorageContainerId(SIM_STORAGE_CMK, 'nothere'), { apiVersion: V });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'ResourceNotFound']);
  });

  it('PUT creates (201), then answers 200 for an existing container, like BlobContainersPut.json; lists them', async () => {
    const example = loadExample('Microsoft.Storage/2025-01-01/BlobContainersPut.json');
    const created = await call(sim, 'PUT', simStorageContainerId(SIM_STORAGE_NO_CMK, 'exp-data-1'), { apiVersion: V, body: example.parameters.blobContainer });
    expect(created.status).toBe(201);
    expect(shapeDiff(example.responses['201'].body, created.body)).toEqual([]);
    const again = await call(sim, 'PUT', simStorageContainerId(SIM_STORAGE_NO_CMK, 'exp-data-1'), { apiVersion: V, body: {} });
    expect(again.status).toBe(200);
    expect(shapeDiff(example.responses['200'].body, again.body)).toEqual([]);
    const noBody = await call(sim, 'PUT', simStorageContainerId(SIM_STORAGE_NO_CMK, 'exp-data-2'), { apiVersion: V });
    expect(noBody.status).toBe(201);
    const list = await call(sim, 'GET', containers(SIM_STORAGE_NO_CMK), { apiVersion: V });
    expect(list.body.value.map((c: Json) => c.name)).toEqual(['exp-data-1', 'exp-data-2']);
    expect((await call(sim, 'DELETE', simStorageContainerId(SIM_STORAGE_NO_CMK, 'exp-data-2'), { apiVersion: V })).status).toBe(200);
    expect((await call(sim, 'DELETE', simStorageContainerId(SIM_STORAGE_NO_CMK, 'exp-data-2'), { apiVersion: V })).status).toBe(204);
  });

  it.each(['ab', 'a'.repeat(64), 'Data', 'data_1', 'a--b', '-data', 'data-'])('refuses the container name %s (ContainerOperationFailure)', async (name) => {
    const res = await call(sim, 'PUT', simStorageContainerId(SIM_STORAGE_NO_CMK, name), { apiVersion: V, body: {} });
    expectRefused(res, STORAGE_ERROR_CODES.ContainerOperationFailure);
  });

  it('refuses public access on an account that disallows it, and writes without rights', async () => {
    const pub = await call(sim, 'PUT', simStorageContainerId(SIM_STORAGE_NO_CMK, 'public'), { apiVersion: V, body: { properties: { publicAccess: 'Blob' } } });
    expect([pub.status, pub.body.error.code]).toEqual([409, STORAGE_ERROR_CODES.PublicAccessNotPermitted]);
    sim.state.delete(simSeededRoleAssignmentId('botContributor'));
    const denied = await call(sim, 'PUT', simStorageContainerId(SIM_STORAGE_NO_CMK, 'denied'), { apiVersion: V, body: {} });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'AuthorizationFailed']);
  });
});
