// Table-driven: for every check id, a passing and a failing (or warning) world built
// from the reference examples' shapes; asserts status and the finding a user would read.
import { chaosApiVersion, chaosBlastRadius, chaosCreateOnly, chaosIdentityMatch, storageBlobWrite, storageCmkEnabled, storageContainerName, storageExists, storagePublicAccess } from '../../src/checks/catalogue/chaos.checks';
import { botCanWrite } from '../../src/checks/catalogue/bot.checks';
import { cmkOf, fluidRelayCreateOnly, fluidRelayPreviousKeyAlive } from '../../src/checks/catalogue/fluid-relay.checks';
import { keyType, keyUrlFormat } from '../../src/checks/catalogue/key.checks';
import { vaultPurgeProtection } from '../../src/checks/catalogue/vault.checks';
import { reading, readsOf, type Change, type Check } from '../../src/checks/types';
import { keyFromStorageAccount, keyFromUrl, type CmkSubject } from '../../src/checks/facts';
import { fluidRelayChecks } from '../../src/targets/fluid-relay.target';
import { runChecks } from '../../src/checks/runner';
import type { CheckResult } from '../../src/domain/types';
import { readFileSync, existsSync } from 'node:fs';
import { ArmError, type ArmResource } from '../../src/azure/port';
import { TARGETS } from '../../src/targets';
import { parseForm, type Target } from '../../src/targets/types';
import { FakeArm, IDENTITY_ID, NOW, PRINCIPAL, SUB, VAULT_ID, VERSION, identity, key, roleAssignment, roleDefinition, vault } from '../fixtures/arm-factories';

const KEY_PATH = `${VAULT_ID}/keys/sample-key-name`;
const LOOKUP = `/subscriptions/${SUB}/resources?$filter=resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'sample-vault'`;
// assignedTo() — not principalId eq — so that assignments to the identity's groups count too.
const RA_LIST = `${KEY_PATH}/providers/Microsoft.Authorization/roleAssignments?$filter=assignedTo('${PRINCIPAL}')`;
const SUB2 = '22222222-0000-0000-0000-000000000000';
const VAULT2_ID = `/subscriptions/${SUB2}/resourceGroups/keys-group/providers/Microsoft.KeyVault/vaults/sample-vault`;
const LOOKUP2 = `/subscriptions/${SUB2}/resources?$filter=resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'sample-vault'`;
const GROUP = '99999999-aaaa-4bbb-8ccc-dddddddddddd';
const CSEU = 'e147488a-f6f5-4113-8e2d-b22465e65bf6';

const RG = `/subscriptions/${SUB}/resourceGroups/sample-group`;
const SERVER = `${RG}/providers/Microsoft.FluidRelay/fluidRelayServers/fr1`;
const FR_PROVIDER = `/subscriptions/${SUB}/providers/Microsoft.FluidRelay`;
const CONTRIBUTOR = { actions: ['*'], notActions: ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/*/Delete'] };
const MI_OPERATOR = { actions: ['Microsoft.ManagedIdentity/userAssignedIdentities/*/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action'] };
const READER = { actions: ['*/read'] };

const subject = (over: Partial<CmkSubject> = {}): CmkSubject => ({
  resourceId: SERVER,
  subscriptionId: SUB,
  location: 'westus',
  keyUrl: 'https://sample-vault.vault.azure.net/keys/sample-key-name',
  identityId: IDENTITY_ID,
  cmkIdentityType: 'UserAssigned',
  assignedIdentityIds: [IDENTITY_ID],
  ...over,
});

/** The Fluid Relay checks as the targets configure them: creating a server (fluid-relay), changing its key (fluid-relay-rotate), a review. */
const FLUID_RELAY_CHECKS = fluidRelayChecks('create', 'fluid-relay');

const serverWithKey = (keyUrl?: string) => ({
  id: SERVER,
  name: 'fr1',
  location: 'westus',
  identity: { type: 'UserAssigned', userAssignedIdentities: { [IDENTITY_ID]: {} } },
  properties: {
    provisioningState: 'Succeeded',
    ...(keyUrl ? { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: IDENTITY_ID }, keyEncryptionKeyUrl: keyUrl } } } : {}),
  },
});

function world(mod: (arm: FakeArm) => void = () => undefined): FakeArm {
  const arm = new FakeArm()
    .on(LOOKUP, [{ id: VAULT_ID, name: 'sample-vault', type: 'Microsoft.KeyVault/vaults' }])
    .on(VAULT_ID, vault())
    .on(KEY_PATH, key())
    .on(`${KEY_PATH}/versions/${VERSION}`, key({ id: `${KEY_PATH}/versions/${VERSION}`, name: VERSION }))
    .on(IDENTITY_ID, identity())
    .on(`${RG}/providers/Microsoft.Authorization/permissions`, [CONTRIBUTOR])
    .on(`${IDENTITY_ID}/providers/Microsoft.Authorization/permissions`, [CONTRIBUTOR, MI_OPERATOR])
    .on(FR_PROVIDER, { id: FR_PROVIDER, namespace: 'Microsoft.FluidRelay', registrationState: 'Registered', registrationPolicy: 'RegistrationRequired' });
  mod(arm);
  return arm;
}

/** A vault access policy naming GROUP (an Entra group's object id). */
const groupPolicy = (keys = ['get', 'wrapKey', 'unwrapKey']) => ({ tenantId: 'x', objectId: GROUP, permissions: { keys } });

/** A role assignment made `minutesAgo` before NOW (ARM's properties.createdOn). */
function datedAssignment(scope: string, roleGuid: string, minutesAgo: number) {
  const a = roleAssignment(scope, roleGuid);
  return { ...a, name: `${a.name}-${minutesAgo}`, id: `${a.id}-${minutesAgo}`, properties: { ...a.properties, createdOn: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString() } };
}

function rbacWorld(roleGuid: string, roleName: string, perms: Parameters<typeof roleDefinition>[2], scope = VAULT_ID) {
  return (arm: FakeArm) => {
    arm.on(VAULT_ID, vault({ properties: { enableRbacAuthorization: true, accessPolicies: [] } }));
    arm.on(RA_LIST, [roleAssignment(scope, roleGuid)]);
    arm.on(`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`, roleDefinition(roleGuid, roleName, perms));
  };
}

