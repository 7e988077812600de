// Microsoft.FluidRelay/fluidRelayServers: synchronous PUT / PATCH / GET / DELETE / list with
// the validation the service applies to identities and customer-managed keys.
import { bodyObject, isObject, normalizeLocation, requiredLocation, requireResourceGroup, stableGuid, collectionRoutes } from '../arm';
import { FLUID_RELAY_VERSIONS } from '../api-versions';
import { ArmError, invalidRequestContent, resourceNotFound } from '../errors';
import type { SimContext, SimProvider, SimRequest } from '../provider';
import { requireAction } from '../rbac';
import * as ids from '../seed-ids';
import type { SimResource, SimState } from '../state';
import { checkCmkKey, findVaultByName, isCmkKeyProblem, parseKeyUrl, type CmkKeyReason } from './keyvault';
import { findIdentity, resolveUserAssignedIdentities } from './managed-identity';

export const FLUID_RELAY_TYPE = 'Microsoft.FluidRelay/fluidRelayServers';
const API_VERSIONS = FLUID_RELAY_VERSIONS;
const IDENTITY_TYPES = ['SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned', 'None'] as const;
const STORAGE_SKUS = ['standard', 'basic'];
const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

/** The one error code for every refused customer-managed-key configuration (the reason is in `details[0].code`). */
export const CMK_ERROR_CODE = 'CustomerManagedKeyConfigurationFailed';
const CMK_MESSAGE_PREFIX = 'Unexpected error happened when configuring CMK.';
const CMK_PATH = 'properties.encryption.customerManagedKeyEncryption';

export type CmkReason = CmkKeyReason | 'IdentityTypeNotSupported' | 'IdentityNotAssigned' | 'RegionMismatch' | 'CmkOnlyAtCreation' | 'CmkCannotBeDisabled' | 'PreviousKeyUnavailable';

function cmkError(reason: CmkReason, message: string, target: string): ArmError {
  return new ArmError(400, CMK_ERROR_CODE, `${CMK_MESSAGE_PREFIX} ${message}`, { target, details: [{ code: reason, message, target }] });
}

type Identity = { type: string; principalId: string; tenantId: string; userAssignedIdentities?: Record<string, { principalId: string; clientId: string }> };
type Cmk = { keyEncryptionKeyIdentity?: { identityType?: string; userAssignedIdentityResourceId?: string }; keyEncryptionKeyUrl?: string };

function endpoints(name: string, location: string) {
  return {
    ordererEndpoints: [`https://alfred.${location}.fluidrelay.azure.com`],
    storageEndpoints: [`https://historian.${location}.fluidrelay.azure.com`],
    serviceEndpoints: [`https://${name}.${location}.fluidrelay.azure.com`],
  };
}

export interface FluidRelaySpec {
  name: string;
  resourceGroup: string;
  subscriptionId?: string;
  location: string;
  storagesku?: string;
  tags?: Record<string, string>;
}

export function fluidRelayResource(spec: FluidRelaySpec): SimResource {
  const id = `/subscriptions/${spec.subscriptionId ?? ids.SIM_SUBSCRIPTION_ID}/resourceGroups/${spec.resourceGroup}/providers/${FLUID_RELAY_TYPE}/${spec.name}`;
  return {
    id,
    name: spec.name,
    type: FLUID_RELAY_TYPE,
    location: spec.location,
    ...(spec.tags ? { tags: spec.tags } : {}),
    properties: {
      frsTenantId: stableGuid(`frs:${id.toLowerCase()}`),
      fluidRelayEndpoints: endpoints(spec.name, spec.location),
      provisioningState: 'Succeeded',
      ...(spec.storagesku ? { storagesku: spec.storagesku } : {}),
    },
  };
}

/** 2025-06-20-preview adds network/key-access properties to the same resource. */
function render(r: SimResource, apiVersion: string): SimResource {
  if (apiVersion !== '2025-06-20-preview') return r;
  return {
    ...r,
    properties: { sharedKeyAccess: 'Enabled', privateKeyAccess: 'Disabled', publicNetworkAccess: 'Enabled', privateEndpointConnections: [], ...r.properties },
  };
}

function cmkOf(r: SimResource | undefined): Cmk | undefined {
  const enc = (r?.properties as { encryption?: { customerManagedKeyEncryption?: Cmk | null } } | undefined)?.encryption;
  return enc?.customerManagedKeyEncryption ?? undefined;
}

function sameCmk(a: Cmk, b: Cmk): boolean {
  const norm = (c: Cmk) => JSON.stringify([c.keyEncryptionKeyIdentity?.identityType?.toLowerCase(), c.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId?.toLowerCase(), c.keyEncryptionKeyUrl?.toLowerCase()]);
  return norm(a) === norm(b);
}

