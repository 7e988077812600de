// Microsoft.Storage/storageAccounts: GET / list / synchronous PATCH (StorageAccounts_Update) with
// the checks Azure Storage makes before it accepts a customer-managed key, and blob containers
// (BlobContainers_Create / Get / List / Delete).
import { bodyObject, getMember, hasMember, isObject, page, parseResourceId, requireResourceGroup, stableGuid, collectionRoutes } from '../arm';
import { STORAGE_ACCOUNT_VERSIONS, STORAGE_CONTAINER_VERSIONS } from '../api-versions';
import { ArmError, invalidRequestContent, resourceNotFound } from '../errors';
import type { SimContext, SimProvider, SimRequest } from '../provider';
import { requireAction } from '../rbac';
import * as ids from '../seed-ids';
import type { SimResource, SimState } from '../state';
import { federatedServicePrincipal } from '../directory';
import { checkCmkKey, findVaultByName, isCmkKeyProblem, KEY_VERSION_TYPE, MHSM_KEY_VERSION_TYPE, type CmkKeyReason } from './keyvault';
import { findIdentity, resolveUserAssignedIdentities, type UserAssignedIdentityMap } from './managed-identity';

export const STORAGE_TYPE = 'Microsoft.Storage/storageAccounts';
export const CONTAINER_TYPE = 'Microsoft.Storage/storageAccounts/blobServices/containers';
export const STORAGE_API_VERSIONS = STORAGE_ACCOUNT_VERSIONS;

const DAY = 24 * 3600;
const IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned'] as const;
const KEY_SOURCES = ['Microsoft.Storage', 'Microsoft.Keyvault'] as const;
const SKUS = ['Standard_LRS', 'Standard_GRS', 'Standard_RAGRS', 'Standard_ZRS', 'Premium_LRS', 'Premium_ZRS', 'Standard_GZRS', 'Standard_RAGZRS'];
const PUBLIC_NETWORK_ACCESS = ['Enabled', 'Disabled', 'SecuredByPerimeter'];
/** Azure's container naming rule (also Chaos Studio's blobContainerName pattern): 3–63 chars, lower-case letters, digits, single hyphens, letter/digit at both ends. */
export const CONTAINER_NAME_PATTERN = /^[a-z0-9]([a-z0-9]|(-(?!-))){1,61}[a-z0-9]$/;

/** Every error code the storage provider answers with beyond ARM's common ones (docs/simulator.md explains each). */
export const STORAGE_ERROR_CODES = {
  InvalidIdentityType: 'InvalidIdentityType',
  MultipleUserAssignedIdentitiesNotSupported: 'MultipleUserAssignedIdentitiesNotSupported',
  InvalidEncryptionKeySource: 'InvalidEncryptionKeySource',
  InvalidKeyVaultProperties: 'InvalidKeyVaultProperties',
  MissingKeyvaultProperties: 'MissingKeyvaultProperties',
  InvalidEncryptionIdentity: 'InvalidEncryptionIdentity',
  KeyVaultNotFound: 'KeyVaultNotFound',
  KeyVaultPolicyError: 'KeyVaultPolicyError',
  KeyVaultKeyNotFound: 'KeyVaultKeyNotFound',
  KeyVaultKeyVersionNotFound: 'KeyVaultKeyVersionNotFound',
  KeyVaultKeyTypeNotSupported: 'KeyVaultKeyTypeNotSupported',
  KeyVaultKeyDisabled: 'KeyVaultKeyDisabled',
  KeyVaultKeyNotYetValid: 'KeyVaultKeyNotYetValid',
  KeyVaultKeyExpired: 'KeyVaultKeyExpired',
  KeyVaultKeyOperationsNotPermitted: 'KeyVaultKeyOperationsNotPermitted',
  KeyVaultTenantMismatch: 'KeyVaultTenantMismatch',
  KeyVaultFirewallBlocksTrustedServices: 'KeyVaultFirewallBlocksTrustedServices',
  KeyVaultAuthenticationFailure: 'KeyVaultAuthenticationFailure',
  AccountPropertyCannotBeUpdated: 'AccountPropertyCannotBeUpdated',
  ContainerOperationFailure: 'ContainerOperationFailure',
  PublicAccessNotPermitted: 'PublicAccessNotPermitted',
} as const;

const KEY_REASON_CODES: Record<CmkKeyReason, keyof typeof STORAGE_ERROR_CODES> = {
  InvalidKeyUrl: 'InvalidKeyVaultProperties',
  KeyVaultNotFound: 'KeyVaultNotFound',
  KeyNotFound: 'KeyVaultKeyNotFound',
  KeyVersionNotFound: 'KeyVaultKeyVersionNotFound',
  KeyTypeNotSupported: 'KeyVaultKeyTypeNotSupported',
  KeyDisabled: 'KeyVaultKeyDisabled',
  KeyNotYetValid: 'KeyVaultKeyNotYetValid',
  KeyExpired: 'KeyVaultKeyExpired',
  KeyOperationsNotPermitted: 'KeyVaultKeyOperationsNotPermitted',
  TenantMismatch: 'KeyVaultTenantMismatch',
  VaultFirewallBlocksTrustedServices: 'KeyVaultFirewallBlocksTrustedServices',
  KeyAccessDenied: 'KeyVaultAuthenticationFailure',
};

