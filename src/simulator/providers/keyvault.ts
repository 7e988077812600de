// Microsoft.KeyVault (management plane): vaults, keys, key versions; plus the key checks a
// resource provider makes before it accepts a customer-managed key (used by fluid-relay and
// later by storage / chaos).
import { page, requireResourceGroup, collectionRoutes } from '../arm';
import { KEYVAULT_KEY_VERSIONS, KEYVAULT_MHSM_KEY_VERSIONS, KEYVAULT_MHSM_VERSIONS, KEYVAULT_VAULT_VERSIONS } from '../api-versions';
import { principalAndGroups } from '../directory';
import { ArmError, resourceNotFound } from '../errors';
import type { SimProvider, SimRequest, SimContext } from '../provider';
import { patchVault } from './keyvault-vault-update';
import { assignmentsCovering, assignmentProps, permits, requireAction, roleDefinition, rolePermissions } from '../rbac';
import * as ids from '../seed-ids';
import type { SimResource, SimState } from '../state';

export const VAULT_TYPE = 'Microsoft.KeyVault/vaults';
export const KEY_TYPE = 'Microsoft.KeyVault/vaults/keys';
export const KEY_VERSION_TYPE = 'Microsoft.KeyVault/vaults/keys/versions';
export const KEYVAULT_API_VERSIONS = KEYVAULT_VAULT_VERSIONS;
export const MHSM_TYPE = 'Microsoft.KeyVault/managedHSMs';
export const MHSM_KEY_TYPE = 'Microsoft.KeyVault/managedHSMs/keys';
export const MHSM_KEY_VERSION_TYPE = 'Microsoft.KeyVault/managedHSMs/keys/versions';
/**
 * A managed HSM's local (data-plane) role assignment. Managed HSM authorizes key use through its
 * own RBAC, not ARM's; the data plane is not simulated, so these live in the store under the HSM
 * (never served) for the key checks.
 */
export const MHSM_LOCAL_ROLE_TYPE = 'Microsoft.KeyVault/managedHSMs/localRoleAssignments';
/** The built-in local role CMK services need (learn.microsoft.com/azure/key-vault/managed-hsm/built-in-roles). */
export const MHSM_CRYPTO_SERVICE_ENCRYPTION_USER = 'Managed HSM Crypto Service Encryption User';
const MHSM_CMK_DATA_ACTIONS = ['Microsoft.KeyVault/managedHsm/keys/read/action', 'Microsoft.KeyVault/managedHsm/keys/wrap/action', 'Microsoft.KeyVault/managedHsm/keys/unwrap/action'];

const DAY = 24 * 3600;

// ---------------------------------------------------------------------------------------------
// Builders (seed data and tests)

export interface AccessPolicy {
  tenantId: string;
  objectId: string;
  permissions: { keys: string[]; secrets: string[]; certificates: string[] };
}

export interface VaultSpec {
  name: string;
  resourceGroup: string;
  subscriptionId?: string;
  location: string;
  tenantId?: string;
  enableRbacAuthorization: boolean;
  enablePurgeProtection: boolean;
  /** Default true. A vault without soft delete (only legacy vaults can be) has no retention period either. */
  enableSoftDelete?: boolean;
  softDeleteRetentionInDays?: number;
  accessPolicies?: AccessPolicy[];
  networkAcls?: { defaultAction: 'Allow' | 'Deny'; bypass: 'AzureServices' | 'None'; ipRules: { value: string }[]; virtualNetworkRules: { id: string }[] };
  createdAt: string;
}

export function vaultResource(spec: VaultSpec): SimResource {
  const sub = spec.subscriptionId ?? ids.SIM_SUBSCRIPTION_ID;
  const properties: Record<string, unknown> = {
    sku: { family: 'A', name: 'standard' },
    tenantId: spec.tenantId ?? ids.SIM_TENANT_ID,
    accessPolicies: spec.accessPolicies ?? [],
    enabledForDeployment: false,
    enabledForDiskEncryption: false,
    enabledForTemplateDeployment: false,
    enableSoftDelete: spec.enableSoftDelete ?? true,
    ...(spec.enableSoftDelete === false ? {} : { softDeleteRetentionInDays: spec.softDeleteRetentionInDays ?? 90 }),
    enableRbacAuthorization: spec.enableRbacAuthorization,
    // Purge protection cannot be turned off, so a vault without it simply omits the property.
    ...(spec.enablePurgeProtection ? { enablePurgeProtection: true } : {}),
    ...(spec.networkAcls ? { networkAcls: spec.networkAcls } : {}),
    vaultUri: `https://${spec.name}.vault.azure.net/`,
    provisioningState: 'Succeeded',
    publicNetworkAccess: 'Enabled',
  };
  return {
    id: `/subscriptions/${sub}/resourceGroups/${spec.resourceGroup}/providers/Microsoft.KeyVault/vaults/${spec.name}`,
    name: spec.name,
    type: VAULT_TYPE,
    location: spec.location,
    tags: {},
    systemData: seededSystemData(spec.createdAt),
    properties,
  };
}

/** systemData of a resource the seed created, as ARM reports it (common-types systemData). */
function seededSystemData(createdAt: string) {
  return { createdBy: 'platform-admin@contoso.example', createdByType: 'User', createdAt, lastModifiedBy: 'platform-admin@contoso.example', lastModifiedByType: 'User', lastModifiedAt: createdAt };
}