async function run(arm: FakeArm, s: CmkSubject = subject(), change: Change = 'create'): Promise<Map<string, CheckResult>> {
  const results = await runChecks(arm, s, change === 'create' ? FLUID_RELAY_CHECKS : fluidRelayChecks(change, 'fluid-relay'), { now: NOW, expiryWarningDays: 30 });
  return new Map(results.map((r) => [r.id, r]));
}

const nowS = Math.floor(NOW.getTime() / 1000);

/** How the checks of a row are configured (as a target would): the change, and for chaos.api-version the api-version written. */
interface Config {
  change?: Change;
  apiVersion?: string;
}
type Case = [name: string, id: string, status: CheckResult['status'], finding: RegExp, setup?: (arm: FakeArm) => void, subj?: Partial<CmkSubject>, config?: Config];

const cases: Case[] = [
  ['versionless URL passes', 'key.url-format', 'pass', /Versionless URL for sample-key-name/],
  ['pinned URL passes', 'key.url-format', 'pass', /Pinned to version fd618d95/, undefined, { keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` }],
  ['http URL fails', 'key.url-format', 'fail', /must use https/, undefined, { keyUrl: 'http://sample-vault.vault.azure.net/keys/k' }],
  ['query string fails', 'key.url-format', 'fail', /query string/, undefined, { keyUrl: 'https://sample-vault.vault.azure.net/keys/k?x=1' }],
  ['foreign host fails', 'key.url-format', 'fail', /not a Key Vault/, undefined, { keyUrl: 'https://example.com/keys/k' }],
  ['bad version fails', 'key.url-format', 'fail', /not a key version/, undefined, { keyUrl: 'https://sample-vault.vault.azure.net/keys/k/v1' }],
  ['RSA 2048 passes', 'key.type', 'pass', /RSA key of 2048 bits/],
  ['EC key fails', 'key.type', 'fail', /is EC; customer-managed keys need RSA/, (a) => a.on(KEY_PATH, key({ properties: { kty: 'EC', keySize: undefined, curveName: 'P-256' } }))],
  ['RSA 1024 fails', 'key.type', 'fail', /Key size 1024 is not supported/, (a) => a.on(KEY_PATH, key({ properties: { keySize: 1024 } }))],
  ['missing key fails', 'key.type', 'fail', /was not found in vault sample-vault/, (a) => a.fail(KEY_PATH, 404, 'ResourceNotFound')],
  ['missing vault fails', 'key.type', 'fail', /Vault sample-vault was not found/, (a) => a.on(LOOKUP, [])],
  ['enabled key passes', 'key.enabled', 'pass', /Enabled/],
  ['disabled key fails', 'key.enabled', 'fail', /disabled/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { enabled: false } } }))],
  ['nbf in future fails', 'key.enabled', 'fail', /not active until/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { nbf: nowS + 86400 } } }))],
  [
    'disabled pinned version fails',
    'key.enabled',
    'fail',
    /version fd618d95.* is disabled/,
    (a) => a.on(`${KEY_PATH}/versions/${VERSION}`, key({ properties: { attributes: { enabled: false } } })),
    { keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` },
  ],
  ['far expiry passes', 'key.not-expired', 'pass', /Expires on/],
  ['expired fails', 'key.not-expired', 'fail', /expired on/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { exp: nowS - 60 } } }))],
  ['expiring soon warns', 'key.not-expired', 'warn', /within 30 days/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { exp: nowS + 5 * 86400 } } }))],
  [
    'expired pinned version fails though the key is fine',
    'key.not-expired',
    'fail',
    /sample-key-name \(version fd618d95.*\) expired/,
    (a) => a.on(`${KEY_PATH}/versions/${VERSION}`, key({ properties: { attributes: { exp: nowS - 86400 } } })),
    { keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` },
  ],
  ['identity found passes', 'identity.exists', 'pass', /Identity identityName exists/],
  ['identity missing fails', 'identity.exists', 'fail', /was not found/, (a) => a.fail(IDENTITY_ID, 404, 'ResourceNotFound')],
  [
    'RBAC granted to a group the identity belongs to passes (assignedTo lists it)',
    'identity.key-permissions',
    'pass',
    /Key Vault Crypto Service Encryption User/,
    (a) => {
      rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/wrap/action', 'Microsoft.KeyVault/vaults/keys/unwrap/action'] })(a);
      a.on(RA_LIST, [{ ...roleAssignment(VAULT_ID, CSEU, GROUP), properties: { ...roleAssignment(VAULT_ID, CSEU, GROUP).properties, principalType: 'Group' } }]);
    },
  ],
  ['access policy passes', 'identity.key-permissions', 'pass', /access policy for principal/],
  [
    'access policy without unwrap fails',
    'identity.key-permissions',
    'fail',
    /lacks key permission\(s\) unwrapKey/,
    (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [{ tenantId: 'x', objectId: PRINCIPAL, permissions: { keys: ['get', 'wrapKey'] } }] } })),
  ],
  [
    'an access policy for a group the identity belongs to passes (Graph membership)',
    'identity.key-permissions',
    'pass',
    /access policy for group 99999999-aaaa-4bbb-8ccc-dddddddddddd, which identityName belongs to/,
    (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [groupPolicy()] } })).groups(['12345678-0000-4000-8000-000000000000', GROUP]),
  ],
  [
    'an access policy for a group, the bot not allowed to read memberships: warns naming the group',
    'identity.key-permissions',
    'warn',
    /grants get, wrapKey and unwrapKey to 99999999-aaaa-4bbb-8ccc-dddddddddddd but not to identityName itself.*GroupMember.Read.All/,
    (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [groupPolicy()] } })).groups('forbidden'),
  ],
  [
    'an access policy for a group, no Graph at all: warns naming the group',
    'identity.key-permissions',
    'warn',
    /grants get, wrapKey and unwrapKey to 99999999-aaaa-4bbb-8ccc-dddddddddddd .*no Microsoft Graph endpoint/,
    (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [groupPolicy()] } })),
  ],
  [
    'an access policy for a group the identity is not in fails',
    'identity.key-permissions',
    'fail',
    /has no access policy for identity identityName .* or any group it belongs to/,
    (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [groupPolicy()] } })).groups([]),
  ],
  [
    'own policy with get and wrapKey plus a group policy with unwrapKey add up',
    'identity.key-permissions',
    'pass',
    /principal 25cc773c.* and group 9999/,
    (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [{ tenantId: 'x', objectId: PRINCIPAL, permissions: { keys: ['get', 'wrapKey'] } }, groupPolicy(['unwrapKey'])] } })).groups([GROUP]),
  ],
  ['no access policy fails', 'identity.key-permissions', 'fail', /has no access policy for identity identityName/, (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [] } }))],
  [
    'RBAC built-in role passes and names the assignment',
    'identity.key-permissions',
    'pass',
    /Key Vault Crypto Service Encryption User/,
    rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/wrap/action', 'Microsoft.KeyVault/vaults/keys/unwrap/action'] }),
  ],
  [
    'RBAC custom wildcard role inherited from the resource group passes',
    'identity.key-permissions',
    'pass',
    /"Key wildcard"/,
    rbacWorld('11111111-2222-3333-4444-555555555555', 'Key wildcard', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'] }, `/subscriptions/${SUB}/resourceGroups/sample-group`),
  ],
  [
    'RBAC role with wrap but not unwrap fails',
    'identity.key-permissions',
    'fail',
    /lacks the unwrap data action/,
    rbacWorld('11111111-2222-3333-4444-555555555556', 'Wrap only', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'], notDataActions: ['Microsoft.KeyVault/vaults/keys/unwrap/action'] }),
  ],
  [
    'RBAC vault with no assignment fails with the az fix',
    'identity.key-permissions',
    'fail',
    /lacks the read, wrap, unwrap data action/,
    (a) => {
      a.on(VAULT_ID, vault({ properties: { enableRbacAuthorization: true } }));
      a.on(RA_LIST, []);
    },
  ],
  [
    'a grant made months ago passes grant-age',
    'identity.grant-age',
    'pass',
    /The newest grant \("Key Vault Crypto Service Encryption User"\) was made 7200 hours ago/,
    (a) => {
      rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'] })(a);
      a.on(RA_LIST, [datedAssignment(VAULT_ID, CSEU, 300 * 24 * 60)]);
    },
  ],
  [
    'a grant made 20 minutes ago warns with its age: managed identities can take hours to see it',
    'identity.grant-age',
    'warn',
    /"Key Vault Crypto Service Encryption User" at .*sample-vault was granted 20 minutes ago; it can take several hours/,
    (a) => {
      rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'] })(a);
      a.on(RA_LIST, [datedAssignment(VAULT_ID, CSEU, 300 * 24 * 60), datedAssignment(VAULT_ID, CSEU, 20)]);
    },
  ],
  ['an access-policy vault has no grant times to judge: said plainly', 'identity.grant-age', 'info', /access policies, which carry no creation time/],
  ['same region passes', 'placement.same-region', 'pass', /All in westus/],
  ['vault found passes', 'key.vault-found', 'pass', /Vault sample-vault \(westus\)/],
  [
    'vault missing fails',
    'key.vault-found',
    'fail',
    /was not found in subscription .* or any other subscription the bot can read/,
    (a) =>
      a
        .on(LOOKUP, [])
        .on('/subscriptions', [{ subscriptionId: SUB }, { subscriptionId: SUB2 }])
        .on(LOOKUP2, []),
  ],
  [
    'vault in another subscription the bot can read passes',
    'key.vault-found',
    'pass',
    /Vault sample-vault \(westus\)/,
    (a) => {
      a.on(LOOKUP, [])
        .on('/subscriptions', [{ subscriptionId: SUB }, { subscriptionId: SUB2 }])
        .on(LOOKUP2, [{ id: VAULT2_ID, name: 'sample-vault' }]);
      a.on(VAULT2_ID, vault({ id: VAULT2_ID })).on(`${VAULT2_ID}/keys/sample-key-name`, key());
    },
  ],
  ['managed HSM key warns that ARM cannot verify it', 'key.vault-found', 'warn', /is a Managed HSM/, undefined, { keyUrl: 'https://contoso-hsm.managedhsm.azure.net/keys/hsm-key' }],
  ['wrap and unwrap allowed passes', 'key.ops', 'pass', /wrapKey and unwrapKey allowed/],
  ['key ops without unwrap fail', 'key.ops', 'fail', /does not allow unwrapKey/, (a) => a.on(KEY_PATH, key({ properties: { keyOps: ['wrapKey', 'sign'] } }))],
  ['an EC key is not told to allow wrapKey', 'key.ops', 'fail', /EC keys cannot wrap or unwrap at all/, (a) => a.on(KEY_PATH, key({ properties: { kty: 'EC', keyOps: ['sign', 'verify'] } }))],
  ['pinned version warns about manual rotation', 'key.version-policy', 'warn', /Pinned to version .* new key versions are not picked up/, undefined, { keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` }],
  ['versionless URL informs about daily auto-rotation', 'key.version-policy', 'info', /checks the vault daily/],
  ['soft delete on passes', 'vault.soft-delete', 'pass', /Soft delete is on/],
  ['soft delete off fails', 'vault.soft-delete', 'fail', /soft delete off/, (a) => a.on(VAULT_ID, vault({ properties: { enableSoftDelete: false } }))],
  ['purge protection on passes', 'vault.purge-protection', 'pass', /Purge protection is on/],
  ['purge protection off warns for Fluid Relay', 'vault.purge-protection', 'warn', /purge protection off/, (a) => a.on(VAULT_ID, vault({ properties: { enablePurgeProtection: false } }))],
  ['firewall with trusted services passes', 'vault.firewall', 'pass', /trusted Azure services allowed/, (a) => a.on(VAULT_ID, vault({ properties: { networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' } } as never }))],
  ['firewall without bypass fails', 'vault.firewall', 'fail', /without the trusted-services exception/, (a) => a.on(VAULT_ID, vault({ properties: { networkAcls: { defaultAction: 'Deny', bypass: 'None' } } as never }))],
  ['expiry without rotation is info', 'vault.rotation-policy', 'info', /expiry date but no automatic rotation/],
  ['no rotation policy and no expiry is said plainly', 'vault.rotation-policy', 'info', /neither a rotation policy nor an expiry/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { exp: undefined } } }))],
  [
    'a rotation policy is recognised',
    'vault.rotation-policy',
    'info',
    /rotation policy that rotates it/,
    (a) => a.on(KEY_PATH, { ...key(), properties: { ...key().properties, rotationPolicy: { lifetimeActions: [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'rotate' } }] } } }),
  ],
  ['user-assigned identity passes', 'identity.user-assigned', 'pass', /User-assigned identity/],
  ['system-assigned CMK identity fails', 'identity.user-assigned', 'fail', /must use a user-assigned identity/, undefined, { cmkIdentityType: 'SystemAssigned' }],
  ['identity in payload passes', 'identity.assigned-to-resource', 'pass', /carries identityName/],
  ['identity missing from payload fails', 'identity.assigned-to-resource', 'fail', /is not among the resource's user-assigned identities/, undefined, { assignedIdentityIds: [] }],
  ['same tenant passes', 'identity.same-tenant', 'pass', /Both in tenant/],
  ['other tenant fails', 'identity.same-tenant', 'fail', /cross-tenant CMK is not supported/, (a) => a.on(IDENTITY_ID, identity({ properties: { tenantId: '99999999-9999-4999-8999-999999999999' } }))],
  ['bot with rights passes', 'bot.can-write', 'pass', /may write the resource and assign the identity/],
  [
    'Managed Identity Operator alone (…/userAssignedIdentities/*/assign/action) grants the concrete assign action',
    'bot.can-write',
    'pass',
    /may write the resource and assign the identity/,
    (a) => a.on(`${IDENTITY_ID}/providers/Microsoft.Authorization/permissions`, [MI_OPERATOR]),
  ],
  ['bot with read only fails before approval', 'bot.can-write', 'fail', /lacks Microsoft.FluidRelay\/fluidRelayServers\/write/, (a) => a.on(`${RG}/providers/Microsoft.Authorization/permissions`, [READER])],
  ['bot without assign on the identity fails', 'bot.can-write', 'fail', /lacks Microsoft.ManagedIdentity\/userAssignedIdentities\/assign\/action/, (a) => a.on(`${IDENTITY_ID}/providers/Microsoft.Authorization/permissions`, [READER])],
  ['a registered resource provider passes', 'provider.registered', 'pass', /Microsoft.FluidRelay is registered in subscription/],
  [
    'an unregistered resource provider fails before approval, with the command that registers it',
    'provider.registered',
    'fail',
    /Microsoft.FluidRelay is NotRegistered in subscription .*MissingSubscriptionRegistration/,
    (a) => a.on(FR_PROVIDER, { id: FR_PROVIDER, namespace: 'Microsoft.FluidRelay', registrationState: 'NotRegistered' }),
  ],
  ['a namespace ARM does not know in the subscription fails', 'provider.registered', 'fail', /does not know the resource provider Microsoft.FluidRelay/, (a) => a.fail(FR_PROVIDER, 404, 'InvalidResourceNamespace')],
  ['a provider still registering fails until it is done', 'provider.registered', 'fail', /still registering/, (a) => a.on(FR_PROVIDER, { namespace: 'Microsoft.FluidRelay', registrationState: 'Registering' })],
  ['new server name passes create-only', 'fluidrelay.create-only', 'pass', /does not exist yet/],
  ['existing server without CMK is refused', 'fluidrelay.create-only', 'fail', /already exists without CMK/, (a) => a.on(SERVER, serverWithKey())],
  ['review of a server with CMK passes', 'fluidrelay.create-only', 'pass', /has CMK/, (a) => a.on(SERVER, serverWithKey('https://sample-vault.vault.azure.net/keys/sample-key-name')), {}, { change: 'review' }],
  [
    'removing CMK is refused',
    'fluidrelay.no-disable',
    'fail',
    /cannot be disabled once enabled/,
    (a) => a.on(SERVER, serverWithKey('https://sample-vault.vault.azure.net/keys/sample-key-name')),
    { payload: { properties: { encryption: {} } } },
    { change: 'update' },
  ],
  [
    'a key change that keeps CMK is not a removal',
    'fluidrelay.no-disable',
    'pass',
    /CMK stays enabled/,
    (a) => a.on(SERVER, serverWithKey('https://sample-vault.vault.azure.net/keys/sample-key-name')),
    { payload: serverWithKey('https://sample-vault.vault.azure.net/keys/other-key') },
    { change: 'update' },
  ],
  ['a create is not a disable', 'fluidrelay.no-disable', 'info', /Not a change to an existing server/],
  [
    'key change while the configured version works passes',
    'fluidrelay.previous-key-alive',
    'pass',
    /is enabled and not expired/,
    (a) => a.on(SERVER, serverWithKey(`https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}`)),
    {},
    { change: 'update' },
  ],
  [
    'key change while the configured version is expired fails',
    'fluidrelay.previous-key-alive',
    'fail',
    /is expired .* refuses key changes/,
    (a) => {
      a.on(SERVER, serverWithKey(`https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}`));
      a.on(`${KEY_PATH}/versions/${VERSION}`, key({ properties: { attributes: { exp: nowS - 10 } } }));
    },
    {},
    { change: 'update' },
  ],
  ['identity elsewhere fails', 'placement.same-region', 'fail', /identity identityName is in eastus/, (a) => a.on(IDENTITY_ID, identity({ location: 'eastus' }))],
  ['region spelling differences are the same region', 'placement.same-region', 'pass', /All in West US/, undefined, { location: 'West US' }],
];