const ENC = 'properties.encryption';

function storageError(code: keyof typeof STORAGE_ERROR_CODES, message: string, target?: string, reason?: string): ArmError {
  return new ArmError(400, code, message, { target, ...(reason ? { details: [{ code: reason, message, ...(target ? { target } : {}) }] } : {}) });
}

// ---------------------------------------------------------------------------------------------
// Shapes

export interface KeyVaultProperties {
  keyname: string;
  keyversion: string;
  keyvaulturi: string;
  lastKeyRotationTimestamp?: string;
}

interface Encryption {
  services?: Record<string, { enabled?: boolean; keyType?: string; lastEnabledTime?: string }>;
  keySource: string;
  requireInfrastructureEncryption?: boolean;
  keyvaultproperties?: KeyVaultProperties;
  identity?: { userAssignedIdentity?: string; federatedIdentityClientId?: string };
}

type Identity = { type: string; principalId?: string; tenantId?: string; userAssignedIdentities?: UserAssignedIdentityMap };

export interface StorageAccountSpec {
  name: string;
  resourceGroup: string;
  subscriptionId?: string;
  location: string;
  createdAt: string;
  /** Default Standard_LRS. */
  sku?: string;
  /** The user-assigned identity ids the account holds (identity type UserAssigned). */
  userAssignedIdentities?: Record<string, { principalId: string; clientId: string }>;
  /** keySource Microsoft.Keyvault with these properties (keyvaulturi as `https://{vault}.vault.azure.net`), encrypted with `encryptionIdentity`. */
  cmk?: { keyvaulturi: string; keyname: string; keyversion: string; encryptionIdentity: string; setAt: string };
  publicNetworkAccess?: string;
  networkAcls?: { defaultAction: 'Allow' | 'Deny'; bypass?: string; ipRules?: { value: string; action: 'Allow' }[] };
  tags?: Record<string, string>;
}

function endpoints(name: string) {
  return {
    blob: `https://${name}.blob.core.windows.net/`,
    dfs: `https://${name}.dfs.core.windows.net/`,
    file: `https://${name}.file.core.windows.net/`,
    queue: `https://${name}.queue.core.windows.net/`,
    table: `https://${name}.table.core.windows.net/`,
    web: `https://${name}.web.core.windows.net/`,
  };
}

function skuOf(name: string): { name: string; tier: string } {
  return { name, tier: name.startsWith('Premium') ? 'Premium' : 'Standard' };
}

/** A storage account in its stored shape (GET adds the computed keyvaultproperties fields). */
export function storageAccountResource(spec: StorageAccountSpec): SimResource {
  const id = `/subscriptions/${spec.subscriptionId ?? ids.SIM_SUBSCRIPTION_ID}/resourceGroups/${spec.resourceGroup}/providers/${STORAGE_TYPE}/${spec.name}`;
  const service = { enabled: true, keyType: 'Account', lastEnabledTime: spec.createdAt };
  const encryption: Encryption = {
    services: { blob: { ...service }, file: { ...service } },
    keySource: spec.cmk ? 'Microsoft.Keyvault' : 'Microsoft.Storage',
    requireInfrastructureEncryption: false,
    ...(spec.cmk
      ? {
          keyvaultproperties: { keyvaulturi: spec.cmk.keyvaulturi, keyname: spec.cmk.keyname, keyversion: spec.cmk.keyversion, lastKeyRotationTimestamp: spec.cmk.setAt },
          identity: { userAssignedIdentity: spec.cmk.encryptionIdentity },
        }
      : {}),
  };
  const acls = spec.networkAcls ?? { defaultAction: 'Allow' };
  return {
    id,
    name: spec.name,
    type: STORAGE_TYPE,
    location: spec.location,
    tags: spec.tags ?? {},
    sku: skuOf(spec.sku ?? 'Standard_LRS'),
    kind: 'StorageV2',
    ...(spec.userAssignedIdentities ? { identity: { type: 'UserAssigned', userAssignedIdentities: spec.userAssignedIdentities } } : {}),
    properties: {
      keyCreationTime: { key1: spec.createdAt, key2: spec.createdAt },
      privateEndpointConnections: [],
      minimumTlsVersion: 'TLS1_2',
      allowBlobPublicAccess: false,
      allowSharedKeyAccess: true,
      publicNetworkAccess: spec.publicNetworkAccess ?? 'Enabled',
      networkAcls: {
        bypass: acls.bypass ?? 'AzureServices',
        virtualNetworkRules: [],
        ipRules: acls.ipRules ?? [],
        resourceAccessRules: [],
        defaultAction: acls.defaultAction,
      },
      supportsHttpsTrafficOnly: true,
      encryption,
      accessTier: 'Hot',
      provisioningState: 'Succeeded',
      creationTime: spec.createdAt,
      primaryEndpoints: endpoints(spec.name),
      primaryLocation: spec.location,
      statusOfPrimary: 'available',
    },
  };
}