// ---------------------------------------------------------------------------------------------
// Validation

function canonicalIdentityType(raw: unknown): string {
  const found = IDENTITY_TYPES.find((t) => typeof raw === 'string' && t.toLowerCase() === raw.toLowerCase());
  if (!found) {
    throw invalidRequestContent(`Requested value '${String(raw)}' was not found. Allowed identity types: ${IDENTITY_TYPES.map((t) => `'${t}'`).join(', ')}. Path 'identity.type'`, 'identity.type');
  }
  return found;
}

/**
 * Builds the stored identity block from a requested one: type from the closed enum,
 * every user-assigned identity must exist (keys canonicalised, values filled with its
 * principal/client ids), and the caller must be allowed to assign the new ones.
 */
function resolveIdentity(state: SimState, ctx: SimContext, serverId: string, type: string, uaiIds: string[], previous?: Identity): Identity {
  const wantsUser = type.includes('UserAssigned');
  if (wantsUser && uaiIds.length === 0) {
    throw new ArmError(400, 'InvalidUserAssignedIdentity', `The identity type '${type}' requires at least one entry in 'identity.userAssignedIdentities'.`, {
      target: 'identity.userAssignedIdentities',
    });
  }
  if (!wantsUser && uaiIds.length > 0) {
    throw new ArmError(400, 'InvalidUserAssignedIdentity', `'identity.userAssignedIdentities' can only be given when the identity type includes 'UserAssigned' (it is '${type}').`, {
      target: 'identity.userAssignedIdentities',
    });
  }
  const userAssignedIdentities = resolveUserAssignedIdentities(state, ctx, serverId, FLUID_RELAY_TYPE, uaiIds, Object.keys(previous?.userAssignedIdentities ?? {}));
  const system = type.startsWith('SystemAssigned');
  const identity: Identity = {
    type,
    // As in the service's examples: all-zero ids when there is no system-assigned identity.
    principalId: system ? stableGuid(`system:${serverId.toLowerCase()}`) : EMPTY_GUID,
    tenantId: system ? ids.SIM_TENANT_ID : EMPTY_GUID,
  };
  if (wantsUser) identity.userAssignedIdentities = userAssignedIdentities;
  return identity;
}

function identityFromPut(state: SimState, ctx: SimContext, serverId: string, raw: unknown, previous?: Identity): Identity | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw invalidRequestContent("Expected an object. Path 'identity'", 'identity');
  const type = canonicalIdentityType(raw['type']);
  const map = raw['userAssignedIdentities'];
  if (map !== undefined && map !== null && !isObject(map)) throw invalidRequestContent("Expected an object. Path 'identity.userAssignedIdentities'", 'identity.userAssignedIdentities');
  return resolveIdentity(state, ctx, serverId, type, Object.keys(map ?? {}), previous);
}

/** PATCH semantics for identity: type replaces; userAssignedIdentities merge, a null value removes one. */
function identityFromPatch(state: SimState, ctx: SimContext, serverId: string, raw: unknown, previous?: Identity): Identity | undefined {
  if (raw === undefined) return previous;
  if (raw === null) return undefined;
  if (!isObject(raw)) throw invalidRequestContent("Expected an object. Path 'identity'", 'identity');
  const type = raw['type'] === undefined ? (previous?.type ?? 'None') : canonicalIdentityType(raw['type']);
  const merged = new Map(Object.keys(previous?.userAssignedIdentities ?? {}).map((k) => [k.toLowerCase(), k]));
  const patchMap = raw['userAssignedIdentities'];
  if (patchMap !== undefined && patchMap !== null && !isObject(patchMap)) {
    throw invalidRequestContent("Expected an object. Path 'identity.userAssignedIdentities'", 'identity.userAssignedIdentities');
  }
  for (const [k, v] of Object.entries(patchMap ?? {})) {
    if (v === null) merged.delete(k.toLowerCase());
    else merged.set(k.toLowerCase(), k);
  }
  return resolveIdentity(state, ctx, serverId, type, type.includes('UserAssigned') ? [...merged.values()] : [], previous);
}

function parseCmk(raw: unknown): Cmk {
  if (!isObject(raw)) throw invalidRequestContent(`Expected an object. Path '${CMK_PATH}'`, CMK_PATH);
  return raw as Cmk;
}