describe('CMK prerequisite checks (Fluid Relay catalogue)', () => {
  it.each(cases.map(([name, id, status, finding, setup, subj, config]) => ({ name, id, status, finding, setup, subj, config })))('$name → $id $status', async ({ id, status, finding, setup, subj, config }) => {
    const results = await run(world(setup), subject(subj), config?.change);
    const r = results.get(id)!;
    expect(r).toBeDefined();
    expect({ status: r.status, finding: r.finding }).toEqual({ status, finding: expect.stringMatching(finding) });
    if (status === 'fail') expect(r.remedy).toBeTruthy();
  });

  it('asks Microsoft Graph about memberships only when an access policy names someone other than the identity', async () => {
    const own = world().groups([GROUP]);
    await run(own);
    expect(own.calls.filter((c) => c.startsWith('GRAPH'))).toEqual([]);
    const group = world((a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [groupPolicy()] } }))).groups([GROUP]);
    await run(group);
    expect(group.calls.filter((c) => c.startsWith('GRAPH'))).toEqual([`GRAPH memberOf ${PRINCIPAL}`]);
  });

  it('a failing Graph read is an error with its code, never a silent failure of the identity', async () => {
    const results = await run(world((a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [groupPolicy()] } })).groups(new ArmError('ServiceUnavailable', 'Graph is down', 503, 'corr-g'))));
    expect(results.get('identity.key-permissions')).toMatchObject({ status: 'error', evidence: { armCode: 'ServiceUnavailable', correlationId: 'corr-g' } });
  });

  it('provider.registered names the complete az command that registers the namespace in the target subscription', async () => {
    const results = await run(world((a) => a.on(FR_PROVIDER, { namespace: 'Microsoft.FluidRelay', registrationState: 'NotRegistered' })));
    const r = results.get('provider.registered')!;
    expect(r.remedy).toContain(`az provider register --namespace Microsoft.FluidRelay --subscription ${SUB}`);
    expect(r.evidence).toMatchObject({ namespace: 'Microsoft.FluidRelay', subscriptionId: SUB, registrationState: 'NotRegistered' });
  });

  it('covers every check id of the catalogue with a passing and a non-passing row', () => {
    const INFO_ONLY = new Set(['vault.rotation-policy']); // severity info by design: needs distinct findings instead
    for (const c of FLUID_RELAY_CHECKS) {
      const rows = cases.filter((r) => r[1] === c.id).map((r) => r[2]);
      if (INFO_ONLY.has(c.id)) {
        expect(new Set(cases.filter((r) => r[1] === c.id).map((r) => String(r[3]))).size).toBeGreaterThanOrEqual(3);
        continue;
      }
      expect({ id: c.id, passing: rows.some((s) => s === 'pass' || s === 'info') }).toEqual({ id: c.id, passing: true });
      expect({ id: c.id, failing: rows.some((s) => s === 'fail' || s === 'warn') }).toEqual({ id: c.id, failing: true });
    }
  });

  it('a Managed HSM key is never passed silently: what ARM cannot see is a warning with the reason', async () => {
    const results = await run(world(), subject({ keyUrl: 'https://contoso-hsm.managedhsm.azure.net/keys/hsm-key' }));
    for (const id of ['key.vault-found', 'key.type', 'key.enabled', 'key.not-expired', 'key.ops', 'identity.key-permissions', 'identity.same-tenant', 'placement.same-region']) {
      expect({ id, status: results.get(id)!.status }).toEqual({ id, status: 'warn' });
    }
    expect(results.get('key.type')!.finding).toMatch(/Cannot verify the key type for Managed HSM contoso-hsm/);
    expect([...results.values()].filter((r) => r.status === 'fail').map((r) => r.id)).toEqual([]);
  });

  it('an unreadable vault yields error with the ARM code and correlation id, never a throw', async () => {
    const results = await run(world((a) => a.fail(VAULT_ID, 403, 'AuthorizationFailed')));
    const r = results.get('identity.key-permissions')!;
    expect(r.status).toBe('error');
    expect(r.finding).toMatch(/AuthorizationFailed/);
    expect(r.evidence.correlationId).toBe('corr-123');
  });

  it('reads each resource once per run even though several checks need it', async () => {
    const arm = world(rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'] }));
    await run(arm, subject({ keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` }));
    const counts = arm.calls.reduce<Record<string, number>>((m, c) => ({ ...m, [c]: (m[c] ?? 0) + 1 }), {});
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
    // lookup, vault, key, version, identity, role assignments, role definition, the server (404), bot rights ×2, the provider's registration
    expect(arm.calls).toHaveLength(11);
  });

  it('runs independent reads concurrently (speed itself is measured in bench/checks)', async () => {
    const arm = world(rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'] }));
    arm.latencyMs = 5;
    await run(arm);
    // The vault lookup, the identity, the server and the bot's two permission reads need nothing else: they start together.
    expect(arm.maxInFlight).toBeGreaterThanOrEqual(5);
  });
});

// ---- Chaos Studio and its storage account (catalogue "Chaos Studio experiment") ----
const STORAGE_ID = `${RG}/providers/Microsoft.Storage/storageAccounts/stchaos`;
const CONTAINER = `${STORAGE_ID}/blobServices/default/containers/chaosdata`;
const EXPERIMENT = `${RG}/providers/Microsoft.Chaos/experiments/exp1`;
const OTHER_IDENTITY = `/subscriptions/${SUB}/resourceGroups/sample-group/providers/Microsoft.ManagedIdentity/userAssignedIdentities/otherIdentity`;
const BLOB_RA_LIST = `${CONTAINER}/providers/Microsoft.Authorization/roleAssignments?$filter=assignedTo('${PRINCIPAL}')`;
const VM1 = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;
const VM2 = `/subscriptions/${SUB2}/resourceGroups/rg-other/providers/Microsoft.Compute/virtualMachines/vm2`;
const SBDC = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe';
/** The Chaos Studio checks, configured as a target would (the key from the storage account), for one change and write api-version. */
const chaosOnly = ({ change = 'create', apiVersion = '2023-10-27-preview' }: Config = {}): Check[] =>
  reading({ key: keyFromStorageAccount(), resource: { apiVersion: '2023-10-27-preview' } }, [
    chaosApiVersion({ apiVersion }),
    chaosBlastRadius,
    chaosCreateOnly({ change }),
    chaosIdentityMatch,
    storageExists,
    storagePublicAccess,
    storageCmkEnabled,
    storageBlobWrite,
    storageContainerName,
  ] as Check[]);
const CHAOS_ONLY = chaosOnly();

const storageAccount = (over: Record<string, unknown> = {}, encIdentity = IDENTITY_ID) => ({
  id: STORAGE_ID,
  name: 'stchaos',
  location: 'westus',
  identity: { type: 'UserAssigned', userAssignedIdentities: { [encIdentity]: {} } },
  properties: {
    publicNetworkAccess: 'Enabled',
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' },
    encryption: { keySource: 'Microsoft.Keyvault', keyvaultproperties: { keyvaulturi: 'https://sample-vault.vault.azure.net', keyname: 'sample-key-name', keyversion: '' }, identity: { userAssignedIdentity: encIdentity } },
    ...over,
  },
});

const chaosSubject = (over: Partial<CmkSubject> = {}): CmkSubject => ({
  resourceId: EXPERIMENT,
  subscriptionId: SUB,
  location: 'westus',
  keyUrl: '',
  identityId: IDENTITY_ID,
  cmkIdentityType: 'UserAssigned',
  assignedIdentityIds: [IDENTITY_ID],
  storageAccountId: STORAGE_ID,
  blobContainerName: 'chaosdata',
  reach: [
    { role: 'selector target', id: VM1 },
    { role: 'selector target', id: VM2 },
  ],
  ...over,
});

function chaosWorld(mod: (arm: FakeArm) => void = () => undefined): FakeArm {
  return world((arm) => {
    arm.on(STORAGE_ID, storageAccount()).on(CONTAINER, { id: CONTAINER, name: 'chaosdata' });
    arm.on(BLOB_RA_LIST, [roleAssignment(STORAGE_ID, SBDC)]);
    arm.on(`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${SBDC}`, roleDefinition(SBDC, 'Storage Blob Data Contributor', { dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'] }));
    mod(arm);
  });
}

const chaosCases: Case[] = [
  ['the preview api-version with customerDataStorage passes', 'chaos.api-version', 'pass', /whose published spec has customerDataStorage/],
  ['the newest GA version with customerDataStorage (2026-11-01) passes', 'chaos.api-version', 'pass', /2026-11-01/, undefined, {}, { apiVersion: '2026-11-01' }],
  ['a GA version without customerDataStorage fails', 'chaos.api-version', 'fail', /2025-01-01, whose spec has no customerDataStorage/, undefined, {}, { apiVersion: '2025-01-01' }],
  ['the resources the selectors target are listed with their subscriptions and groups', 'chaos.blast-radius', 'info', /Experiment exp1 reaches 2 resources \(vm1, vm2\) in 2 resource groups, across 2 subscriptions/],
  [
    'a query selector reaches every resource it finds in its subscriptions',
    'chaos.blast-radius',
    'info',
    /reaches 1 resource \(vm1\) in 1 resource group and every resource a query finds in subscription 2222/,
    undefined,
    {
      reach: [
        { role: 'selector target', id: `${RG}/providers/Microsoft.Compute/virtualMachines/vm1` },
        { role: 'selector query', id: `/subscriptions/${SUB2}` },
      ],
    },
  ],
  ['selectors that cannot be read are a warning: nobody could judge the reach', 'chaos.blast-radius', 'warn', /selectors of experiment exp1 could not be read/, undefined, { reach: undefined }],
  ['a new experiment passes create-only', 'chaos.create-only', 'pass', /does not exist yet/],
  [
    'a review of an experiment created with CMK passes',
    'chaos.create-only',
    'pass',
    /was created with CMK/,
    (a) => a.on(EXPERIMENT, { id: EXPERIMENT, name: 'exp1', properties: { steps: [], selectors: [], customerDataStorage: { storageAccountResourceId: STORAGE_ID, blobContainerName: 'chaosdata' } } }),
    {},
    { change: 'review' },
  ],
  ['an existing experiment without CMK is refused', 'chaos.create-only', 'fail', /already exists without CMK/, (a) => a.on(EXPERIMENT, { id: EXPERIMENT, name: 'exp1', properties: { steps: [], selectors: [] } })],
  ['the identity the account encrypts with passes', 'chaos.identity-match', 'pass', /the same one the storage account encrypts with/],
  [
    'a different identity from the account’s fails: the experiment would fail',
    'chaos.identity-match',
    'fail',
    /encrypts with identity otherIdentity.*the CMK experiment will fail/,
    (a) => a.on(STORAGE_ID, storageAccount({}, OTHER_IDENTITY)),
  ],
  ['an existing account passes', 'storage.exists', 'pass', /Storage account stchaos/],
  ['a missing account fails', 'storage.exists', 'fail', /was not found/, (a) => a.fail(STORAGE_ID, 404, 'ResourceNotFound')],
  ['public access from all networks passes', 'storage.public-access', 'pass', /Public network access from all networks/],
  ['a firewalled account fails', 'storage.public-access', 'fail', /default action Deny/, (a) => a.on(STORAGE_ID, storageAccount({ networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' } }))],
  ['an account with CMK passes', 'storage.cmk-enabled', 'pass', /customer-managed key/],
  ['an account with Microsoft-managed keys fails', 'storage.cmk-enabled', 'fail', /Microsoft-managed keys/, (a) => a.on(STORAGE_ID, storageAccount({ encryption: { keySource: 'Microsoft.Storage' } }))],
  ['Storage Blob Data Contributor passes', 'storage.blob-write', 'pass', /Storage Blob Data Contributor/],
  ['no blob role fails', 'storage.blob-write', 'fail', /cannot write blobs/, (a) => a.on(BLOB_RA_LIST, [])],
  ['an existing container passes', 'storage.container-name', 'pass', /Container chaosdata exists/],
  ['a container that does not exist yet is information: Chaos creates it', 'storage.container-name', 'info', /does not exist yet .*Chaos Studio creates it/, (a) => a.fail(CONTAINER, 404, 'ContainerNotFound')],
  ['an invalid container name fails', 'storage.container-name', 'fail', /not a valid container name/, undefined, { blobContainerName: 'Bad--Name' }],
];

describe('Chaos Studio checks', () => {
  it.each(chaosCases.map(([name, id, status, finding, setup, subj, config]) => ({ name, id, status, finding, setup, subj, config })))('$name → $id $status', async ({ id, status, finding, setup, subj, config }) => {
    const results = await runChecks(chaosWorld(setup), chaosSubject(subj), chaosOnly(config), { now: NOW, expiryWarningDays: 30 });
    const r = results.find((x) => x.id === id)!;
    expect(r).toBeDefined();
    expect({ status: r.status, finding: r.finding }).toEqual({ status, finding: expect.stringMatching(finding) });
    if (status === 'fail') expect(r.remedy).toBeTruthy();
  });

  it('covers every Chaos check with a passing and a non-passing row', () => {
    for (const c of CHAOS_ONLY) {
      const rows = chaosCases.filter((r) => r[1] === c.id).map((r) => r[2]);
      expect({ id: c.id, passing: rows.some((x) => x === 'pass' || x === 'info') }).toEqual({ id: c.id, passing: true });
      expect({ id: c.id, nonPassing: rows.some((s) => s !== 'pass') }).toEqual({ id: c.id, nonPassing: true });
    }
  });
});

// ---- Storage account CMK (catalogue "Storage account CMK") and the verifications after a write ----
const storageTarget = TARGETS['storage-cmk']!;
const storageForm = { storageAccountId: STORAGE_ID, identityId: IDENTITY_ID, keyUrl: 'https://sample-vault.vault.azure.net/keys/sample-key-name', keyVersion: 'latest' };

function paramsOf(target: Target, form: Record<string, string>): Record<string, unknown> {
  const r = parseForm(target, form);
  if (!r.ok) throw new Error(`${target.type}: sample form does not parse: ${JSON.stringify(r.errors)}`);
  return r.params;
}

const storageCases: Case[] = [
  ['an account that already carries the identity passes', 'storage.identity', 'pass', /already carries the identity/],
  [
    'an account with another user-assigned identity fails: the PATCH would replace it',
    'storage.identity',
    'fail',
    /already has user-assigned identity otherIdentity/,
    (a) => a.on(STORAGE_ID, { ...storageAccount({}, OTHER_IDENTITY), identity: { type: 'UserAssigned', userAssignedIdentities: { [OTHER_IDENTITY]: {} } } }),
  ],
  ['the encryption identity with an access policy passes', 'storage.key-access', 'pass', /access policy for principal/],
  ['the encryption identity without key access fails', 'storage.key-access', 'fail', /has no access policy for identity identityName/, (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [] } }))],
];

describe('Storage account CMK checks', () => {
  it.each(storageCases.map(([name, id, status, finding, setup]) => ({ name, id, status, finding, setup })))('$name → $id $status', async ({ id, status, finding, setup }) => {
    const s = storageTarget.subject(paramsOf(storageTarget, storageForm));
    const results = await runChecks(chaosWorld(setup), s, storageTarget.checks, { now: NOW, expiryWarningDays: 30 });
    const r = results.find((x) => x.id === id)!;
    expect(r).toBeDefined();
    expect({ status: r.status, finding: r.finding }).toEqual({ status, finding: expect.stringMatching(finding) });
    if (status === 'fail') expect(r.remedy).toBeTruthy();
  });
});

/** A verification row: the target's plan from a sample form, and what ARM shows after the write. */
type VerifyCase = [name: string, id: string, status: CheckResult['status'], finding: RegExp, type: string, form: Record<string, string>, actual: (planned: ArmResource) => ArmResource];
const frForm = { subscriptionId: SUB, resourceGroup: 'sample-group', name: 'fr1', location: 'westus', identityId: IDENTITY_ID, keyUrl: 'https://sample-vault.vault.azure.net/keys/sample-key-name', keyVersion: VERSION };
const chaosForm = {
  subscriptionId: SUB,
  resourceGroup: 'sample-group',
  name: 'exp1',
  location: 'westus',
  identityId: IDENTITY_ID,
  storageAccountId: STORAGE_ID,
  blobContainerName: 'chaosdata',
  template: 'vm-shutdown',
  targetResourceId: VM1,
};
const succeeded = (r: ArmResource): ArmResource => ({ ...r, properties: { ...(r.properties ?? {}), provisioningState: 'Succeeded' } });
const verifyCases: VerifyCase[] = [
  ['a server showing the approved key passes', 'fluidrelay.verify', 'pass', /GET shows the approved key and identity/, 'fluid-relay', frForm, succeeded],
  ['a server without the key after the write fails', 'fluidrelay.verify', 'fail', /encryption.customerManagedKeyEncryption is empty/, 'fluid-relay', frForm, (r) => succeeded({ ...r, properties: {} })],
  ['an experiment showing the approved customer data storage passes', 'chaos.verify', 'pass', /shows the approved storage account and container/, 'chaos-experiment', chaosForm, succeeded],
  ['an experiment without customer data storage fails', 'chaos.verify', 'fail', /customerDataStorage is empty/, 'chaos-experiment', chaosForm, (r) => succeeded({ ...r, properties: { steps: [], selectors: [] } })],
  ['an account showing the approved key passes', 'storage.verify', 'pass', /keySource Microsoft.Keyvault with the approved key/, 'storage-cmk', storageForm, (r) => r],
  ['an account still on Microsoft-managed keys fails', 'storage.verify', 'fail', /keySource is Microsoft.Storage/, 'storage-cmk', storageForm, (r) => ({ ...r, properties: { encryption: { keySource: 'Microsoft.Storage' } } })],
];

describe('verification after the write', () => {
  it.each(verifyCases.map(([name, id, status, finding, type, form, actual]) => ({ name, id, status, finding, type, form, actual })))('$name → $id $status', ({ id, status, finding, type, form, actual }) => {
    const target = TARGETS[type]!;
    const plan = target.plan(paramsOf(target, form));
    const r = target.verify(plan, actual({ id: plan.resourceId, ...(structuredClone(plan.body) as object) } as ArmResource));
    expect({ id: r.id, status: r.status, finding: r.finding }).toEqual({ id, status, finding: expect.stringMatching(finding) });
    if (status === 'fail') expect(r.remedy).toBeTruthy();
  });
});

// ---- The catalogue itself: every id of prerequisites.md has a passing and a non-passing row ----
const CATALOGUE_COPY = 'test/fixtures/prerequisites.md';
const SHARED_CATALOGUE = '../shared/design/prerequisites.md';
const catalogueText = readFileSync(CATALOGUE_COPY, 'utf8');
/** The ids in the first column of the catalogue's tables: `| key.url-format | …`. */
const catalogueIds = [...catalogueText.matchAll(/^\| ([a-z]+\.[a-z-]+) \|/gm)].map((m) => m[1]!);

describe('the catalogue (prerequisites.md)', () => {
  it('the fixture copy is the shared catalogue, when the shared folder is beside the clone', () => {
    if (!existsSync(SHARED_CATALOGUE)) return; // CI without ../shared: the copy is all there is
    expect(catalogueText.replace(/^<!--[\s\S]*?-->\n/, '')).toBe(readFileSync(SHARED_CATALOGUE, 'utf8'));
  });

  it('lists the ids the checks use (sanity of the parse)', () => {
    expect(catalogueIds.length).toBeGreaterThanOrEqual(37);
    expect(catalogueIds).toEqual(expect.arrayContaining(['key.url-format', 'provider.registered', 'identity.grant-age', 'chaos.blast-radius', 'storage.verify']));
  });

  it('every catalogue id has a passing and a non-passing row in these tables', () => {
    const INFO_ONLY = new Set(['vault.rotation-policy']); // information by design: distinct findings instead of a failing row
    const rows = [...cases, ...chaosCases, ...storageCases].map((r) => ({ id: r[1], status: r[2], finding: String(r[3]) })).concat(verifyCases.map((r) => ({ id: r[1], status: r[2], finding: String(r[3]) })));
    const missing: string[] = [];
    for (const id of catalogueIds) {
      const mine = rows.filter((r) => r.id === id);
      if (INFO_ONLY.has(id)) {
        if (new Set(mine.map((r) => r.finding)).size < 3) missing.push(`${id}: fewer than 3 distinct findings`);
        continue;
      }
      if (!mine.some((r) => r.status === 'pass' || r.status === 'info')) missing.push(`${id}: no passing row`);
      if (!mine.some((r) => r.status === 'fail' || r.status === 'warn' || r.status === 'error')) missing.push(`${id}: no non-passing row`);
    }
    expect(missing).toEqual([]);
  });
});

// ---- Checks are configured by value: the same check, two configurations, one subject ----
describe('checks configured by value, not by flags on the subject', () => {
  const purgeOff = () => world((a) => a.on(VAULT_ID, vault({ properties: { enablePurgeProtection: false } })));
  const one = async (arm: FakeArm, checks: readonly Check[], s: CmkSubject = subject()) => (await runChecks(arm, s, checks, { now: NOW, expiryWarningDays: 30 }))[0]!;

  it('purge protection off: required fails, not required warns — same vault, same subject', async () => {
    const required = await one(purgeOff(), [vaultPurgeProtection({ required: true })]);
    const recommended = await one(purgeOff(), [vaultPurgeProtection({ required: false })]);
    expect([required.status, recommended.status]).toEqual(['fail', 'warn']);
    expect(required.finding).toBe(recommended.finding);
    expect(required.remedy).toMatch(/az keyvault update --name sample-vault --enable-purge-protection true/);
  });

  it('the targets whose data sits in Azure Storage require purge protection; Fluid Relay only warns', async () => {
    const status = (t: Target) =>
      one(
        purgeOff(),
        t.checks.filter((c) => c.id === 'vault.purge-protection'),
      );
    expect((await status(TARGETS['chaos-experiment']!)).status).toBe('fail');
    expect((await status(TARGETS['storage-cmk']!)).status).toBe('fail');
    expect((await status(TARGETS['fluid-relay']!)).status).toBe('warn');
  });

  it('bot.can-write asks for the action it is given; without one (a review) it asks for nothing', async () => {
    const readOnly = world((a) => a.on(`${RG}/providers/Microsoft.Authorization/permissions`, [READER]));
    const write = await one(readOnly, [botCanWrite({ action: 'Microsoft.FluidRelay/fluidRelayServers/write' })]);
    expect(write).toMatchObject({ status: 'fail', evidence: { writeAction: 'Microsoft.FluidRelay/fluidRelayServers/write' } });
    expect(write.finding).toMatch(/lacks Microsoft.FluidRelay\/fluidRelayServers\/write at/);
    const other = await one(readOnly, [botCanWrite({ action: 'Microsoft.Chaos/experiments/write' })]);
    expect(other.finding).toMatch(/lacks Microsoft.Chaos\/experiments\/write at/);
    expect(await one(readOnly, [botCanWrite({ action: null })])).toMatchObject({ status: 'info', finding: 'Read-only review: no write needed.' });
  });

  it('the key comes from the request’s URL or from the storage account, as the checks are configured', async () => {
    const s = chaosSubject({ keyUrl: '' });
    const fromUrl = await one(chaosWorld(), reading({ key: keyFromUrl() }, [keyUrlFormat]), s);
    expect(fromUrl.status).toBe('fail');
    const fromAccount = await one(chaosWorld(), reading({ key: keyFromStorageAccount() }, [keyUrlFormat]), s);
    expect(fromAccount).toMatchObject({ status: 'pass', evidence: { keyUrl: 'https://sample-vault.vault.azure.net/keys/sample-key-name', vault: 'sample-vault' } });
  });

  it('the resource is read at the api-version the checks are configured with', async () => {
    /** Remembers the api-version of each GET. */
    class VersionedArm extends FakeArm {
      readonly versions: string[] = [];
      override get<T>(path: string, apiVersion?: string): Promise<T> {
        this.versions.push(`${path.split('/').pop()}@${apiVersion}`);
        return super.get<T>(path);
      }
    }
    const readAt = async (apiVersion?: string) => {
      const arm = new VersionedArm();
      const check = fluidRelayCreateOnly({ change: 'create' });
      await runChecks(arm, subject(), apiVersion ? reading({ resource: { apiVersion } }, [check]) : [check]);
      return arm.versions;
    };
    expect(await readAt('2022-06-01')).toEqual(['fr1@2022-06-01']);
    expect(await readAt()).toEqual(['fr1@2021-04-01']); // unconfigured: the generic resources api-version
  });

  it('a key change is judged against the key the server uses now; a create is not', async () => {
    const expiredNow = world((a) => {
      a.on(SERVER, serverWithKey(`https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}`));
      a.on(`${KEY_PATH}/versions/${VERSION}`, key({ properties: { attributes: { exp: nowS - 10 } } }));
    });
    const read = { resource: { apiVersion: '2022-06-01', currentKeyUrlOf: cmkOf } };
    expect((await one(expiredNow, reading(read, [fluidRelayPreviousKeyAlive({ change: 'update' })]))).status).toBe('fail');
    expect((await one(expiredNow, reading(read, [fluidRelayPreviousKeyAlive({ change: 'create' })]))).status).toBe('info');
  });

  it('checks that would read one fact two ways cannot run together', async () => {
    const both = [...reading({ key: keyFromUrl() }, [keyUrlFormat]), ...reading({ key: keyFromStorageAccount() }, [keyType])];
    await expect(runChecks(world(), subject(), both)).rejects.toThrow(/key\.url-format and key\.type read the key differently/);
    expect(() => reading({ key: keyFromUrl() }, reading({ key: keyFromStorageAccount() }, [keyType]))).toThrow(/already reads the key another way/);
  });

  it.each(Object.keys(TARGETS))('%s: its checks (and its review checks) read each fact one way', (type) => {
    const t = TARGETS[type]!;
    expect(() => readsOf(t.checks)).not.toThrow();
    if (t.reviewChecks) expect(() => readsOf(t.reviewChecks!({ id: t.resourceId({} as never), properties: { encryption: { keySource: 'Microsoft.Keyvault' } } } as ArmResource))).not.toThrow();
  });
});