export function containerResource(account: SimResource, name: string, at: string, props: { publicAccess?: string; metadata?: Record<string, string> } = {}): SimResource {
  return {
    id: `${account.id}/blobServices/default/containers/${name}`,
    name,
    type: CONTAINER_TYPE,
    etag: `"0x8D${stableGuid(`${account.id.toLowerCase()}/${name}/${at}`).replace(/-/g, '').slice(0, 13).toUpperCase()}"`,
    properties: {
      deleted: false,
      remainingRetentionDays: 0,
      defaultEncryptionScope: '$account-encryption-key',
      denyEncryptionScopeOverride: false,
      publicAccess: props.publicAccess ?? 'None',
      leaseStatus: 'Unlocked',
      leaseState: 'Available',
      lastModifiedTime: at.replace(/\.\d+Z$/, 'Z'),
      hasImmutabilityPolicy: false,
      hasLegalHold: false,
      ...(props.metadata ? { metadata: props.metadata } : {}),
    },
  };
}

function encryptionOf(r: SimResource): Encryption {
  return (r.properties as { encryption: Encryption }).encryption;
}

/**
 * `https://{vault}.vault.azure.net[:443][/]` or `https://{hsm}.managedhsm.azure.net[:443][/]` (Storage
 * accepts managed HSM keys in keyvaulturi) → the name and which kind; undefined otherwise.
 */
export function keyStoreOfUri(uri: string): { name: string; hsm: boolean } | undefined {
  const m = /^https:\/\/([a-zA-Z0-9-]{3,24})\.(vault|managedhsm)\.azure\.net(?::443)?\/?$/i.exec(uri.trim());
  return m ? { name: m[1]!, hsm: m[2]!.toLowerCase() === 'managedhsm' } : undefined;
}

/** The key URL the account's CMK names: versionless when keyversion is '' (auto-rotation). */
export function storageKeyUrl(kvp: KeyVaultProperties): string | undefined {
  const store = keyStoreOfUri(kvp.keyvaulturi);
  if (!store) return undefined;
  return `https://${store.name}.${store.hsm ? 'managedhsm' : 'vault'}.azure.net/keys/${kvp.keyname}${kvp.keyversion ? `/${kvp.keyversion}` : ''}`;
}

/** The key version in use: the pinned one, or the key's current version (auto-rotation). */
function currentKeyVersion(state: SimState, kvp: KeyVaultProperties): SimResource | undefined {
  const store = keyStoreOfUri(kvp.keyvaulturi);
  const vault = store ? findVaultByName(state, store.name, store.hsm) : undefined;
  if (!vault) return undefined;
  const key = state.get(`${vault.id}/keys/${kvp.keyname}`);
  if (!key) return undefined;
  const version =
    kvp.keyversion ||
    String((key.properties as { keyUriWithVersion?: string }).keyUriWithVersion ?? '')
      .split('/')
      .pop();
  const found = version ? state.get(`${key.id}/versions/${version}`) : undefined;
  return found?.type === KEY_VERSION_TYPE || found?.type === MHSM_KEY_VERSION_TYPE ? found : undefined;
}

/** GET shape: keyvaultproperties gains currentVersionedKeyIdentifier (and the version's expiry) from the live key. */
export function renderStorageAccount(state: SimState, r: SimResource): SimResource {
  const enc = encryptionOf(r);
  if (enc?.keySource !== 'Microsoft.Keyvault' || !enc.keyvaultproperties) return r;
  const kvp = enc.keyvaultproperties;
  const version = currentKeyVersion(state, kvp);
  const exp = (version?.properties as { attributes?: { exp?: number } } | undefined)?.attributes?.exp;
  const rendered: Record<string, unknown> = {
    keyvaulturi: kvp.keyvaulturi,
    keyname: kvp.keyname,
    keyversion: kvp.keyversion,
    ...(version ? { currentVersionedKeyIdentifier: `${kvp.keyvaulturi.replace(/\/+$/, '')}/keys/${kvp.keyname}/${version.name}` } : {}),
    ...(kvp.lastKeyRotationTimestamp ? { lastKeyRotationTimestamp: kvp.lastKeyRotationTimestamp } : {}),
    ...(exp !== undefined ? { currentVersionedKeyExpirationTimestamp: new Date(exp * 1000).toISOString() } : {}),
  };
  return { ...r, properties: { ...r.properties, encryption: { ...enc, keyvaultproperties: rendered } } };
}

// ---------------------------------------------------------------------------------------------
// Lookups shared with the Chaos provider

export function findStorageAccount(state: SimState, accountId: string): SimResource | undefined {
  const parsed = parseResourceId(accountId);
  if (!parsed || parsed.type?.toLowerCase() !== STORAGE_TYPE.toLowerCase() || parsed.names.length !== 1) return undefined;
  return state.get(accountId);
}

export function isValidContainerName(name: string): boolean {
  return CONTAINER_NAME_PATTERN.test(name);
}

// ---------------------------------------------------------------------------------------------
// PATCH (StorageAccounts_Update)

function stringOrUndefined(v: unknown, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidRequestContent(`Expected a string. Path '${path}'`, path);
  return v;
}