/** The CMK identity's id as the server lists it, or the IdentityNotAssigned error. */
function assignedCmkIdentity(cmk: Cmk, identity: Identity | undefined): string {
  const target = `${CMK_PATH}.keyEncryptionKeyIdentity.userAssignedIdentityResourceId`;
  const uaiId = cmk.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId;
  if (!uaiId) throw cmkError('IdentityNotAssigned', 'keyEncryptionKeyIdentity.userAssignedIdentityResourceId is required for a user-assigned key identity.', target);
  const assigned = Object.keys(identity?.userAssignedIdentities ?? {}).find((k) => k.toLowerCase() === uaiId.toLowerCase());
  if (!assigned) throw cmkError('IdentityNotAssigned', `The key identity '${uaiId}' is not among the server's identity.userAssignedIdentities.`, target);
  return assigned;
}

/** Every check the service makes before it accepts a key-encryption key; throws the CMK error. */
function validateCmk(state: SimState, cmk: Cmk, identity: Identity | undefined, location: string, nowSeconds: number): void {
  const idType = cmk.keyEncryptionKeyIdentity?.identityType;
  if (idType !== 'UserAssigned') {
    throw cmkError(
      'IdentityTypeNotSupported',
      `Fluid Relay supports only a user-assigned identity for customer-managed keys; keyEncryptionKeyIdentity.identityType is '${idType ?? 'missing'}'.`,
      `${CMK_PATH}.keyEncryptionKeyIdentity.identityType`,
    );
  }
  // resolveIdentity already proved every assigned identity exists.
  const uai = findIdentity(state, assignedCmkIdentity(cmk, identity))!;
  const keyUrl = cmk.keyEncryptionKeyUrl;
  if (typeof keyUrl !== 'string') throw cmkError('InvalidKeyUrl', 'keyEncryptionKeyUrl is required.', `${CMK_PATH}.keyEncryptionKeyUrl`);
  const resolved = checkCmkKey(state, keyUrl, uai, nowSeconds);
  if (isCmkKeyProblem(resolved)) throw cmkError(resolved.reason, resolved.message, `${CMK_PATH}.keyEncryptionKeyUrl`);
  if (normalizeLocation(resolved.vault.location ?? '') !== location) {
    throw cmkError('RegionMismatch', `The key vault '${resolved.vault.name}' is in '${resolved.vault.location}' but the Fluid Relay server is in '${location}'; they must be in the same region.`, 'location');
  }
  if (normalizeLocation(uai.location ?? '') !== location) {
    throw cmkError('RegionMismatch', `The identity '${uai.name}' is in '${uai.location}' but the Fluid Relay server is in '${location}'; they must be in the same region.`, 'location');
  }
}

/** On a key change the service re-wraps with the new key, so the current key must still be usable. */
function requirePreviousKeyAlive(state: SimState, previous: Cmk, nowSeconds: number): void {
  const url = previous.keyEncryptionKeyUrl ?? '';
  const parsed = parseKeyUrl(url);
  const vault = parsed && findVaultByName(state, parsed.vaultName, parsed.hsm);
  const keyId = vault && parsed ? `${vault.id}/keys/${parsed.keyName}${parsed.version ? `/versions/${parsed.version}` : ''}` : undefined;
  const key = keyId ? state.get(keyId) : undefined;
  const attrs = (key?.properties as { attributes?: { enabled?: boolean; exp?: number } } | undefined)?.attributes;
  if (!key || attrs?.enabled === false || (attrs?.exp !== undefined && attrs.exp <= nowSeconds)) {
    throw cmkError('PreviousKeyUnavailable', `The currently configured key '${url}' must stay enabled and unexpired until the server has moved to the new key.`, `${CMK_PATH}.keyEncryptionKeyUrl`);
  }
}

/** Create-only / no-disable rules, then validation of a new or changed key. */
function applyCmkChange(state: SimState, existing: SimResource | undefined, next: Cmk | undefined, identity: Identity | undefined, location: string, nowSeconds: number): void {
  const current = cmkOf(existing);
  if (existing && !current && next) {
    throw cmkError('CmkOnlyAtCreation', 'Customer-managed keys can only be configured when the Fluid Relay server is created; create a new server.', 'properties.encryption');
  }
  if (current && !next) {
    throw cmkError('CmkCannotBeDisabled', 'Customer-managed key encryption cannot be removed from a Fluid Relay server once it is configured.', 'properties.encryption');
  }
  if (!next) return;
  // The Fluid Relay CMK doc: the server's identity type must be UserAssigned (a system-assigned
  // identity next to it is refused too). The exact code Azure answers is not public.
  if (identity?.type !== 'UserAssigned') {
    throw cmkError('IdentityTypeNotSupported', `A Fluid Relay server with customer-managed keys must have identity type 'UserAssigned'; it is '${identity?.type ?? 'None'}'.`, 'identity.type');
  }
  if (current && sameCmk(current, next)) {
    assignedCmkIdentity(next, identity);
    return;
  }
  validateCmk(state, next, identity, location, nowSeconds);
  if (current) requirePreviousKeyAlive(state, current, nowSeconds);
}

