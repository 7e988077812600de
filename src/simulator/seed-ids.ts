// Names and ids of everything the simulator seeds. Other modules' tests rely on these exact
// values; docs/simulator.md lists what each resource is for.

export const SIM_TENANT_ID = '11111111-1111-4111-8111-111111111111';
export const SIM_OTHER_TENANT_ID = '22222222-2222-4222-8222-222222222222';
export const SIM_SUBSCRIPTION_ID = '0b1f6471-1bf0-4dda-aec3-111111111111'; // "Contoso Platform (sim)"
export const SIM_SUBSCRIPTION2_ID = '0b1f6471-1bf0-4dda-aec3-222222222222'; // "Contoso Sandbox (sim)"
/** "Contoso Labs (sim)": Microsoft.FluidRelay and Microsoft.Chaos are NOT registered here (writes → 409 MissingSubscriptionRegistration). */
export const SIM_SUBSCRIPTION3_ID = '0b1f6471-1bf0-4dda-aec3-333333333333';
export const SIM_SUBSCRIPTION3_NAME = 'Contoso Labs (sim)';
/** eastus, in SIM_SUBSCRIPTION3_ID; the bot holds Contributor here, so only provider registration stops a write. */
export const SIM_RG_LABS = 'rg-labs';
/** The resource provider namespaces NOT registered in SIM_SUBSCRIPTION3_ID (every simulated one is registered elsewhere). */
export const SIM_UNREGISTERED_NAMESPACES = ['Microsoft.FluidRelay', 'Microsoft.Chaos'] as const;
export const SIM_SUBSCRIPTION_NAME = 'Contoso Platform (sim)';
export const SIM_SUBSCRIPTION2_NAME = 'Contoso Sandbox (sim)';
export const SIM_RG = 'rg-cmk-demo'; // eastus, in SIM_SUBSCRIPTION_ID
export const SIM_RG_WEST = 'rg-cmk-west'; // westus, in SIM_SUBSCRIPTION_ID
/** eastus, in SIM_SUBSCRIPTION_ID, empty; the bot holds only Reader here (inherited from the subscription) → bot.can-write fails. */
export const SIM_RG_LOCKED = 'rg-locked';
/** eastus, in SIM_SUBSCRIPTION_ID; holds SIM_IDENTITY_NO_ASSIGN; the bot holds only Reader here, so it may not assign that identity. */
export const SIM_RG_IDENTITIES_LOCKED = 'rg-identities-locked';
export const SIM_LOCATION = 'eastus';
export const SIM_LOCATION_WEST = 'westus';
/** Regions the simulator knows (subscription locations, Fluid Relay's supported regions). */
export const SIM_LOCATIONS = ['eastus', 'westus', 'westeurope'] as const;

// Key vaults
export const SIM_RBAC_VAULT = 'kv-cmk-rbac'; // eastus, RBAC model, soft delete 90 d, purge protection on
export const SIM_POLICY_VAULT = 'kv-cmk-policy'; // eastus, access-policy model, soft delete + purge protection on
export const SIM_FIREWALL_VAULT = 'kv-cmk-firewall'; // eastus, RBAC, networkAcls Deny with bypass None (blocks trusted services)
export const SIM_WEST_VAULT = 'kv-cmk-west'; // westus in rg-cmk-west, RBAC, purge protection off, firewall Deny + bypass AzureServices
export const SIM_OTHER_TENANT_VAULT = 'kv-other-tenant'; // eastus, access-policy model, tenantId SIM_OTHER_TENANT_ID
export const SIM_NOPURGE_VAULT = 'kv-no-purge'; // eastus, access-policy model, soft delete on, purge protection off
export const SIM_NOSOFTDELETE_VAULT = 'kv-no-softdelete'; // eastus, access-policy model, soft delete off, purge protection off