function identityFromPatch(state: SimState, ctx: SimContext, account: SimResource, raw: unknown): Identity | undefined {
  const previous = account.identity as Identity | undefined;
  if (raw === undefined || raw === null) return previous;
  if (!isObject(raw)) throw invalidRequestContent("Expected an object. Path 'identity'", 'identity');
  const rawType = getMember(raw, 'type');
  const type = IDENTITY_TYPES.find((t) => typeof rawType === 'string' && t.toLowerCase() === rawType.toLowerCase());
  if (!type) {
    throw storageError('InvalidIdentityType', `The identity type '${String(rawType)}' is not valid. Allowed values: ${IDENTITY_TYPES.map((t) => `'${t}'`).join(', ')} (no space after the comma).`, 'identity.type');
  }
  const rawMap = getMember(raw, 'userAssignedIdentities');
  if (rawMap !== undefined && rawMap !== null && !isObject(rawMap)) throw invalidRequestContent("Expected an object. Path 'identity.userAssignedIdentities'", 'identity.userAssignedIdentities');
  const previousIds = Object.keys(previous?.userAssignedIdentities ?? {});
  const wantsUser = type.includes('UserAssigned');
  // The identity in an update replaces the account's: the map sent (null values dropped), or the current one when none is sent.
  const requested = isObject(rawMap)
    ? Object.entries(rawMap)
        .filter(([, v]) => v !== null)
        .map(([k]) => k)
    : wantsUser
      ? previousIds
      : [];
  if (!wantsUser && requested.length > 0) {
    throw new ArmError(400, 'InvalidUserAssignedIdentity', `'identity.userAssignedIdentities' can only be given when the identity type includes 'UserAssigned' (it is '${type}').`, {
      target: 'identity.userAssignedIdentities',
    });
  }
  if (wantsUser && requested.length === 0) {
    throw new ArmError(400, 'InvalidUserAssignedIdentity', `The identity type '${type}' requires one entry in 'identity.userAssignedIdentities'.`, {
      target: 'identity.userAssignedIdentities',
    });
  }
  if (requested.length > 1) {
    throw storageError('MultipleUserAssignedIdentitiesNotSupported', `Only 1 user-assigned identity is permitted on a storage account; the request names ${requested.length}.`, 'identity.userAssignedIdentities');
  }
  const map = resolveUserAssignedIdentities(state, ctx, account.id, STORAGE_TYPE, requested, previousIds);
  const system = type.startsWith('SystemAssigned');
  return {
    type,
    ...(system ? { principalId: previous?.principalId ?? stableGuid(`system:${account.id.toLowerCase()}`), tenantId: ids.SIM_TENANT_ID } : {}),
    ...(wantsUser ? { userAssignedIdentities: map } : {}),
  };
}

/** Merges a requested encryption block into the current one (members matched case-insensitively). */
function mergeEncryption(current: Encryption, raw: unknown): { next: Encryption; keyChanged: boolean } {
  if (!isObject(raw)) throw invalidRequestContent(`Expected an object. Path '${ENC}'`, ENC);
  const next: Encryption = structuredClone(current);
  let keyChanged = false;
  if (hasMember(raw, 'keySource')) {
    const ks = getMember(raw, 'keySource');
    const canonical = KEY_SOURCES.find((k) => typeof ks === 'string' && k.toLowerCase() === ks.toLowerCase());
    if (!canonical) {
      throw storageError('InvalidEncryptionKeySource', `The encryption keySource '${String(ks)}' is not valid. Possible values (case-insensitive): Microsoft.Storage, Microsoft.Keyvault.`, `${ENC}.keySource`);
    }
    keyChanged ||= canonical !== current.keySource;
    next.keySource = canonical;
  }
  if (hasMember(raw, 'keyvaultproperties')) {
    const kv = getMember(raw, 'keyvaultproperties');
    if (kv === null) {
      delete next.keyvaultproperties;
    } else {
      if (!isObject(kv)) throw invalidRequestContent(`Expected an object. Path '${ENC}.keyvaultproperties'`, `${ENC}.keyvaultproperties`);
      const prev = current.keyvaultproperties;
      const keyname = stringOrUndefined(getMember(kv, 'keyname'), `${ENC}.keyvaultproperties.keyname`) ?? prev?.keyname ?? '';
      const keyversion = stringOrUndefined(getMember(kv, 'keyversion'), `${ENC}.keyvaultproperties.keyversion`) ?? prev?.keyversion ?? '';
      const keyvaulturi = stringOrUndefined(getMember(kv, 'keyvaulturi'), `${ENC}.keyvaultproperties.keyvaulturi`) ?? prev?.keyvaulturi ?? '';
      keyChanged ||=
        !prev || prev.keyname.toLowerCase() !== keyname.toLowerCase() || prev.keyversion.toLowerCase() !== keyversion.toLowerCase() || prev.keyvaulturi.replace(/\/+$/, '').toLowerCase() !== keyvaulturi.replace(/\/+$/, '').toLowerCase();
      next.keyvaultproperties = { keyname, keyversion, keyvaulturi, ...(prev?.lastKeyRotationTimestamp ? { lastKeyRotationTimestamp: prev.lastKeyRotationTimestamp } : {}) };
    }
  }
  if (hasMember(raw, 'identity')) {
    const ei = getMember(raw, 'identity');
    if (ei === null) {
      delete next.identity;
    } else {
      if (!isObject(ei)) throw invalidRequestContent(`Expected an object. Path '${ENC}.identity'`, `${ENC}.identity`);
      const uai = stringOrUndefined(getMember(ei, 'userAssignedIdentity'), `${ENC}.identity.userAssignedIdentity`);
      const fed = stringOrUndefined(getMember(ei, 'federatedIdentityClientId'), `${ENC}.identity.federatedIdentityClientId`);
      keyChanged ||= (uai ?? '').toLowerCase() !== (current.identity?.userAssignedIdentity ?? '').toLowerCase();
      next.identity = { ...(uai ? { userAssignedIdentity: uai } : {}), ...(fed ? { federatedIdentityClientId: fed } : {}) };
    }
  }
  const services = getMember(raw, 'services');
  if (services !== undefined && services !== null) {
    if (!isObject(services)) throw invalidRequestContent(`Expected an object. Path '${ENC}.services'`, `${ENC}.services`);
    for (const [svc, v] of Object.entries(services)) {
      if (!isObject(v)) continue;
      const name = svc.toLowerCase();
      const existing = next.services?.[name];
      const keyType = getMember(v, 'keyType');
      // keyType is create-only (x-ms-mutability create, read).
      if (keyType !== undefined && keyType !== null && String(keyType).toLowerCase() !== (existing?.keyType ?? 'Service').toLowerCase()) {
        throw storageError('AccountPropertyCannotBeUpdated', `The property 'keyType' of the ${name} encryption service cannot be updated (it is '${existing?.keyType ?? 'Service'}').`, `${ENC}.services.${name}.keyType`);
      }
      if (!existing && (name === 'table' || name === 'queue')) next.services = { ...next.services, [name]: { enabled: true, keyType: 'Service' } };
    }
  }
  return { next, keyChanged };
}