export interface ManagedHsmSpec {
  name: string;
  resourceGroup: string;
  location: string;
  tenantId?: string;
  enablePurgeProtection: boolean;
  initialAdminObjectIds: string[];
  createdAt: string;
}

/** A managed HSM as ManagedHsms_Get returns it (stable/2026-02-01 ManagedHsm_ListByResourceGroup.json's shape). */
export function managedHsmResource(spec: ManagedHsmSpec): SimResource {
  return {
    id: `/subscriptions/${ids.SIM_SUBSCRIPTION_ID}/resourceGroups/${spec.resourceGroup}/providers/${MHSM_TYPE}/${spec.name}`,
    name: spec.name,
    type: MHSM_TYPE,
    location: spec.location,
    sku: { family: 'B', name: 'Standard_B1' },
    tags: {},
    systemData: seededSystemData(spec.createdAt),
    properties: {
      tenantId: spec.tenantId ?? ids.SIM_TENANT_ID,
      initialAdminObjectIds: spec.initialAdminObjectIds,
      hsmUri: `https://${spec.name}.managedhsm.azure.net/`,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      enablePurgeProtection: spec.enablePurgeProtection,
      provisioningState: 'Succeeded',
      statusMessage: 'ManagedHsm is functional.',
      networkAcls: { bypass: 'AzureServices', defaultAction: 'Allow', ipRules: [], virtualNetworkRules: [] },
      publicNetworkAccess: 'Enabled',
      securityDomainProperties: { activationStatus: 'Active', activationStatusMessage: 'Your HSM has been activated and can be used for cryptographic operations.' },
    },
  };
}

/** A local role assignment on a managed HSM (scope '/' or '/keys' or '/keys/{name}'). */
export function managedHsmLocalRoleAssignment(hsm: SimResource, name: string, principalId: string, roleName: string, scope = '/keys'): SimResource {
  return { id: `${hsm.id}/localRoleAssignments/${name}`, name, type: MHSM_LOCAL_ROLE_TYPE, properties: { principalId, roleName, scope } };
}

export interface KeyVersionSpec {
  version: string;
  created: number;
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

export interface KeySpec {
  vault: SimResource;
  name: string;
  kty: 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM';
  keySize?: number;
  curveName?: string;
  keyOps: string[];
  /** Oldest first; the last one is the current version. */
  versions: KeyVersionSpec[];
  rotationPolicy?: Record<string, unknown>;
}

/** recoveryLevel follows the vault: soft delete + purge protection → Recoverable; soft delete only → Recoverable+Purgeable. */
export function recoveryLevel(vault: SimResource | undefined): string {
  const p = (vault?.properties ?? {}) as { enableSoftDelete?: boolean; enablePurgeProtection?: boolean };
  if (p.enableSoftDelete === false) return 'Purgeable';
  return p.enablePurgeProtection ? 'Recoverable' : 'Recoverable+Purgeable';
}

export function keyUri(vaultName: string, keyName: string, hsm = false): string {
  return hsm ? `https://${vaultName}.managedhsm.azure.net/keys/${keyName}` : `https://${vaultName}.vault.azure.net:443/keys/${keyName}`;
}

function isHsm(store: SimResource | undefined): boolean {
  return store?.type.toLowerCase() === MHSM_TYPE.toLowerCase();
}

/** The key resource (mirroring its current version, as Keys_Get does) and one resource per version. */
export function keyResources(spec: KeySpec): SimResource[] {
  const keyId = `${spec.vault.id}/keys/${spec.name}`;
  const hsm = isHsm(spec.vault);
  const uri = keyUri(spec.vault.name, spec.name, hsm);
  const material = {
    kty: spec.kty,
    keyOps: spec.keyOps,
    ...(spec.keySize !== undefined ? { keySize: spec.keySize } : {}),
    ...(spec.curveName !== undefined ? { curveName: spec.curveName } : {}),
  };
  const attributes = (v: KeyVersionSpec) => ({
    enabled: v.enabled ?? true,
    ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
    ...(v.exp !== undefined ? { exp: v.exp } : {}),
    created: v.created,
    updated: v.created,
    recoveryLevel: recoveryLevel(spec.vault),
  });
  const versions: SimResource[] = spec.versions.map((v) => ({
    id: `${keyId}/versions/${v.version}`,
    name: v.version,
    type: hsm ? MHSM_KEY_VERSION_TYPE : KEY_VERSION_TYPE,
    location: spec.vault.location,
    properties: { attributes: attributes(v), ...material, keyUri: uri, keyUriWithVersion: `${uri}/${v.version}` },
  }));
  const current = spec.versions[spec.versions.length - 1]!;
  const key: SimResource = {
    id: keyId,
    name: spec.name,
    type: hsm ? MHSM_KEY_TYPE : KEY_TYPE,
    location: spec.vault.location,
    properties: {
      attributes: attributes(current),
      ...material,
      keyUri: uri,
      keyUriWithVersion: `${uri}/${current.version}`,
      ...(spec.rotationPolicy ? { rotationPolicy: spec.rotationPolicy } : {}),
    },
  };
  return [key, ...versions];
}

// ---------------------------------------------------------------------------------------------
// Rendering

function vaultOfChild(state: SimState, childId: string): SimResource | undefined {
  const at = childId.toLowerCase().indexOf('/keys/');
  return at < 0 ? undefined : state.get(childId.slice(0, at));
}

/** A key or key version as GET returns it; recoveryLevel is computed from the vault's current settings. */
export function renderKey(state: SimState, r: SimResource): SimResource {
  const props = r.properties as { attributes?: Record<string, unknown> };
  return { ...r, properties: { ...r.properties, attributes: { ...props.attributes, recoveryLevel: recoveryLevel(vaultOfChild(state, r.id)) } } };
}

/** Keys_ListVersions items carry only attributes and URIs (listKeyVersions.json). */
function renderVersionListItem(state: SimState, r: SimResource): SimResource {
  const full = renderKey(state, r);
  const p = full.properties as Record<string, unknown>;
  return { ...full, properties: { attributes: p['attributes'], keyUri: p['keyUri'], keyUriWithVersion: p['keyUriWithVersion'] } };
}

function vaultPath(req: SimRequest): string {
  return `/subscriptions/${req.params['sub']}/resourceGroups/${req.params['rg']}/providers/Microsoft.KeyVault/vaults/${req.params['vault']}`;
}

function requireVault(req: SimRequest, ctx: SimContext): SimResource {
  const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
  const vault = ctx.state.get(vaultPath(req));
  if (!vault) throw resourceNotFound(`Microsoft.KeyVault/vaults/${req.params['vault']}`, rg.name);
  return vault;
}

function requireKey(req: SimRequest, ctx: SimContext): SimResource {
  const vault = requireVault(req, ctx);
  const key = ctx.state.get(`${vault.id}/keys/${req.params['key']}`);
  if (!key) throw resourceNotFound(`Microsoft.KeyVault/vaults/${vault.name}/keys/${req.params['key']}`, requireRgName(vault));
  return key;
}

function hsmPath(req: SimRequest): string {
  return `/subscriptions/${req.params['sub']}/resourceGroups/${req.params['rg']}/providers/${MHSM_TYPE}/${req.params['hsm']}`;
}

function requireHsm(req: SimRequest, ctx: SimContext): SimResource {
  const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
  const hsm = ctx.state.get(hsmPath(req));
  if (!hsm) throw resourceNotFound(`${MHSM_TYPE}/${req.params['hsm']}`, rg.name);
  return hsm;
}

function requireHsmKey(req: SimRequest, ctx: SimContext): SimResource {
  const hsm = requireHsm(req, ctx);
  const key = ctx.state.get(`${hsm.id}/keys/${req.params['key']}`);
  if (!key) throw resourceNotFound(`${MHSM_TYPE}/${hsm.name}/keys/${req.params['key']}`, requireRgName(hsm));
  return key;
}

function requireRgName(r: SimResource): string {
  return r.id.split('/')[4] ?? '';
}

const VAULT = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vault}';
const HSM = `/subscriptions/{sub}/resourceGroups/{rg}/providers/${MHSM_TYPE}/{hsm}`;