// Keys
export const SIM_KEY = 'fluid-cmk'; // kv-cmk-rbac: RSA 3072, two versions, exp ~2 years ahead, rotation policy
export const SIM_KEY_VERSION_OLD = '3f0c1a9b2d4e4f6a8b7c9d0e1f2a3b4c';
export const SIM_KEY_VERSION_CURRENT = '9a8b7c6d5e4f40312a1b2c3d4e5f6a7b';
export const SIM_EC_KEY = 'ec-key'; // kv-cmk-rbac: EC P-256, sign/verify
export const SIM_EC_KEY_VERSION = 'e0c0e0c0e0c04e0c8e0c0e0c0e0c0e01';
export const SIM_DISABLED_KEY = 'disabled-key'; // kv-cmk-rbac: RSA 2048, enabled false
export const SIM_DISABLED_KEY_VERSION = 'd15ab1edd15a4b1e8d15ab1edd15ab1e';
export const SIM_EXPIRED_KEY = 'expired-key'; // kv-cmk-rbac: RSA 2048, exp in the past
export const SIM_EXPIRED_KEY_VERSION = 'e4a12edee4a14ede8e4a12edee4a12ed';
export const SIM_EXPIRING_KEY = 'expiring-key'; // kv-cmk-rbac: RSA 2048, exp in 10 days (warn window)
export const SIM_EXPIRING_KEY_VERSION = 'e4b12eaae4b14eaa8e4b12eaae4b12ea';
export const SIM_NOT_YET_VALID_KEY = 'future-key'; // kv-cmk-rbac: RSA 2048, nbf 30 days ahead
export const SIM_NOT_YET_VALID_KEY_VERSION = 'f0f0f0f0f0f04f0f8f0f0f0f0f0f0f01';
export const SIM_NO_WRAP_KEY = 'no-wrap-key'; // kv-cmk-rbac: RSA 2048, keyOps without wrapKey/unwrapKey
export const SIM_NO_WRAP_KEY_VERSION = 'a0a0a0a0a0a04a0a8a0a0a0a0a0a0a01';
export const SIM_POLICY_KEY = 'policy-cmk'; // kv-cmk-policy: RSA 2048, one version
export const SIM_POLICY_KEY_VERSION = 'b0b0b0b0b0b04b0b8b0b0b0b0b0b0b01';
export const SIM_FIREWALL_KEY = 'fw-cmk'; // kv-cmk-firewall: RSA 2048
export const SIM_FIREWALL_KEY_VERSION = 'c0c0c0c0c0c04c0c8c0c0c0c0c0c0c01';
export const SIM_WEST_KEY = 'west-cmk'; // kv-cmk-west: RSA 2048
export const SIM_WEST_KEY_VERSION = 'c1c1c1c1c1c14c1c8c1c1c1c1c1c1c01';
export const SIM_OTHER_TENANT_KEY = 'other-cmk'; // kv-other-tenant: RSA 2048
export const SIM_OTHER_TENANT_KEY_VERSION = 'c2c2c2c2c2c24c2c8c2c2c2c2c2c2c01';
/** kv-cmk-rbac: RSA 2048, healthy, rotated: the old version is enabled but expired, the current one valid ~2 years. */
export const SIM_ROTATED_KEY = 'rotated-cmk';
export const SIM_ROTATED_KEY_VERSION_OLD = 'a1d00000000000000000000000000e01'; // enabled, exp in the past (fr-stale-cmk is pinned to it)
export const SIM_ROTATED_KEY_VERSION_CURRENT = 'a1d00000000000000000000000000c02'; // enabled, exp ~2 years ahead
export const SIM_NOPURGE_KEY = 'nopurge-cmk'; // kv-no-purge: RSA 2048, healthy, one version
export const SIM_NOPURGE_KEY_VERSION = 'b1d00000000000000000000000000001';
export const SIM_NOSOFTDELETE_KEY = 'nosd-cmk'; // kv-no-softdelete: RSA 2048, healthy, one version
export const SIM_NOSOFTDELETE_KEY_VERSION = 'b2d00000000000000000000000000001';

// Managed HSM (Microsoft.KeyVault/managedHSMs)
/** eastus, rg-cmk-demo, soft delete 90 d + purge protection on, public; local RBAC: id-fluid-cmk holds Managed HSM Crypto Service Encryption User on /keys. */
export const SIM_MANAGED_HSM = 'hsm-cmk';
/** hsm-cmk: RSA-HSM 3072, wrapKey/unwrapKey, enabled, one version, exp ~2 years ahead. */
export const SIM_HSM_KEY = 'hsm-key';
export const SIM_HSM_KEY_VERSION = 'a5b00000000000000000000000000001';