/** The identity Storage uses to reach the key: encryption.identity's user-assigned identity, else the system-assigned one. */
function encryptionPrincipal(state: SimState, account: SimResource, enc: Encryption, identity: Identity | undefined): SimResource {
  const uaiId = enc.identity?.userAssignedIdentity;
  if (uaiId) {
    const assigned = Object.keys(identity?.userAssignedIdentities ?? {}).find((k) => k.toLowerCase() === uaiId.toLowerCase());
    if (!assigned) {
      throw storageError(
        'InvalidEncryptionIdentity',
        `The encryption identity '${uaiId}' is not assigned to the storage account; add it to identity.userAssignedIdentities (the same request may do so).`,
        `${ENC}.identity.userAssignedIdentity`,
      );
    }
    return findIdentity(state, assigned)!;
  }
  if (!identity?.type.startsWith('SystemAssigned') || !identity.principalId) {
    throw storageError(
      'InvalidEncryptionIdentity',
      'Customer-managed keys need a managed identity: set encryption.identity.userAssignedIdentity to an assigned user-assigned identity, or give the account a system-assigned identity.',
      `${ENC}.identity`,
    );
  }
  // The system-assigned identity as a principal for the key checks.
  return { id: account.id, name: account.name, type: 'system-assigned', properties: { principalId: identity.principalId, tenantId: identity.tenantId } };
}

/**
 * Cross-tenant CMK (learn.microsoft.com/azure/storage/common/customer-managed-keys-configure-cross-tenant-existing-account):
 * with encryption.identity.federatedIdentityClientId, Storage reaches the key as that multi-tenant
 * application, through a federated identity credential trusting the encryption (user-assigned)
 * identity, i.e. as the application's service principal in the vault's tenant.
 */
function federatedPrincipal(state: SimState, enc: Encryption, principal: SimResource, vault: SimResource): SimResource {
  const clientId = enc.identity?.federatedIdentityClientId;
  if (!clientId) return principal;
  if (!enc.identity?.userAssignedIdentity) {
    throw storageError(
      'InvalidEncryptionIdentity',
      'encryption.identity.federatedIdentityClientId needs encryption.identity.userAssignedIdentity: the user-assigned identity its federated identity credential trusts.',
      `${ENC}.identity.federatedIdentityClientId`,
    );
  }
  const vaultTenant = (vault.properties as { tenantId: string }).tenantId;
  const identityPrincipal = (principal.properties as { principalId: string }).principalId;
  const sp = federatedServicePrincipal(state, clientId, identityPrincipal, vaultTenant);
  if (!sp) {
    throw storageError(
      'KeyVaultAuthenticationFailure',
      `The operation failed because of authentication issue on the keyvault. For more information, see - https://aka.ms/storagekeyvaultaccesspolicy. Application '${clientId}' could not be used from identity '${principal.name}' in tenant '${vaultTenant}': it does not exist, has no federated identity credential trusting that identity, or has no service principal in the key vault's tenant.`,
      `${ENC}.identity.federatedIdentityClientId`,
      'KeyAccessDenied',
    );
  }
  return { id: `/directory/applications/${clientId}`, name: `application ${clientId}`, type: 'application', properties: { principalId: sp, tenantId: vaultTenant } };
}