function validTags(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw) || Object.values(raw).some((v) => typeof v !== 'string')) throw invalidRequestContent("Tags must be an object of strings. Path 'tags'", 'tags');
  return raw as Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Handlers

function serverId(req: SimRequest, rg: SimResource): string {
  return `${rg.id}/providers/${FLUID_RELAY_TYPE}/${req.params['name']}`;
}

function put(req: SimRequest, ctx: SimContext) {
  const { state } = ctx;
  const rg = requireResourceGroup(state, req.params['sub']!, req.params['rg']!);
  const existing = state.get(serverId(req, rg));
  const id = existing?.id ?? serverId(req, rg);
  requireAction(state, ctx.caller, id, `${FLUID_RELAY_TYPE}/write`);
  const body = bodyObject(req);
  const location = requiredLocation(body);
  if (!(ids.SIM_LOCATIONS as readonly string[]).includes(location)) {
    throw new ArmError(
      400,
      'LocationNotAvailableForResourceType',
      `The provided location '${body['location']}' is not available for resource type '${FLUID_RELAY_TYPE}'. List of available regions for the resource type is '${ids.SIM_LOCATIONS.join(',')}'.`,
      { target: 'location' },
    );
  }
  if (existing && existing.location !== location) {
    throw new ArmError(
      400,
      'InvalidResourceLocation',
      `The resource '${existing.name}' already exists in location '${existing.location}' in resource group '${rg.name}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
      { target: 'location' },
    );
  }
  const props = body['properties'] ?? {};
  if (!isObject(props)) throw invalidRequestContent("Expected an object. Path 'properties'", 'properties');
  const sku = props['storagesku'];
  if (sku !== undefined && (typeof sku !== 'string' || !STORAGE_SKUS.includes(sku))) {
    throw invalidRequestContent(`Requested value '${String(sku)}' was not found. Allowed values: 'standard', 'basic'. Path 'properties.storagesku'`, 'properties.storagesku');
  }
  const tags = validTags(body['tags']);
  const identity = identityFromPut(state, ctx, id, body['identity'], existing?.identity as Identity | undefined);
  const encryption = props['encryption'];
  if (encryption !== undefined && encryption !== null && !isObject(encryption)) {
    throw invalidRequestContent("Expected an object. Path 'properties.encryption'", 'properties.encryption');
  }
  const rawCmk = isObject(encryption) ? encryption['customerManagedKeyEncryption'] : undefined;
  const cmk = rawCmk === undefined || rawCmk === null ? undefined : parseCmk(rawCmk);
  applyCmkChange(state, existing, cmk, identity, location, Math.floor(ctx.now() / 1000));

  const base = fluidRelayResource({
    name: existing?.name ?? req.params['name']!,
    resourceGroup: rg.name,
    subscriptionId: rg.id.split('/')[2],
    location,
    storagesku: (sku as string | undefined) ?? (existing?.properties as { storagesku?: string } | undefined)?.storagesku,
    tags,
  });
  const server: SimResource = {
    ...base,
    ...(identity ? { identity } : {}),
    properties: { ...base.properties, ...(isObject(encryption) ? { encryption } : {}) },
  };
  state.put(server);
  return { status: 200, body: render(server, req.apiVersion) };
}

function patch(req: SimRequest, ctx: SimContext) {
  const { state } = ctx;
  const rg = requireResourceGroup(state, req.params['sub']!, req.params['rg']!);
  const existing = state.get(serverId(req, rg));
  if (!existing) throw resourceNotFound(`${FLUID_RELAY_TYPE}/${req.params['name']}`, rg.name);
  requireAction(state, ctx.caller, existing.id, `${FLUID_RELAY_TYPE}/write`);
  const body = bodyObject(req);
  const location = existing.location ?? '';
  if (body['location'] !== undefined && normalizeLocation(String(body['location'])) !== location) {
    throw new ArmError(400, 'LocationMismatch', `The location '${String(body['location'])}' in the request does not match the server's location '${location}'.`, { target: 'location' });
  }
  const props = body['properties'] ?? {};
  if (!isObject(props)) throw invalidRequestContent("Expected an object. Path 'properties'", 'properties');
  const tags = body['tags'] === undefined ? existing.tags : validTags(body['tags']);
  const identity = identityFromPatch(state, ctx, existing.id, body['identity'], existing.identity as Identity | undefined);

  const current = cmkOf(existing);
  let encryption = (existing.properties as { encryption?: unknown }).encryption;
  let next = current;
  if ('encryption' in props) {
    const e = props['encryption'];
    if (e !== null && !isObject(e)) throw invalidRequestContent("Expected an object. Path 'properties.encryption'", 'properties.encryption');
    const raw = isObject(e) ? e['customerManagedKeyEncryption'] : undefined;
    const requested = raw === undefined || raw === null ? undefined : parseCmk(raw);
    // A partial key block updates the configured one (e.g. only keyEncryptionKeyUrl).
    next = requested && { ...current, ...requested, keyEncryptionKeyIdentity: { ...current?.keyEncryptionKeyIdentity, ...requested.keyEncryptionKeyIdentity } };
    encryption = next ? { ...(isObject(e) ? e : {}), customerManagedKeyEncryption: next } : e;
  }
  applyCmkChange(state, existing, next, identity, location, Math.floor(ctx.now() / 1000));

  const { identity: _oldIdentity, tags: _oldTags, ...rest } = existing;
  const updated: SimResource = {
    ...rest,
    ...(tags ? { tags } : {}),
    ...(identity ? { identity } : {}),
    properties: { ...existing.properties, ...(encryption !== undefined && encryption !== null ? { encryption } : {}) },
  };
  state.put(updated);
  return { status: 200, body: render(updated, req.apiVersion) };
}

/** A seeded server in rg-cmk-demo created with CMK: identity id-fluid-cmk, key pinned to `keyUrl`. */
function cmkServer(name: string, keyUrl: string): SimResource {
  const base = fluidRelayResource({ name, resourceGroup: ids.SIM_RG, location: ids.SIM_LOCATION, storagesku: 'standard' });
  const identityId = ids.simIdentityId(ids.SIM_IDENTITY);
  return {
    ...base,
    identity: {
      type: 'UserAssigned',
      principalId: EMPTY_GUID,
      tenantId: EMPTY_GUID,
      userAssignedIdentities: { [identityId]: { principalId: ids.SIM_IDENTITY_PRINCIPAL_ID, clientId: ids.SIM_IDENTITY_CLIENT_ID } },
    },
    properties: {
      ...base.properties,
      encryption: {
        customerManagedKeyEncryption: {
          keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: identityId },
          keyEncryptionKeyUrl: keyUrl,
        },
      },
    },
  };
}