// User-assigned identities
export const SIM_IDENTITY = 'id-fluid-cmk'; // eastus, rg-cmk-demo
export const SIM_IDENTITY_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444401';
export const SIM_IDENTITY_CLIENT_ID = '55555555-5555-4555-8555-555555555501';
export const SIM_IDENTITY_NO_ACCESS = 'id-no-access'; // eastus, rg-cmk-demo; no key access anywhere
export const SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444402';
export const SIM_IDENTITY_NO_ACCESS_CLIENT_ID = '55555555-5555-4555-8555-555555555502';
export const SIM_IDENTITY_WEST = 'id-west'; // westus, rg-cmk-west
export const SIM_IDENTITY_WEST_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444403';
export const SIM_IDENTITY_WEST_CLIENT_ID = '55555555-5555-4555-8555-555555555503';
/** eastus, rg-cmk-demo, properties.tenantId = SIM_OTHER_TENANT_ID; Crypto Service Encryption User on kv-cmk-rbac → only identity.same-tenant fails. */
export const SIM_IDENTITY_OTHER_TENANT = 'id-other-tenant';
export const SIM_IDENTITY_OTHER_TENANT_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444404';
export const SIM_IDENTITY_OTHER_TENANT_CLIENT_ID = '55555555-5555-4555-8555-555555555504';
/** eastus, rg-cmk-demo; custom role SIM_ROLE_WRAP_ONLY (keys/read + wrap, no unwrap) on kv-cmk-rbac → identity.key-permissions fails. */
export const SIM_IDENTITY_WRAP_ONLY = 'id-wrap-only';
export const SIM_IDENTITY_WRAP_ONLY_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444405';
export const SIM_IDENTITY_WRAP_ONLY_CLIENT_ID = '55555555-5555-4555-8555-555555555505';
/** eastus, rg-cmk-demo; its only assignment is Crypto Service Encryption User at rg-cmk-demo scope (covers kv-cmk-rbac by inheritance) → passes. */
export const SIM_IDENTITY_INHERITED = 'id-inherited';
export const SIM_IDENTITY_INHERITED_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444406';
export const SIM_IDENTITY_INHERITED_CLIENT_ID = '55555555-5555-4555-8555-555555555506';
/** eastus, rg-cmk-demo; custom role SIM_ROLE_KEYS_WILDCARD (dataActions keys/*) on kv-cmk-rbac → passes. */
export const SIM_IDENTITY_CUSTOM_ROLE = 'id-custom-role';
export const SIM_IDENTITY_CUSTOM_ROLE_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444407';
export const SIM_IDENTITY_CUSTOM_ROLE_CLIENT_ID = '55555555-5555-4555-8555-555555555507';
/** eastus, in SIM_RG_IDENTITIES_LOCKED; Crypto Service Encryption User on kv-cmk-rbac, but the bot may not assign it → bot.can-write fails. */
export const SIM_IDENTITY_NO_ASSIGN = 'id-no-assign';
export const SIM_IDENTITY_NO_ASSIGN_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444408';
export const SIM_IDENTITY_NO_ASSIGN_CLIENT_ID = '55555555-5555-4555-8555-555555555508';
/**
 * eastus, rg-cmk-demo; no role or access policy of its own: it holds key access only as a member
 * of SIM_GROUP_TEAM, which is a member of SIM_GROUP_CRYPTO (Crypto Service Encryption User on
 * kv-cmk-rbac; get/wrapKey/unwrapKey in kv-cmk-group-policy's access policies).
 */
export const SIM_IDENTITY_GROUP_MEMBER = 'id-group-member';
export const SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID = '44444444-4444-4444-8444-444444444409';
export const SIM_IDENTITY_GROUP_MEMBER_CLIENT_ID = '55555555-5555-4555-8555-555555555509';