/** What Azure Storage checks before it accepts a key: vault soft delete + purge protection, then the key and the identity's access to it. */
function validateKeyVaultEncryption(state: SimState, account: SimResource, enc: Encryption, identity: Identity | undefined, nowSeconds: number): void {
  const kvp = enc.keyvaultproperties;
  // Azure's answer when keyvaultproperties is absent (seen in hashicorp/terraform-provider-azurerm#658).
  if (!kvp) throw storageError('MissingKeyvaultProperties', 'The encryption keyvault properties are missing from the request.', `${ENC}.keyvaultproperties`);
  if (!kvp.keyname || !kvp.keyvaulturi) {
    throw storageError('InvalidKeyVaultProperties', "keySource 'Microsoft.Keyvault' needs keyvaultproperties with keyname and keyvaulturi.", `${ENC}.keyvaultproperties`);
  }
  const store = keyStoreOfUri(kvp.keyvaulturi);
  if (!store) {
    throw storageError(
      'InvalidKeyVaultProperties',
      `The keyvaulturi '${kvp.keyvaulturi}' is not of the form https://{vault}.vault.azure.net (or https://{hsm}.managedhsm.azure.net).`,
      `${ENC}.keyvaultproperties.keyvaulturi`,
      'InvalidKeyUrl',
    );
  }
  if (kvp.keyversion !== '' && !/^[0-9a-fA-F]{32}$/.test(kvp.keyversion)) {
    throw storageError('InvalidKeyVaultProperties', `The keyversion '${kvp.keyversion}' is not a key version (32 hex characters), nor '' for automatic key rotation.`, `${ENC}.keyvaultproperties.keyversion`, 'InvalidKeyUrl');
  }
  const principal = encryptionPrincipal(state, account, enc, identity);
  const vault = findVaultByName(state, store.name, store.hsm);
  if (!vault) {
    const host = `${store.name}.${store.hsm ? 'managedhsm' : 'vault'}.azure.net`;
    throw storageError('KeyVaultNotFound', `The ${store.hsm ? 'managed HSM' : 'key vault'} '${host}' was not found.`, `${ENC}.keyvaultproperties.keyvaulturi`, 'KeyVaultNotFound');
  }
  const vp = vault.properties as { enableSoftDelete?: boolean; enablePurgeProtection?: boolean };
  if (vp.enableSoftDelete === false || vp.enablePurgeProtection !== true) {
    // Azure's code and text (Azure/azure-cli#12346, #17914); the simulator appends which setting is missing.
    throw storageError(
      'KeyVaultPolicyError',
      `Keyvault policy recoverable is not set. The key vault '${vault.name}' must have soft delete and purge protection enabled to be used for storage account encryption (enableSoftDelete: ${vp.enableSoftDelete !== false}, enablePurgeProtection: ${vp.enablePurgeProtection === true}).`,
      `${ENC}.keyvaultproperties.keyvaulturi`,
    );
  }
  const resolved = checkCmkKey(state, storageKeyUrl(kvp)!, federatedPrincipal(state, enc, principal, vault), nowSeconds);
  if (isCmkKeyProblem(resolved)) {
    const code = KEY_REASON_CODES[resolved.reason];
    const message =
      code === 'KeyVaultAuthenticationFailure' ? `The operation failed because of authentication issue on the keyvault. For more information, see - https://aka.ms/storagekeyvaultaccesspolicy. ${resolved.message}` : resolved.message;
    throw storageError(code, message, `${ENC}.keyvaultproperties`, resolved.reason);
  }
}

function requireAccount(req: SimRequest, ctx: SimContext): SimResource {
  const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
  const found = ctx.state.get(`${rg.id}/providers/${STORAGE_TYPE}/${req.params['account']}`);
  if (!found) throw resourceNotFound(`${STORAGE_TYPE}/${req.params['account']}`, rg.name);
  return found;
}