const SERVER = `/subscriptions/{sub}/resourceGroups/{rg}/providers/${FLUID_RELAY_TYPE}/{name}`;

export const fluidRelayProvider: SimProvider = {
  namespace: 'Microsoft.FluidRelay',
  apiVersions: API_VERSIONS,
  seed(state) {
    state.put(fluidRelayResource({ name: ids.SIM_FLUID_EXISTING, resourceGroup: ids.SIM_RG, location: ids.SIM_LOCATION, storagesku: 'standard' }));
    state.put(cmkServer(ids.SIM_FLUID_CMK, ids.simKeyUrl(ids.SIM_RBAC_VAULT, ids.SIM_KEY, ids.SIM_KEY_VERSION_CURRENT)));
    state.put(cmkServer(ids.SIM_FLUID_STALE, ids.simKeyUrl(ids.SIM_RBAC_VAULT, ids.SIM_ROTATED_KEY, ids.SIM_ROTATED_KEY_VERSION_OLD)));
  },
  routes: [
    {
      method: 'GET',
      pattern: SERVER,
      resourceType: 'fluidRelayServers',
      handler: (req, ctx) => {
        const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
        const found = ctx.state.get(serverId(req, rg));
        if (!found) throw resourceNotFound(`${FLUID_RELAY_TYPE}/${req.params['name']}`, rg.name);
        return { status: 200, body: render(found, req.apiVersion) };
      },
    },
    { method: 'PUT', pattern: SERVER, resourceType: 'fluidRelayServers', handler: put },
    { method: 'PATCH', pattern: SERVER, resourceType: 'fluidRelayServers', handler: patch },
    {
      method: 'DELETE',
      pattern: SERVER,
      resourceType: 'fluidRelayServers',
      handler: (req, ctx) => {
        const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
        const id = serverId(req, rg);
        requireAction(ctx.state, ctx.caller, id, `${FLUID_RELAY_TYPE}/delete`);
        return { status: ctx.state.delete(id) ? 200 : 204 };
      },
    },
    ...collectionRoutes(FLUID_RELAY_TYPE, 'fluidRelayServers', { render: (r, req) => render(r, req.apiVersion) }),
  ],
};