// Cross-tenant customer-managed keys (Storage): a multi-tenant application registered in
// SIM_TENANT_ID whose federated identity credential trusts id-fluid-cmk, with a service principal
// in SIM_OTHER_TENANT_ID that kv-other-tenant's access policy grants get/wrapKey/unwrapKey.
export const SIM_CROSS_TENANT_APP_CLIENT_ID = '99999999-9999-4999-8999-999999999901';
/** The application's service principal (object id) in SIM_OTHER_TENANT_ID. */
export const SIM_CROSS_TENANT_APP_PRINCIPAL_ID = '99999999-9999-4999-8999-999999999902';

// Entra ID groups (Microsoft Graph objects; served at /v1.0 on the simulator)
/** 'CMK Key Users (sim)': holds the key access; members: SIM_GROUP_TEAM (nested). */
export const SIM_GROUP_CRYPTO = '88888888-8888-4888-8888-888888888801';
export const SIM_GROUP_CRYPTO_NAME = 'CMK Key Users (sim)';
/** 'Platform Team (sim)': members: id-group-member's principal; itself a member of SIM_GROUP_CRYPTO. */
export const SIM_GROUP_TEAM = '88888888-8888-4888-8888-888888888802';
export const SIM_GROUP_TEAM_NAME = 'Platform Team (sim)';
/** Access-policy vault (eastus, rg-cmk-demo, soft delete + purge protection) whose only policy names SIM_GROUP_CRYPTO. */
export const SIM_GROUP_POLICY_VAULT = 'kv-cmk-group-policy';
export const SIM_GROUP_POLICY_KEY = 'group-policy-cmk'; // RSA 2048, one version
export const SIM_GROUP_POLICY_KEY_VERSION = 'b3d00000000000000000000000000001';

// Fluid Relay
export const SIM_FLUID_EXISTING = 'fr-existing-nocmk'; // rg-cmk-demo, eastus, no CMK
/** rg-cmk-demo, eastus, identity id-fluid-cmk, CMK pinned to kv-cmk-rbac/fluid-cmk/SIM_KEY_VERSION_CURRENT. */
export const SIM_FLUID_CMK = 'fr-existing-cmk';
/** rg-cmk-demo, eastus, identity id-fluid-cmk, CMK pinned to kv-cmk-rbac/rotated-cmk/SIM_ROTATED_KEY_VERSION_OLD (expired): a key change is refused. */
export const SIM_FLUID_STALE = 'fr-stale-cmk';

// Storage accounts (Microsoft.Storage/storageAccounts), all in rg-cmk-demo, eastus, StorageV2 Standard_LRS
/** CMK on (kv-cmk-rbac/fluid-cmk, keyversion '' = auto-rotation, encryption identity id-fluid-cmk), public (Enabled + Allow), container SIM_CHAOS_CONTAINER; id-fluid-cmk holds Storage Blob Data Contributor on it → every storage.* check passes. */
export const SIM_STORAGE_CMK = 'stcmkchaos';
/** Microsoft-managed keys (keySource Microsoft.Storage), public; id-fluid-cmk holds Storage Blob Data Contributor on it → only storage.cmk-enabled fails (the bot may PATCH it to CMK). */
export const SIM_STORAGE_NO_CMK = 'stnocmk';
/** CMK on like stcmkchaos, publicNetworkAccess Enabled but networkAcls.defaultAction Deny → only storage.public-access fails. */
export const SIM_STORAGE_PRIVATE = 'stprivate';
/** CMK on, public, but id-fluid-cmk holds no blob role on it → only storage.blob-write fails. */
export const SIM_STORAGE_NO_BLOB_ROLE = 'stnoblobrole';
/** keySource Microsoft.Keyvault pointing at kv-cmk-rbac/expired-key (seeded directly, as PATCH would refuse it) → storage.cmk-enabled fails on its key. */
export const SIM_STORAGE_BAD_KEY = 'stbadkey';
/** The blob container that exists in stcmkchaos (the CMK experiment's customerDataStorage.blobContainerName). */
export const SIM_CHAOS_CONTAINER = 'chaosdata';