function patchAccount(req: SimRequest, ctx: SimContext) {
  const { state } = ctx;
  const existing = requireAccount(req, ctx);
  requireAction(state, ctx.caller, existing.id, `${STORAGE_TYPE}/write`);
  const body = bodyObject(req);
  const now = ctx.now();

  let tags = existing.tags;
  if (body['tags'] !== undefined && body['tags'] !== null) {
    if (!isObject(body['tags']) || Object.values(body['tags']).some((v) => typeof v !== 'string')) throw invalidRequestContent("Tags must be an object of strings. Path 'tags'", 'tags');
    tags = body['tags'] as Record<string, string>;
  }
  let sku = existing['sku'];
  if (isObject(body['sku']) && body['sku']['name'] !== undefined) {
    const name = SKUS.find((s) => typeof body['sku'] === 'object' && s.toLowerCase() === String((body['sku'] as Record<string, unknown>)['name']).toLowerCase());
    if (!name) throw invalidRequestContent(`Requested value '${String(body['sku']['name'])}' was not found. Path 'sku.name'`, 'sku.name');
    sku = skuOf(name);
  }
  const identityChanged = body['identity'] !== undefined && body['identity'] !== null;
  const identity = identityFromPatch(state, ctx, existing, body['identity']);

  const props = body['properties'] ?? {};
  if (!isObject(props)) throw invalidRequestContent("Expected an object. Path 'properties'", 'properties');
  const nextProps: Record<string, unknown> = { ...structuredClone(existing.properties) };

  const current = encryptionOf(existing);
  let encryption = current;
  let keyChanged = false;
  if (props['encryption'] !== undefined && props['encryption'] !== null) {
    ({ next: encryption, keyChanged } = mergeEncryption(current, props['encryption']));
  }
  if (encryption.keySource === 'Microsoft.Keyvault') {
    if (keyChanged || props['encryption'] !== undefined) {
      validateKeyVaultEncryption(state, existing, encryption, identity, Math.floor(now / 1000));
      if (keyChanged || !encryption.keyvaultproperties!.lastKeyRotationTimestamp) {
        encryption.keyvaultproperties = { ...encryption.keyvaultproperties!, lastKeyRotationTimestamp: new Date(now).toISOString() };
      }
    } else if (identityChanged) {
      // The key is unchanged: only the encryption identity must still be there.
      encryptionPrincipal(state, existing, encryption, identity);
    }
  } else {
    // Back to Microsoft-managed keys: the key vault settings no longer apply.
    delete encryption.keyvaultproperties;
  }
  nextProps['encryption'] = encryption;

  if (props['networkAcls'] !== undefined && props['networkAcls'] !== null) {
    const acls = props['networkAcls'];
    if (!isObject(acls)) throw invalidRequestContent("Expected an object. Path 'properties.networkAcls'", 'properties.networkAcls');
    const da = acls['defaultAction'];
    if (da !== 'Allow' && da !== 'Deny') {
      throw invalidRequestContent(`Requested value '${String(da)}' was not found. Allowed values: 'Allow', 'Deny' (required). Path 'properties.networkAcls.defaultAction'`, 'properties.networkAcls.defaultAction');
    }
    nextProps['networkAcls'] = {
      bypass: typeof acls['bypass'] === 'string' ? acls['bypass'] : 'AzureServices',
      virtualNetworkRules: Array.isArray(acls['virtualNetworkRules']) ? acls['virtualNetworkRules'] : [],
      ipRules: Array.isArray(acls['ipRules']) ? acls['ipRules'] : [],
      ...(Array.isArray(acls['ipv6Rules']) ? { ipv6Rules: acls['ipv6Rules'] } : {}),
      resourceAccessRules: Array.isArray(acls['resourceAccessRules']) ? acls['resourceAccessRules'] : [],
      defaultAction: da,
    };
  }
  if (props['publicNetworkAccess'] !== undefined && props['publicNetworkAccess'] !== null) {
    const pna = PUBLIC_NETWORK_ACCESS.find((v) => typeof props['publicNetworkAccess'] === 'string' && v.toLowerCase() === (props['publicNetworkAccess'] as string).toLowerCase());
    if (!pna) {
      throw invalidRequestContent(
        `The value '${String(props['publicNetworkAccess'])}' is not valid: publicNetworkAccess must be 'Enabled', 'Disabled' or 'SecuredByPerimeter'. Path 'properties.publicNetworkAccess'`,
        'properties.publicNetworkAccess',
      );
    }
    nextProps['publicNetworkAccess'] = pna;
  }
  for (const [k, kind] of [
    ['minimumTlsVersion', 'string'],
    ['accessTier', 'string'],
    ['allowBlobPublicAccess', 'boolean'],
    ['allowSharedKeyAccess', 'boolean'],
    ['supportsHttpsTrafficOnly', 'boolean'],
  ] as const) {
    const v = props[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== kind) throw invalidRequestContent(`Expected a ${kind}. Path 'properties.${k}'`, `properties.${k}`);
    nextProps[k] = v;
  }

  const { identity: _old, ...rest } = existing;
  const updated: SimResource = { ...rest, tags, sku, ...(identity && identity.type !== 'None' ? { identity } : {}), properties: nextProps };
  state.put(updated);
  return { status: 200, body: renderStorageAccount(state, updated) };
}

// ---------------------------------------------------------------------------------------------
// Blob containers

function containerNameError(name: string): ArmError {
  const detail = name.length < 3 || name.length > 63 ? 'The specified resource name length is not within the permissible limits.' : 'The specified resource name contains invalid characters.';
  return new ArmError(400, STORAGE_ERROR_CODES.ContainerOperationFailure, `${detail} Container names are 3-63 characters of lower-case letters, digits and single hyphens, starting and ending with a letter or digit ('${name}').`, {
    target: 'containerName',
  });
}

function putContainer(req: SimRequest, ctx: SimContext) {
  const account = requireAccount(req, ctx);
  const name = req.params['container']!;
  const id = `${account.id}/blobServices/default/containers/${name}`;
  requireAction(ctx.state, ctx.caller, id, `${CONTAINER_TYPE}/write`);
  if (!isValidContainerName(name)) throw containerNameError(name);
  const body = req.body === undefined ? {} : bodyObject(req);
  const props = body['properties'] ?? {};
  if (!isObject(props)) throw invalidRequestContent("Expected an object. Path 'properties'", 'properties');
  const publicAccess = props['publicAccess'] ?? 'None';
  if (!['None', 'Blob', 'Container'].includes(publicAccess as string)) {
    throw invalidRequestContent(`Requested value '${String(publicAccess)}' was not found. Allowed values: 'None', 'Blob', 'Container'. Path 'properties.publicAccess'`, 'properties.publicAccess');
  }
  if (publicAccess !== 'None' && (account.properties as { allowBlobPublicAccess?: boolean }).allowBlobPublicAccess !== true) {
    throw new ArmError(409, STORAGE_ERROR_CODES.PublicAccessNotPermitted, 'Public access is not permitted on this storage account.', { target: 'properties.publicAccess' });
  }
  const metadata = props['metadata'];
  if (metadata !== undefined && (!isObject(metadata) || Object.values(metadata).some((v) => typeof v !== 'string'))) {
    throw invalidRequestContent("Metadata must be an object of strings. Path 'properties.metadata'", 'properties.metadata');
  }
  const existing = ctx.state.get(id);
  const created = containerResource(account, existing?.name ?? name, new Date(ctx.now()).toISOString(), {
    publicAccess: publicAccess as string,
    ...(metadata ? { metadata: metadata as Record<string, string> } : {}),
  });
  ctx.state.put(created);
  return { status: existing ? 200 : 201, body: created };
}