/** ManagedHsms_Get / lists and ManagedHsmKeys_Get / List / GetVersion / ListVersions (management plane, read only). */
const managedHsmRoutes: SimProvider['routes'] = [
  ...collectionRoutes(MHSM_TYPE, 'managedHSMs').map((r) => ({ ...r, apiVersions: KEYVAULT_MHSM_VERSIONS })),
  { method: 'GET', pattern: HSM, resourceType: 'managedHSMs', apiVersions: KEYVAULT_MHSM_VERSIONS, handler: (req, ctx) => ({ status: 200, body: requireHsm(req, ctx) }) },
  {
    method: 'GET',
    pattern: `${HSM}/keys`,
    resourceType: 'managedHSMs/keys',
    apiVersions: KEYVAULT_MHSM_KEY_VERSIONS,
    handler: (req, ctx) => {
      const hsm = requireHsm(req, ctx);
      return {
        status: 200,
        body: page(
          ctx.state.ofType(MHSM_KEY_TYPE, hsm.id).map((k) => renderKey(ctx.state, k)),
          req,
          ctx,
          25,
        ),
      };
    },
  },
  { method: 'GET', pattern: `${HSM}/keys/{key}`, resourceType: 'managedHSMs/keys', apiVersions: KEYVAULT_MHSM_KEY_VERSIONS, handler: (req, ctx) => ({ status: 200, body: renderKey(ctx.state, requireHsmKey(req, ctx)) }) },
  {
    method: 'GET',
    pattern: `${HSM}/keys/{key}/versions`,
    resourceType: 'managedHSMs/keys/versions',
    apiVersions: KEYVAULT_MHSM_KEY_VERSIONS,
    handler: (req, ctx) => {
      const key = requireHsmKey(req, ctx);
      return {
        status: 200,
        body: page(
          ctx.state.ofType(MHSM_KEY_VERSION_TYPE, key.id).map((v) => renderVersionListItem(ctx.state, v)),
          req,
          ctx,
          25,
        ),
      };
    },
  },
  {
    method: 'GET',
    pattern: `${HSM}/keys/{key}/versions/{version}`,
    resourceType: 'managedHSMs/keys/versions',
    apiVersions: KEYVAULT_MHSM_KEY_VERSIONS,
    handler: (req, ctx) => {
      const key = requireHsmKey(req, ctx);
      const version = ctx.state.get(`${key.id}/versions/${req.params['version']}`);
      if (!version) throw resourceNotFound(`${MHSM_TYPE}/${req.params['hsm']}/keys/${key.name}/versions/${req.params['version']}`, requireRgName(key));
      return { status: 200, body: renderKey(ctx.state, version) };
    },
  },
];