// Chaos Studio experiments (Microsoft.Chaos/experiments), rg-cmk-demo, eastus, identity UserAssigned id-fluid-cmk
/** A VM-shutdown experiment without customerDataStorage, Succeeded → chaos.create-only fails (a PUT adding CMK → 400 CustomerDataStorageOnlyAtCreation). */
export const SIM_CHAOS_EXISTING = 'chaos-existing-nocmk';
/** The same experiment with customerDataStorage on stcmkchaos / chaosdata, Succeeded. */
export const SIM_CHAOS_CMK = 'chaos-existing-cmk';
/** The (not simulated) VM the seeded experiments' selector targets, in rg-cmk-demo. */
export const SIM_CHAOS_TARGET_VM = 'vm-chaos-target';

/**
 * The bot's own identity: the caller of every request. Reader on SIM_SUBSCRIPTION_ID and
 * SIM_SUBSCRIPTION2_ID; Contributor + Managed Identity Operator on SIM_RG and SIM_RG_WEST only.
 */
export const SIM_BOT_PRINCIPAL_ID = '33333333-3333-4333-8333-333333333333';

/**
 * Names (GUIDs) of the seeded role assignments, e.g. to delete the bot's Contributor on rg-cmk-demo in a test:
 * `simRoleAssignmentId(simRgId(), SIM_ROLE_ASSIGNMENT_NAMES.botContributor)`.
 * Where each one lives: SIM_ROLE_ASSIGNMENT_SCOPES.
 */
export const SIM_ROLE_ASSIGNMENT_NAMES = {
  botContributor: '66666666-6666-4666-8666-000000000001', // Contributor, rg-cmk-demo
  botManagedIdentityOperator: '66666666-6666-4666-8666-000000000002', // Managed Identity Operator, rg-cmk-demo
  botReaderSandbox: '66666666-6666-4666-8666-000000000003', // Reader, SIM_SUBSCRIPTION2_ID
  botContributorWest: '66666666-6666-4666-8666-000000000004', // Contributor, rg-cmk-west
  botManagedIdentityOperatorWest: '66666666-6666-4666-8666-000000000005', // Managed Identity Operator, rg-cmk-west
  botReader: '66666666-6666-4666-8666-000000000006', // Reader, SIM_SUBSCRIPTION_ID
  botContributorLabs: '66666666-6666-4666-8666-000000000007', // Contributor, rg-labs in SIM_SUBSCRIPTION3_ID
  identityCryptoOnRbacVault: '66666666-6666-4666-8666-000000000011', // id-fluid-cmk: Crypto Service Encryption User on kv-cmk-rbac
  westIdentityCryptoOnRbacVault: '66666666-6666-4666-8666-000000000012', // id-west: same role on kv-cmk-rbac
  identityCryptoOnFirewallVault: '66666666-6666-4666-8666-000000000013', // id-fluid-cmk: same role on kv-cmk-firewall
  westIdentityCryptoOnWestRg: '66666666-6666-4666-8666-000000000014', // id-west: same role on rg-cmk-west
  otherTenantIdentityCryptoOnRbacVault: '66666666-6666-4666-8666-000000000015', // id-other-tenant: Crypto Service Encryption User on kv-cmk-rbac
  wrapOnlyIdentityOnRbacVault: '66666666-6666-4666-8666-000000000016', // id-wrap-only: SIM_ROLE_WRAP_ONLY on kv-cmk-rbac
  inheritedIdentityCryptoOnRg: '66666666-6666-4666-8666-000000000017', // id-inherited: Crypto Service Encryption User on rg-cmk-demo
  customRoleIdentityOnRbacVault: '66666666-6666-4666-8666-000000000018', // id-custom-role: SIM_ROLE_KEYS_WILDCARD on kv-cmk-rbac
  noAssignIdentityCryptoOnRbacVault: '66666666-6666-4666-8666-000000000019', // id-no-assign: Crypto Service Encryption User on kv-cmk-rbac
  identityBlobOnCmkStorage: '66666666-6666-4666-8666-000000000021', // id-fluid-cmk: Storage Blob Data Contributor on stcmkchaos
  identityBlobOnNoCmkStorage: '66666666-6666-4666-8666-000000000022', // id-fluid-cmk: Storage Blob Data Contributor on stnocmk
  identityBlobOnPrivateStorage: '66666666-6666-4666-8666-000000000023', // id-fluid-cmk: Storage Blob Data Contributor on stprivate
  identityBlobOnBadKeyStorage: '66666666-6666-4666-8666-000000000024', // id-fluid-cmk: Storage Blob Data Contributor on stbadkey
  groupCryptoOnRbacVault: '66666666-6666-4666-8666-000000000025', // SIM_GROUP_CRYPTO (principalType Group): Crypto Service Encryption User on kv-cmk-rbac
} as const;