// ---------------------------------------------------------------------------------------------
// Seed

function seedStorage(state: SimState, { nowSeconds }: { nowSeconds: number }): void {
  const createdAt = new Date((nowSeconds - 200 * DAY) * 1000).toISOString();
  const cmkSetAt = new Date((nowSeconds - 150 * DAY) * 1000).toISOString();
  const identityId = ids.simIdentityId(ids.SIM_IDENTITY);
  const uai = { [identityId]: { principalId: ids.SIM_IDENTITY_PRINCIPAL_ID, clientId: ids.SIM_IDENTITY_CLIENT_ID } };
  const cmk = (key: string) => ({ keyvaulturi: `https://${ids.SIM_RBAC_VAULT}.vault.azure.net`, keyname: key, keyversion: '', encryptionIdentity: identityId, setAt: cmkSetAt });
  const base = { resourceGroup: ids.SIM_RG, location: ids.SIM_LOCATION, createdAt };
  const cmkAccount = state.put(storageAccountResource({ ...base, name: ids.SIM_STORAGE_CMK, userAssignedIdentities: uai, cmk: cmk(ids.SIM_KEY) }));
  state.put(containerResource(cmkAccount, ids.SIM_CHAOS_CONTAINER, cmkSetAt));
  state.put(storageAccountResource({ ...base, name: ids.SIM_STORAGE_NO_CMK }));
  state.put(
    storageAccountResource({
      ...base,
      name: ids.SIM_STORAGE_PRIVATE,
      userAssignedIdentities: uai,
      cmk: cmk(ids.SIM_KEY),
      networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices', ipRules: [{ value: '203.0.113.0/24', action: 'Allow' }] },
    }),
  );
  state.put(storageAccountResource({ ...base, name: ids.SIM_STORAGE_NO_BLOB_ROLE, userAssignedIdentities: uai, cmk: cmk(ids.SIM_KEY) }));
  // Seeded directly: a PATCH naming an expired key is refused (KeyVaultKeyExpired).
  state.put(storageAccountResource({ ...base, name: ids.SIM_STORAGE_BAD_KEY, userAssignedIdentities: uai, cmk: cmk(ids.SIM_EXPIRED_KEY) }));
}

const ACCOUNT = `/subscriptions/{sub}/resourceGroups/{rg}/providers/${STORAGE_TYPE}/{account}`;
const CONTAINERS = `${ACCOUNT}/blobServices/default/containers`;

export const storageProvider: SimProvider = {
  namespace: 'Microsoft.Storage',
  apiVersions: STORAGE_API_VERSIONS,
  seed: seedStorage,
  routes: [
    {
      method: 'GET',
      pattern: ACCOUNT,
      resourceType: 'storageAccounts',
      handler: (req, ctx) => ({ status: 200, body: renderStorageAccount(ctx.state, requireAccount(req, ctx)) }),
    },
    { method: 'PATCH', pattern: ACCOUNT, resourceType: 'storageAccounts', handler: patchAccount },
    ...collectionRoutes(STORAGE_TYPE, 'storageAccounts', { render: (r, _req, ctx) => renderStorageAccount(ctx.state, r) }),
    {
      method: 'GET',
      pattern: CONTAINERS,
      resourceType: 'storageAccounts/blobServices/containers',
      apiVersions: STORAGE_CONTAINER_VERSIONS,
      handler: (req, ctx) => {
        const account = requireAccount(req, ctx);
        return { status: 200, body: page(ctx.state.ofType(CONTAINER_TYPE, account.id), req, ctx, 100) };
      },
    },
    {
      method: 'GET',
      pattern: `${CONTAINERS}/{container}`,
      resourceType: 'storageAccounts/blobServices/containers',
      apiVersions: STORAGE_CONTAINER_VERSIONS,
      handler: (req, ctx) => {
        const account = requireAccount(req, ctx);
        const found = ctx.state.get(`${account.id}/blobServices/default/containers/${req.params['container']}`);
        if (!found) throw resourceNotFound(`${STORAGE_TYPE}/${account.name}/blobServices/default/containers/${req.params['container']}`, account.id.split('/')[4]!);
        return { status: 200, body: found };
      },
    },
    { method: 'PUT', pattern: `${CONTAINERS}/{container}`, resourceType: 'storageAccounts/blobServices/containers', apiVersions: STORAGE_CONTAINER_VERSIONS, handler: putContainer },
    {
      method: 'DELETE',
      pattern: `${CONTAINERS}/{container}`,
      resourceType: 'storageAccounts/blobServices/containers',
      apiVersions: STORAGE_CONTAINER_VERSIONS,
      handler: (req, ctx) => {
        const account = requireAccount(req, ctx);
        const id = `${account.id}/blobServices/default/containers/${req.params['container']}`;
        requireAction(ctx.state, ctx.caller, id, `${CONTAINER_TYPE}/delete`);
        return { status: ctx.state.delete(id) ? 200 : 204 };
      },
    },
  ],
};