// Vaults_UpdateAccessPolicy, operationKind "add" (2024-11-01 updateAccessPoliciesAdd.json): each
// policy is merged into the vault's, by tenant and object id — permissions are added, never taken
// away; a new object id is appended. "replace" and "remove" are not simulated.
const KEY_PERMISSIONS = new Set(
  ['all', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey', 'sign', 'verify', 'get', 'list', 'create', 'update', 'import', 'delete', 'backup', 'restore', 'recover', 'purge', 'release', 'rotate', 'getrotationpolicy', 'setrotationpolicy'].map(
    (k) => k.toLowerCase(),
  ),
);
const POLICY_GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function parseAccessPolicies(body: unknown): AccessPolicy[] {
  const list = (body as { properties?: { accessPolicies?: unknown } } | undefined)?.properties?.accessPolicies;
  if (!Array.isArray(list) || list.length === 0) throw new ArmError(400, 'BadRequest', 'The parameter accessPolicies is required and must name at least one access policy.');
  return list.map((raw: unknown, i) => {
    const p = (raw ?? {}) as { tenantId?: unknown; objectId?: unknown; permissions?: { keys?: unknown; secrets?: unknown; certificates?: unknown } };
    if (typeof p.tenantId !== 'string' || !POLICY_GUID.test(p.tenantId)) throw new ArmError(400, 'BadRequest', `Invalid value found at accessPolicies[${i}].tenantId: a tenant id (GUID) is required.`);
    if (typeof p.objectId !== 'string' || p.objectId.trim() === '') throw new ArmError(400, 'BadRequest', `Invalid value found at accessPolicies[${i}].ObjectId: an object id is required.`);
    if (!p.permissions || typeof p.permissions !== 'object') throw new ArmError(400, 'BadRequest', `Invalid value found at accessPolicies[${i}].permissions: permissions are required.`);
    const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    const keys = list(p.permissions.keys);
    const bad = keys.find((k) => !KEY_PERMISSIONS.has(k.toLowerCase()));
    if (bad !== undefined) throw new ArmError(400, 'BadRequest', `Invalid value found at accessPolicies[${i}].permissions.keys: '${bad}' is not a key permission.`);
    return { tenantId: p.tenantId, objectId: p.objectId, permissions: { keys, secrets: list(p.permissions.secrets), certificates: list(p.permissions.certificates) } };
  });
}

function mergePolicies(current: AccessPolicy[], added: AccessPolicy[]): AccessPolicy[] {
  const out = current.map((p) => ({ ...p, permissions: { keys: [...(p.permissions.keys ?? [])], secrets: [...(p.permissions.secrets ?? [])], certificates: [...(p.permissions.certificates ?? [])] } }));
  const union = (a: string[], b: string[]) => [...a, ...b.filter((x) => !a.some((y) => y.toLowerCase() === x.toLowerCase()))];
  for (const p of added) {
    const same = out.find((c) => c.tenantId.toLowerCase() === p.tenantId.toLowerCase() && c.objectId.toLowerCase() === p.objectId.toLowerCase());
    if (!same) out.push(p);
    else same.permissions = { keys: union(same.permissions.keys, p.permissions.keys), secrets: union(same.permissions.secrets, p.permissions.secrets), certificates: union(same.permissions.certificates, p.permissions.certificates) };
  }
  return out;
}

const accessPolicyRoutes: SimProvider['routes'] = [
  {
    method: 'PUT',
    pattern: `${VAULT}/accessPolicies/add`,
    resourceType: 'vaults/accessPolicies',
    apiVersions: KEYVAULT_VAULT_VERSIONS,
    handler: (req, ctx) => {
      const vault = requireVault(req, ctx);
      requireAction(ctx.state, ctx.caller, vault.id, 'Microsoft.KeyVault/vaults/accessPolicies/write');
      const added = parseAccessPolicies(req.body);
      const props = vault.properties as { accessPolicies?: AccessPolicy[] };
      ctx.state.put({ ...vault, properties: { ...vault.properties, accessPolicies: mergePolicies(props.accessPolicies ?? [], added) } });
      return { status: 200, body: { id: `${vault.id}/accessPolicies/`, type: 'Microsoft.KeyVault/vaults/accessPolicies', properties: { accessPolicies: added } } };
    },
  },
];