/** Custom role (type CustomRole, assignable in SIM_SUBSCRIPTION_ID) 'Key Wrap Only (custom)': dataActions keys/read and keys/wrap/action, no unwrap. */
export const SIM_ROLE_WRAP_ONLY = '7a7a7a7a-0000-4000-8000-000000000001';
/** Custom role (type CustomRole, assignable in SIM_SUBSCRIPTION_ID) 'Key Vault Keys Operator (custom)': dataActions Microsoft.KeyVault/vaults/keys/*. */
export const SIM_ROLE_KEYS_WILDCARD = '7a7a7a7a-0000-4000-8000-000000000002';

/** Built-in role definition GUIDs the simulator knows. */
export const BUILTIN_ROLE_IDS = {
  keyVaultCryptoServiceEncryptionUser: 'e147488a-f6f5-4113-8e2d-b22465e65bf6',
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  contributor: 'b24988ac-6180-49ab-bb5e-ce4bb4b23aad',
  managedIdentityOperator: 'f1a07417-d97a-45cb-824c-7a7467783830',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
} as const;

// Resource groups other than SIM_RG where seeded resources live, so the id helpers below
// give the right id for a seeded name without the caller repeating where it is.
const SEEDED_RG: Record<string, string> = {
  [SIM_IDENTITY_WEST]: SIM_RG_WEST,
  [SIM_WEST_VAULT]: SIM_RG_WEST,
  [SIM_IDENTITY_NO_ASSIGN]: SIM_RG_IDENTITIES_LOCKED,
};

export function simSubscriptionId(sub: string = SIM_SUBSCRIPTION_ID): string {
  return `/subscriptions/${sub}`;
}