export const keyVaultProvider: SimProvider = {
  namespace: 'Microsoft.KeyVault',
  apiVersions: KEYVAULT_API_VERSIONS,
  seed: seedKeyVault,
  routes: [
    ...managedHsmRoutes,
    ...accessPolicyRoutes,
    ...collectionRoutes(VAULT_TYPE, 'vaults', { pageSize: 25, honourTop: true }),
    { method: 'GET', pattern: VAULT, resourceType: 'vaults', handler: (req, ctx) => ({ status: 200, body: requireVault(req, ctx) }) },
    { method: 'PATCH', pattern: VAULT, resourceType: 'vaults', handler: (req, ctx) => patchVault(requireVault(req, ctx), req, ctx) },
    {
      method: 'GET',
      pattern: `${VAULT}/keys`,
      resourceType: 'vaults/keys',
      apiVersions: KEYVAULT_KEY_VERSIONS,
      handler: (req, ctx) => {
        const vault = requireVault(req, ctx);
        const keys = ctx.state.ofType(KEY_TYPE, vault.id).map((k) => renderKey(ctx.state, k));
        return { status: 200, body: page(keys, req, ctx, 25) };
      },
    },
    { method: 'GET', pattern: `${VAULT}/keys/{key}`, resourceType: 'vaults/keys', apiVersions: KEYVAULT_KEY_VERSIONS, handler: (req, ctx) => ({ status: 200, body: renderKey(ctx.state, requireKey(req, ctx)) }) },
    {
      method: 'GET',
      pattern: `${VAULT}/keys/{key}/versions`,
      resourceType: 'vaults/keys/versions',
      apiVersions: KEYVAULT_KEY_VERSIONS,
      handler: (req, ctx) => {
        const key = requireKey(req, ctx);
        const versions = ctx.state.ofType(KEY_VERSION_TYPE, key.id).map((v) => renderVersionListItem(ctx.state, v));
        return { status: 200, body: page(versions, req, ctx, 25) };
      },
    },
    {
      method: 'GET',
      pattern: `${VAULT}/keys/{key}/versions/{version}`,
      resourceType: 'vaults/keys/versions',
      apiVersions: KEYVAULT_KEY_VERSIONS,
      handler: (req, ctx) => {
        const key = requireKey(req, ctx);
        const version = ctx.state.get(`${key.id}/versions/${req.params['version']}`);
        if (!version) {
          throw resourceNotFound(`Microsoft.KeyVault/vaults/${req.params['vault']}/keys/${key.name}/versions/${req.params['version']}`, requireRgName(key));
        }
        return { status: 200, body: renderKey(ctx.state, version) };
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// Customer-managed key checks, as a resource provider runs them before accepting a key

export type CmkKeyReason =
  | 'InvalidKeyUrl'
  | 'KeyVaultNotFound'
  | 'KeyNotFound'
  | 'KeyVersionNotFound'
  | 'KeyTypeNotSupported'
  | 'KeyDisabled'
  | 'KeyNotYetValid'
  | 'KeyExpired'
  | 'KeyOperationsNotPermitted'
  | 'TenantMismatch'
  | 'VaultFirewallBlocksTrustedServices'
  | 'KeyAccessDenied';

export interface CmkKeyProblem {
  reason: CmkKeyReason;
  message: string;
}

export interface ResolvedCmkKey {
  vault: SimResource;
  /** The key (versionless URL) or the pinned version. */
  key: SimResource;
}

export interface ParsedKeyUrl {
  /** The vault's or managed HSM's name (the host's first label). */
  vaultName: string;
  /** A managed HSM key (`*.managedhsm.azure.net`). */
  hsm: boolean;
  keyName: string;
  version?: string;
}

/** `https://{vault}.vault.azure.net[:443]/keys/{name}[/{32-hex version}]` or the same on `{hsm}.managedhsm.azure.net`, nothing else. */
export function parseKeyUrl(url: string): ParsedKeyUrl | undefined {
  const m = /^https:\/\/([a-zA-Z0-9-]{3,24})\.(vault|managedhsm)\.azure\.net(?::443)?\/keys\/([a-zA-Z0-9-]{1,127})(?:\/([0-9a-fA-F]{32}))?$/i.exec(url);
  if (!m) return undefined;
  return { vaultName: m[1]!, hsm: m[2]!.toLowerCase() === 'managedhsm', keyName: m[3]!, ...(m[4] ? { version: m[4] } : {}) };
}

/** The vault (or, with `hsm`, the managed HSM) whose URI has this host name. */
export function findVaultByName(state: SimState, vaultName: string, hsm = false): SimResource | undefined {
  const host = `${vaultName}.${hsm ? 'managedhsm' : 'vault'}.azure.net`.toLowerCase();
  return state.ofType(hsm ? MHSM_TYPE : VAULT_TYPE).find((v) => {
    const p = v.properties as { vaultUri?: string; hsmUri?: string };
    const uri = hsm ? p.hsmUri : p.vaultUri;
    try {
      return uri !== undefined && new URL(uri).hostname.toLowerCase() === host;
    } catch {
      return false;
    }
  });
}

const REQUIRED_POLICY_PERMISSIONS = ['get', 'wrapKey', 'unwrapKey'];
const REQUIRED_DATA_ACTIONS = ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/wrap/action', 'Microsoft.KeyVault/vaults/keys/unwrap/action'];

/**
 * What the principal lacks of get / wrapKey / unwrapKey on the key: from the vault's access
 * policies, or (RBAC vaults) from role assignments at key, vault, group or subscription scope.
 */
export function missingKeyPermissions(state: SimState, vault: SimResource, keyId: string, principalId: string): string[] {
  if (isHsm(vault)) {
    // Local RBAC: the built-in Crypto Service Encryption User (or Crypto User / Administrator: all carry these) at '/', '/keys' or the key.
    const keyName = keyId.split('/').pop()!.toLowerCase();
    const held = state
      .ofType(MHSM_LOCAL_ROLE_TYPE, vault.id)
      .map((a) => a.properties as { principalId: string; roleName: string; scope: string })
      .filter((a) => a.principalId.toLowerCase() === principalId.toLowerCase() && ['/', '/keys', `/keys/${keyName}`].includes(a.scope.toLowerCase()))
      .some((a) => [MHSM_CRYPTO_SERVICE_ENCRYPTION_USER, 'Managed HSM Crypto User', 'Managed HSM Crypto Officer'].includes(a.roleName));
    return held ? [] : MHSM_CMK_DATA_ACTIONS;
  }
  const props = vault.properties as { enableRbacAuthorization?: boolean; accessPolicies?: AccessPolicy[] };
  if (props.enableRbacAuthorization) {
    const perms = assignmentsCovering(state, keyId, principalId).flatMap((a) => rolePermissions(roleDefinition(state, assignmentProps(a).roleDefinitionId)));
    return REQUIRED_DATA_ACTIONS.filter((action) => !permits(perms, action, 'dataAction'));
  }
  const who = principalAndGroups(state, principalId);
  const granted = new Set(
    (props.accessPolicies ?? [])
      // Key Vault honours a policy naming any group the principal belongs to (transitively).
      .filter((p) => who.has(p.objectId.toLowerCase()))
      .flatMap((p) => p.permissions.keys ?? [])
      .map((k) => k.toLowerCase()),
  );
  if (granted.has('all')) return [];
  return REQUIRED_POLICY_PERMISSIONS.filter((p) => !granted.has(p.toLowerCase()));
}

/**
 * Resolves a key URL and checks it can serve as a key-encryption key for `identity`:
 * exists, RSA, enabled, within nbf/exp, wrap/unwrap allowed, same tenant, reachable by
 * trusted services, and the identity holds get/wrapKey/unwrapKey.
 */
export function checkCmkKey(state: SimState, keyUrl: string, identity: SimResource, nowSeconds: number): ResolvedCmkKey | CmkKeyProblem {
  const parsed = parseKeyUrl(keyUrl);
  if (!parsed) {
    return {
      reason: 'InvalidKeyUrl',
      message: `The key URL '${keyUrl}' is not of the form https://{vault}.vault.azure.net/keys/{name}[/{version}] (or https://{hsm}.managedhsm.azure.net/keys/…).`,
    };
  }
  const vault = findVaultByName(state, parsed.vaultName, parsed.hsm);
  if (!vault) {
    return { reason: 'KeyVaultNotFound', message: parsed.hsm ? `The managed HSM '${parsed.vaultName}.managedhsm.azure.net' was not found.` : `The key vault '${parsed.vaultName}.vault.azure.net' was not found.` };
  }
  const keyId = `${vault.id}/keys/${parsed.keyName}`;
  const keyResource = state.get(keyId);
  if (!keyResource) return { reason: 'KeyNotFound', message: `The key '${parsed.keyName}' was not found in key vault '${vault.name}'.` };
  let key = keyResource;
  if (parsed.version) {
    const version = state.get(`${keyId}/versions/${parsed.version}`);
    if (!version) return { reason: 'KeyVersionNotFound', message: `The version '${parsed.version}' of key '${parsed.keyName}' was not found in key vault '${vault.name}'.` };
    key = version;
  }
  const props = key.properties as { kty?: string; keyOps?: string[]; attributes?: { enabled?: boolean; nbf?: number; exp?: number } };
  const attrs = props.attributes ?? {};
  if (props.kty !== 'RSA' && props.kty !== 'RSA-HSM') {
    return { reason: 'KeyTypeNotSupported', message: `The key '${parsed.keyName}' has type '${props.kty}'; only RSA and RSA-HSM keys can wrap and unwrap.` };
  }
  if (attrs.enabled === false) return { reason: 'KeyDisabled', message: `The key '${parsed.keyName}' is disabled.` };
  if (attrs.nbf !== undefined && attrs.nbf > nowSeconds) {
    return { reason: 'KeyNotYetValid', message: `The key '${parsed.keyName}' is not valid before ${new Date(attrs.nbf * 1000).toISOString()}.` };
  }
  if (attrs.exp !== undefined && attrs.exp <= nowSeconds) {
    return { reason: 'KeyExpired', message: `The key '${parsed.keyName}' expired at ${new Date(attrs.exp * 1000).toISOString()}.` };
  }
  const ops = (props.keyOps ?? []).map((o) => o.toLowerCase());
  if (!ops.includes('wrapkey') || !ops.includes('unwrapkey')) {
    return { reason: 'KeyOperationsNotPermitted', message: `The key '${parsed.keyName}' does not permit the wrapKey and unwrapKey operations.` };
  }
  const vaultProps = vault.properties as {
    tenantId?: string;
    networkAcls?: { defaultAction?: string; bypass?: string };
    publicNetworkAccess?: string;
  };
  const identityTenant = (identity.properties as { tenantId?: string }).tenantId;
  if ((vaultProps.tenantId ?? '').toLowerCase() !== (identityTenant ?? '').toLowerCase()) {
    return {
      reason: 'TenantMismatch',
      message: `The key vault '${vault.name}' belongs to tenant '${vaultProps.tenantId}' but the identity '${identity.name}' to tenant '${identityTenant}'.`,
    };
  }
  const denyByDefault = vaultProps.networkAcls?.defaultAction?.toLowerCase() === 'deny' || vaultProps.publicNetworkAccess?.toLowerCase() === 'disabled';
  if (denyByDefault && vaultProps.networkAcls?.bypass?.toLowerCase() !== 'azureservices') {
    return {
      reason: 'VaultFirewallBlocksTrustedServices',
      message: `The key vault '${vault.name}' firewall denies public access and does not allow trusted Microsoft services to bypass it (networkAcls.bypass is '${vaultProps.networkAcls?.bypass ?? 'unset'}').`,
    };
  }
  const principalId = (identity.properties as { principalId?: string }).principalId ?? '';
  const missing = missingKeyPermissions(state, vault, keyId, principalId);
  if (missing.length > 0) {
    const model = isHsm(vault) ? 'managed HSM local RBAC' : (vault.properties as { enableRbacAuthorization?: boolean }).enableRbacAuthorization ? 'Azure RBAC' : 'access policy';
    return {
      reason: 'KeyAccessDenied',
      message: `The identity '${identity.name}' (principal ${principalId}) lacks ${missing.join(', ')} on key '${parsed.keyName}' in key vault '${vault.name}' (${model} permission model).`,
    };
  }
  return { vault, key };
}

export function isCmkKeyProblem(r: ResolvedCmkKey | CmkKeyProblem): r is CmkKeyProblem {
  return 'reason' in r;
}

// ---------------------------------------------------------------------------------------------
// Seed

function policy(objectId: string, keys: string[], tenantId: string = ids.SIM_TENANT_ID): AccessPolicy {
  return { tenantId, objectId, permissions: { keys, secrets: [], certificates: [] } };
}

const CMK_POLICY_KEYS = ['get', 'wrapKey', 'unwrapKey'];

function seedKeyVault(state: SimState, { nowSeconds: now }: { nowSeconds: number }): void {
  const createdAt = new Date((now - 500 * DAY) * 1000).toISOString();
  const put = (r: SimResource) => state.put(r);
  const rbac = put(
    vaultResource({
      name: ids.SIM_RBAC_VAULT,
      resourceGroup: ids.SIM_RG,
      location: ids.SIM_LOCATION,
      enableRbacAuthorization: true,
      enablePurgeProtection: true,
      createdAt,
    }),
  );
  const policyVault = put(
    vaultResource({
      name: ids.SIM_POLICY_VAULT,
      resourceGroup: ids.SIM_RG,
      location: ids.SIM_LOCATION,
      enableRbacAuthorization: false,
      enablePurgeProtection: true,
      accessPolicies: [policy(ids.SIM_IDENTITY_PRINCIPAL_ID, CMK_POLICY_KEYS), policy(ids.SIM_IDENTITY_WEST_PRINCIPAL_ID, CMK_POLICY_KEYS)],
      createdAt,
    }),
  );
  const firewall = put(
    vaultResource({
      name: ids.SIM_FIREWALL_VAULT,
      resourceGroup: ids.SIM_RG,
      location: ids.SIM_LOCATION,
      enableRbacAuthorization: true,
      enablePurgeProtection: true,
      networkAcls: { defaultAction: 'Deny', bypass: 'None', ipRules: [{ value: '203.0.113.0/24' }], virtualNetworkRules: [] },
      createdAt,
    }),
  );
  const west = put(
    vaultResource({
      name: ids.SIM_WEST_VAULT,
      resourceGroup: ids.SIM_RG_WEST,
      location: ids.SIM_LOCATION_WEST,
      enableRbacAuthorization: true,
      enablePurgeProtection: false,
      networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices', ipRules: [], virtualNetworkRules: [] },
      createdAt,
    }),
  );
  const otherTenant = put(
    vaultResource({
      name: ids.SIM_OTHER_TENANT_VAULT,
      resourceGroup: ids.SIM_RG,
      location: ids.SIM_LOCATION,
      tenantId: ids.SIM_OTHER_TENANT_ID,
      enableRbacAuthorization: false,
      enablePurgeProtection: true,
      accessPolicies: [
        policy(ids.SIM_IDENTITY_PRINCIPAL_ID, CMK_POLICY_KEYS, ids.SIM_OTHER_TENANT_ID),
        // The cross-tenant application's service principal in this tenant (Storage's federatedIdentityClientId).
        policy(ids.SIM_CROSS_TENANT_APP_PRINCIPAL_ID, CMK_POLICY_KEYS, ids.SIM_OTHER_TENANT_ID),
      ],
      createdAt,
    }),
  );
  const noPurge = put(
    vaultResource({
      name: ids.SIM_NOPURGE_VAULT,
      resourceGroup: ids.SIM_RG,
      location: ids.SIM_LOCATION,
      enableRbacAuthorization: false,
      enablePurgeProtection: false,
      accessPolicies: [policy(ids.SIM_IDENTITY_PRINCIPAL_ID, CMK_POLICY_KEYS)],
      createdAt,
    }),
  );
  const noSoftDelete = put(
    vaultResource({
      name: ids.SIM_NOSOFTDELETE_VAULT,
      resourceGroup: ids.SIM_RG,
      location: ids.SIM_LOCATION,
      enableRbacAuthorization: false,
      enablePurgeProtection: false,
      enableSoftDelete: false,
      accessPolicies: [policy(ids.SIM_IDENTITY_PRINCIPAL_ID, CMK_POLICY_KEYS)],
      createdAt,
    }),
  );

  const rsa = (vault: SimResource, name: string, version: string, v: Omit<KeyVersionSpec, 'version'>, keySize = 2048): SimResource[] =>
    keyResources({ vault, name, kty: 'RSA', keySize, keyOps: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'], versions: [{ version, ...v }] });

  const keys: SimResource[] = [
    ...keyResources({
      vault: rbac,
      name: ids.SIM_KEY,
      kty: 'RSA',
      keySize: 3072,
      keyOps: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
      versions: [
        { version: ids.SIM_KEY_VERSION_OLD, created: now - 400 * DAY, exp: now + 330 * DAY },
        { version: ids.SIM_KEY_VERSION_CURRENT, created: now - 30 * DAY, exp: now + 730 * DAY },
      ],
      rotationPolicy: {
        attributes: { created: now - 400 * DAY, updated: now - 400 * DAY, expiryTime: 'P2Y' },
        lifetimeActions: [
          { trigger: { timeAfterCreate: 'P18M' }, action: { type: 'rotate' } },
          { trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'notify' } },
        ],
      },
    }),
    ...keyResources({
      vault: rbac,
      name: ids.SIM_EC_KEY,
      kty: 'EC',
      curveName: 'P-256',
      keyOps: ['sign', 'verify'],
      versions: [{ version: ids.SIM_EC_KEY_VERSION, created: now - 100 * DAY }],
    }),
    ...rsa(rbac, ids.SIM_DISABLED_KEY, ids.SIM_DISABLED_KEY_VERSION, { created: now - 200 * DAY, enabled: false, exp: now + 365 * DAY }),
    ...rsa(rbac, ids.SIM_EXPIRED_KEY, ids.SIM_EXPIRED_KEY_VERSION, { created: now - 800 * DAY, exp: now - 35 * DAY }),
    ...rsa(rbac, ids.SIM_EXPIRING_KEY, ids.SIM_EXPIRING_KEY_VERSION, { created: now - 355 * DAY, exp: now + 10 * DAY }),
    ...rsa(rbac, ids.SIM_NOT_YET_VALID_KEY, ids.SIM_NOT_YET_VALID_KEY_VERSION, { created: now - DAY, nbf: now + 30 * DAY, exp: now + 395 * DAY }),
    ...keyResources({
      vault: rbac,
      name: ids.SIM_NO_WRAP_KEY,
      kty: 'RSA',
      keySize: 2048,
      keyOps: ['sign', 'verify'],
      versions: [{ version: ids.SIM_NO_WRAP_KEY_VERSION, created: now - 50 * DAY, exp: now + 680 * DAY }],
    }),
    ...rsa(policyVault, ids.SIM_POLICY_KEY, ids.SIM_POLICY_KEY_VERSION, { created: now - 60 * DAY, exp: now + 670 * DAY }),
    ...rsa(firewall, ids.SIM_FIREWALL_KEY, ids.SIM_FIREWALL_KEY_VERSION, { created: now - 60 * DAY, exp: now + 670 * DAY }),
    ...rsa(west, ids.SIM_WEST_KEY, ids.SIM_WEST_KEY_VERSION, { created: now - 60 * DAY, exp: now + 670 * DAY }),
    ...rsa(otherTenant, ids.SIM_OTHER_TENANT_KEY, ids.SIM_OTHER_TENANT_KEY_VERSION, { created: now - 60 * DAY, exp: now + 670 * DAY }),
    // A healthy key rotated by hand (no rotation policy): the old version is still enabled but
    // expired (what a server pinned to it keeps using), the current one is valid for ~2 years.
    ...keyResources({
      vault: rbac,
      name: ids.SIM_ROTATED_KEY,
      kty: 'RSA',
      keySize: 2048,
      keyOps: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
      versions: [
        { version: ids.SIM_ROTATED_KEY_VERSION_OLD, created: now - 760 * DAY, exp: now - 30 * DAY },
        { version: ids.SIM_ROTATED_KEY_VERSION_CURRENT, created: now - 30 * DAY, exp: now + 700 * DAY },
      ],
    }),
    ...rsa(noPurge, ids.SIM_NOPURGE_KEY, ids.SIM_NOPURGE_KEY_VERSION, { created: now - 60 * DAY, exp: now + 670 * DAY }),
    ...rsa(noSoftDelete, ids.SIM_NOSOFTDELETE_KEY, ids.SIM_NOSOFTDELETE_KEY_VERSION, { created: now - 60 * DAY, exp: now + 670 * DAY }),
  ];
  keys.forEach(put);

  // An access-policy vault whose only policy names a group (SIM_GROUP_CRYPTO), not an identity.
  const groupPolicy = put(
    vaultResource({
      name: ids.SIM_GROUP_POLICY_VAULT,
      resourceGroup: ids.SIM_RG,
      location: ids.SIM_LOCATION,
      enableRbacAuthorization: false,
      enablePurgeProtection: true,
      accessPolicies: [policy(ids.SIM_GROUP_CRYPTO, CMK_POLICY_KEYS)],
      createdAt,
    }),
  );
  keyResources({
    vault: groupPolicy,
    name: ids.SIM_GROUP_POLICY_KEY,
    kty: 'RSA',
    keySize: 2048,
    keyOps: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
    versions: [{ version: ids.SIM_GROUP_POLICY_KEY_VERSION, created: now - 60 * DAY, exp: now + 670 * DAY }],
  }).forEach(put);

  // A managed HSM with one RSA-HSM key; id-fluid-cmk holds the local Crypto Service Encryption User role on /keys.
  const hsm = put(
    managedHsmResource({
      name: ids.SIM_MANAGED_HSM,
      resourceGroup: ids.SIM_RG,
      location: ids.SIM_LOCATION,
      enablePurgeProtection: true,
      initialAdminObjectIds: ['77777777-7777-4777-8777-777777777701'],
      createdAt,
    }),
  );
  keyResources({
    vault: hsm,
    name: ids.SIM_HSM_KEY,
    kty: 'RSA-HSM',
    keySize: 3072,
    keyOps: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
    versions: [{ version: ids.SIM_HSM_KEY_VERSION, created: now - 30 * DAY, exp: now + 700 * DAY }],
  }).forEach(put);
  put(managedHsmLocalRoleAssignment(hsm, 'cseu-id-fluid-cmk', ids.SIM_IDENTITY_PRINCIPAL_ID, MHSM_CRYPTO_SERVICE_ENCRYPTION_USER, '/keys'));
}