export function simRgId(rg: string = SIM_RG, sub: string = SIM_SUBSCRIPTION_ID): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}`;
}

/** ARM id of a user-assigned identity; `rg` defaults to where the seeded identity lives (SIM_RG otherwise). */
export function simIdentityId(name: string, rg: string = SEEDED_RG[name] ?? SIM_RG): string {
  return `${simRgId(rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

/** ARM id of a key vault; `rg` defaults to where the seeded vault lives (SIM_RG otherwise). */
export function simVaultId(name: string, rg: string = SEEDED_RG[name] ?? SIM_RG): string {
  return `${simRgId(rg)}/providers/Microsoft.KeyVault/vaults/${name}`;
}

/** ARM id of a key (the management-plane child resource `vaults/keys`). */
export function simKeyId(vault: string, key: string, rg?: string): string {
  return `${simVaultId(vault, rg)}/keys/${key}`;
}

/** Data-plane key URL, as a CMK configuration names the key: `https://{vault}.vault.azure.net/keys/{key}[/{version}]`. */
export function simKeyUrl(vault: string, key: string, version?: string): string {
  return `https://${vault}.vault.azure.net/keys/${key}${version ? `/${version}` : ''}`;
}

/** ARM id of a managed HSM (all seeded ones are in SIM_RG). */
export function simManagedHsmId(name: string, rg: string = SIM_RG): string {
  return `${simRgId(rg)}/providers/Microsoft.KeyVault/managedHSMs/${name}`;
}

/** Managed HSM key URL, as a CMK configuration names the key: `https://{hsm}.managedhsm.azure.net/keys/{key}[/{version}]`. */
export function simHsmKeyUrl(hsm: string, key: string, version?: string): string {
  return `https://${hsm}.managedhsm.azure.net/keys/${key}${version ? `/${version}` : ''}`;
}

export function simFluidRelayId(name: string, rg: string = SIM_RG, sub: string = SIM_SUBSCRIPTION_ID): string {
  return `${simRgId(rg, sub)}/providers/Microsoft.FluidRelay/fluidRelayServers/${name}`;
}

/** ARM id of a storage account (all seeded ones are in SIM_RG). */
export function simStorageId(name: string, rg: string = SIM_RG): string {
  return `${simRgId(rg)}/providers/Microsoft.Storage/storageAccounts/${name}`;
}

/** ARM id of a blob container: `{account}/blobServices/default/containers/{container}`. */
export function simStorageContainerId(account: string, container: string, rg: string = SIM_RG): string {
  return `${simStorageId(account, rg)}/blobServices/default/containers/${container}`;
}

/** ARM id of a Chaos Studio experiment. */
export function simChaosId(name: string, rg: string = SIM_RG, sub: string = SIM_SUBSCRIPTION_ID): string {
  return `${simRgId(rg, sub)}/providers/Microsoft.Chaos/experiments/${name}`;
}

/** Chaos target id of a (not simulated) virtual machine, as an experiment's List selector names it. */
export function simChaosVmTargetId(vm: string = SIM_CHAOS_TARGET_VM, rg: string = SIM_RG): string {
  return `${simRgId(rg)}/providers/Microsoft.Compute/virtualMachines/${vm}/providers/Microsoft.Chaos/targets/Microsoft-VirtualMachine`;
}

export function simRoleAssignmentId(scope: string, name: string): string {
  return `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
}

/** Role definition id in the subscription-scoped form role assignments carry. */
export function simRoleDefinitionId(roleGuid: string, sub: string = SIM_SUBSCRIPTION_ID): string {
  return `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
}

/** The scope of each seeded role assignment (same keys as SIM_ROLE_ASSIGNMENT_NAMES). */
export const SIM_ROLE_ASSIGNMENT_SCOPES: Record<keyof typeof SIM_ROLE_ASSIGNMENT_NAMES, string> = {
  botContributor: simRgId(SIM_RG),
  botManagedIdentityOperator: simRgId(SIM_RG),
  botReaderSandbox: simSubscriptionId(SIM_SUBSCRIPTION2_ID),
  botContributorWest: simRgId(SIM_RG_WEST),
  botManagedIdentityOperatorWest: simRgId(SIM_RG_WEST),
  botReader: simSubscriptionId(SIM_SUBSCRIPTION_ID),
  botContributorLabs: simRgId(SIM_RG_LABS, SIM_SUBSCRIPTION3_ID),
  identityCryptoOnRbacVault: simVaultId(SIM_RBAC_VAULT),
  westIdentityCryptoOnRbacVault: simVaultId(SIM_RBAC_VAULT),
  identityCryptoOnFirewallVault: simVaultId(SIM_FIREWALL_VAULT),
  westIdentityCryptoOnWestRg: simRgId(SIM_RG_WEST),
  otherTenantIdentityCryptoOnRbacVault: simVaultId(SIM_RBAC_VAULT),
  wrapOnlyIdentityOnRbacVault: simVaultId(SIM_RBAC_VAULT),
  inheritedIdentityCryptoOnRg: simRgId(SIM_RG),
  customRoleIdentityOnRbacVault: simVaultId(SIM_RBAC_VAULT),
  noAssignIdentityCryptoOnRbacVault: simVaultId(SIM_RBAC_VAULT),
  identityBlobOnCmkStorage: simStorageId(SIM_STORAGE_CMK),
  identityBlobOnNoCmkStorage: simStorageId(SIM_STORAGE_NO_CMK),
  identityBlobOnPrivateStorage: simStorageId(SIM_STORAGE_PRIVATE),
  identityBlobOnBadKeyStorage: simStorageId(SIM_STORAGE_BAD_KEY),
  groupCryptoOnRbacVault: simVaultId(SIM_RBAC_VAULT),
};

/** Full id of a seeded role assignment, e.g. to delete it: `sim.state.delete(simSeededRoleAssignmentId('botContributor'))`. */
export function simSeededRoleAssignmentId(name: keyof typeof SIM_ROLE_ASSIGNMENT_NAMES): string {
  return simRoleAssignmentId(SIM_ROLE_ASSIGNMENT_SCOPES[name], SIM_ROLE_ASSIGNMENT_NAMES[name]);
}
