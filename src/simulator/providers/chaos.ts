// Microsoft.Chaos/experiments: long-running PUT / PATCH / DELETE (Azure-AsyncOperation and
// Location polling), GET and lists, with the validation Chaos Studio applies to identities and
// to customer-managed-key storage (customerDataStorage, preview api-versions only).
import { bodyObject, getMember, hasMember, isObject, normalizeLocation, parseResourceId, requiredLocation, requireResourceGroup, requireSubscription, stableGuid, collectionRoutes } from '../arm';
import { CHAOS_CDS_GA_VERSIONS, CHAOS_EXPERIMENT_VERSIONS, CHAOS_GA_VERSIONS, CHAOS_PREVIEW_VERSIONS } from '../api-versions';
import { ArmError, invalidRequestContent, resourceNotFound } from '../errors';
import { completeOperation, findOperation, isTerminal, operationHeaders, operationStatusBody, finishDueOperations, pendingOperations, pollOperation, startOperation, type OperationResource } from '../lro';
import type { SimContext, SimProvider, SimRequest, SimResponse } from '../provider';
import { principalCan, requireAction } from '../rbac';
import * as ids from '../seed-ids';
import type { SimResource, SimState } from '../state';
import { checkCmkKey, isCmkKeyProblem } from './keyvault';
import { findIdentity, resolveUserAssignedIdentities, type UserAssignedIdentityMap } from './managed-identity';
import { containerResource, CONTAINER_NAME_PATTERN, findStorageAccount, storageKeyUrl, type KeyVaultProperties } from './storage';

export const CHAOS_TYPE = 'Microsoft.Chaos/experiments';
const NS = 'Microsoft.Chaos';
export { CHAOS_CDS_GA_VERSIONS, CHAOS_GA_VERSIONS, CHAOS_PREVIEW_VERSIONS };
export const CHAOS_API_VERSIONS = CHAOS_EXPERIMENT_VERSIONS;

const BLOB_WRITE = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write';
const DURATION = /^P(\d+Y)?(\d+M)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const TARGET_ID =
  /^\/subscriptions\/[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\/resourcegroups\/[a-zA-Z0-9_\-.()]*[a-zA-Z0-9_\-()]\/providers\/[a-zA-Z0-9]+\.[a-zA-Z0-9]+\/[a-zA-Z0-9_\-.]+\/[a-zA-Z0-9_\-.]+\/providers\/microsoft\.chaos\/targets\/[a-zA-Z0-9_\-.]+$/i;
const EXPERIMENT_NAME = /^[^<>%&:?#/\\]+$/;

/** Codes of refused customerDataStorage / identity configurations (400; docs/simulator.md explains each). */
export const CHAOS_ERROR_CODES = {
  UserAssignedIdentityRequired: 'UserAssignedIdentityRequired',
  InvalidStorageAccountResourceId: 'InvalidStorageAccountResourceId',
  InvalidBlobContainerName: 'InvalidBlobContainerName',
  StorageAccountNotFound: 'StorageAccountNotFound',
  StorageAccountPublicAccessDisabled: 'StorageAccountPublicAccessDisabled',
  StorageAccountCmkNotEnabled: 'StorageAccountCmkNotEnabled',
  StorageAccountKeyNotUsable: 'StorageAccountKeyNotUsable',
  IdentityKeyAccessDenied: 'IdentityKeyAccessDenied',
  IdentityBlobWriteDenied: 'IdentityBlobWriteDenied',
  CustomerDataStorageOnlyAtCreation: 'CustomerDataStorageOnlyAtCreation',
} as const;

type ChaosCode = keyof typeof CHAOS_ERROR_CODES;
const CDS = 'properties.customerDataStorage';

function chaosError(code: ChaosCode, message: string, target: string, reason?: string): ArmError {
  return new ArmError(400, code, message, { target, ...(reason ? { details: [{ code: reason, message, target }] } : {}) });
}

function isPreview(apiVersion: string): boolean {
  return (CHAOS_PREVIEW_VERSIONS as readonly string[]).includes(apiVersion);
}

/** The versions whose ExperimentProperties carry customerDataStorage: the CMK previews and 2026-11-01. */
function carriesCds(apiVersion: string): boolean {
  return isPreview(apiVersion) || (CHAOS_CDS_GA_VERSIONS as readonly string[]).includes(apiVersion);
}

/** 2025-01-01 and 2026-11-01: common-types v5 identity, selectors may be empty, PATCH answers 202 without a body. */
function isV2025Model(apiVersion: string): boolean {
  return apiVersion === '2025-01-01' || (CHAOS_CDS_GA_VERSIONS as readonly string[]).includes(apiVersion);
}

type Identity = { type: string; principalId?: string; tenantId?: string; userAssignedIdentities?: UserAssignedIdentityMap };
export interface CustomerDataStorage {
  storageAccountResourceId: string;
  blobContainerName: string;
}

function identityTypes(apiVersion: string): string[] {
  // 2025-01-01 and 2026-11-01 use common-types v5 ManagedServiceIdentity; the older models allow one identity type.
  return isV2025Model(apiVersion) ? ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned'] : ['None', 'SystemAssigned', 'UserAssigned'];
}

function cdsOf(r: SimResource | undefined): CustomerDataStorage | undefined {
  return (r?.properties as { customerDataStorage?: CustomerDataStorage } | undefined)?.customerDataStorage ?? undefined;
}

/** GET shape for an api-version: the GA versions before 2026-11-01 do not know customerDataStorage. */
function render(r: SimResource, apiVersion: string): SimResource {
  if (carriesCds(apiVersion) || !hasMember(r.properties ?? {}, 'customerDataStorage')) return r;
  const { customerDataStorage: _cds, ...props } = r.properties as Record<string, unknown>;
  return { ...r, properties: props };
}

// ---------------------------------------------------------------------------------------------
// Request validation

function schemaError(path: string, detail: string): ArmError {
  return invalidRequestContent(`${detail} Path '${path}'.`, path);
}

function requireArray(v: unknown, path: string, minItems: number): unknown[] {
  if (v === undefined || v === null) throw schemaError(path, `Required property '${path.split('.').pop()}' not found in JSON.`);
  if (!Array.isArray(v)) throw schemaError(path, 'Expected an array.');
  if (v.length < minItems) throw schemaError(path, `Array has ${v.length} items, minimum is ${minItems}.`);
  return v;
}

function requireString(obj: Record<string, unknown>, name: string, path: string): string {
  const v = getMember(obj, name);
  if (v === undefined || v === null) throw schemaError(`${path}.${name}`, `Required property '${name}' not found in JSON.`);
  if (typeof v !== 'string' || v.length === 0) throw schemaError(`${path}.${name}`, 'Expected a non-empty string.');
  return v;
}

function requireObject(v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) throw schemaError(path, 'Expected an object.');
  return v;
}

function validateParameters(action: Record<string, unknown>, path: string): void {
  const params = requireArray(getMember(action, 'parameters'), `${path}.parameters`, 0);
  params.forEach((p, i) => {
    const o = requireObject(p, `${path}.parameters[${i}]`);
    requireString(o, 'key', `${path}.parameters[${i}]`);
    requireString(o, 'value', `${path}.parameters[${i}]`);
  });
}

/** steps[] {name, branches[] {name, actions[] (delay | discrete | continuous)}}; action selectorIds must name a selector. */
function validateSteps(raw: unknown, selectorIds: Set<string>): void {
  const steps = requireArray(raw, 'properties.steps', 1);
  steps.forEach((s, i) => {
    const sp = `properties.steps[${i}]`;
    const step = requireObject(s, sp);
    requireString(step, 'name', sp);
    requireArray(getMember(step, 'branches'), `${sp}.branches`, 1).forEach((b, j) => {
      const bp = `${sp}.branches[${j}]`;
      const branch = requireObject(b, bp);
      requireString(branch, 'name', bp);
      requireArray(getMember(branch, 'actions'), `${bp}.actions`, 1).forEach((a, k) => {
        const ap = `${bp}.actions[${k}]`;
        const action = requireObject(a, ap);
        const type = requireString(action, 'type', ap);
        if (!['delay', 'discrete', 'continuous'].includes(type)) throw schemaError(`${ap}.type`, `Unknown action type '${type}'; expected 'delay', 'discrete' or 'continuous'.`);
        const urn = requireString(action, 'name', ap);
        if (urn.length > 2048) throw schemaError(`${ap}.name`, 'String is longer than 2048 characters.');
        if (type !== 'discrete') {
          const d = requireString(action, 'duration', ap);
          if (!DURATION.test(d)) throw schemaError(`${ap}.duration`, `'${d}' is not an ISO 8601 duration.`);
        }
        if (type !== 'delay') {
          validateParameters(action, ap);
          const sel = requireString(action, 'selectorId', ap);
          if (!selectorIds.has(sel)) throw schemaError(`${ap}.selectorId`, `The selector '${sel}' is not defined in properties.selectors.`);
        }
      });
    });
  });
}

/** selectors[] {type List {targets[] ChaosTarget} | Query {queryString, subscriptionIds[]}, id}; returns the selector ids. */
function validateSelectors(raw: unknown, apiVersion: string): Set<string> {
  const selectors = requireArray(raw, 'properties.selectors', isV2025Model(apiVersion) ? 0 : 1);
  const seen = new Set<string>();
  selectors.forEach((s, i) => {
    const p = `properties.selectors[${i}]`;
    const sel = requireObject(s, p);
    const type = requireString(sel, 'type', p);
    const id = requireString(sel, 'id', p);
    if (seen.has(id)) throw schemaError(`${p}.id`, `The selector id '${id}' is used more than once.`);
    seen.add(id);
    if (type === 'List') {
      requireArray(getMember(sel, 'targets'), `${p}.targets`, 1).forEach((t, j) => {
        const tp = `${p}.targets[${j}]`;
        const target = requireObject(t, tp);
        if (requireString(target, 'type', tp) !== 'ChaosTarget') throw schemaError(`${tp}.type`, "The only target reference type is 'ChaosTarget'.");
        const targetId = requireString(target, 'id', tp);
        if (!TARGET_ID.test(targetId)) throw schemaError(`${tp}.id`, `'${targetId}' is not the resource id of a Chaos target (…/providers/Microsoft.Chaos/targets/{name}).`);
      });
    } else if (type === 'Query') {
      requireString(sel, 'queryString', p);
      requireArray(getMember(sel, 'subscriptionIds'), `${p}.subscriptionIds`, 1);
    } else {
      throw schemaError(`${p}.type`, `Unknown selector type '${type}'; expected 'List' or 'Query'.`);
    }
    const filter = getMember(sel, 'filter');
    if (filter !== undefined && filter !== null) requireObject(filter, `${p}.filter`);
  });
  return seen;
}

/** identity as the request gives it (type from the version's enum, case-insensitive); the user-assigned ones must exist and be assignable. */
function identityFromRequest(state: SimState, ctx: SimContext, experimentId: string, raw: unknown, apiVersion: string, previous?: Identity): Identity | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw schemaError('identity', 'Expected an object.');
  const rawType = getMember(raw, 'type');
  if (rawType === undefined || rawType === null) throw schemaError('identity', "Required property 'type' not found in JSON.");
  const allowed = identityTypes(apiVersion);
  const type = allowed.find((t) => typeof rawType === 'string' && t.toLowerCase() === rawType.toLowerCase());
  if (!type) {
    throw invalidRequestContent(`Error converting value "${String(rawType)}" to type 'ResourceIdentityType' (allowed with api-version ${apiVersion}: ${allowed.map((t) => `'${t}'`).join(', ')}). Path 'identity.type'.`, 'identity.type');
  }
  const map = getMember(raw, 'userAssignedIdentities');
  if (map !== undefined && map !== null && !isObject(map)) throw schemaError('identity.userAssignedIdentities', 'Expected an object.');
  const uaiIds = Object.entries(isObject(map) ? map : {})
    .filter(([, v]) => v !== null)
    .map(([k]) => k);
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
  const resolved = resolveUserAssignedIdentities(state, ctx, experimentId, CHAOS_TYPE, uaiIds, Object.keys(previous?.userAssignedIdentities ?? {}));
  const system = type.startsWith('SystemAssigned');
  return {
    type,
    ...(system ? { principalId: previous?.principalId ?? stableGuid(`system:${experimentId.toLowerCase()}`), tenantId: ids.SIM_TENANT_ID } : {}),
    ...(wantsUser ? { userAssignedIdentities: resolved } : {}),
  };
}

function parseCustomerDataStorage(raw: unknown): CustomerDataStorage | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw schemaError(CDS, 'Expected an object.');
  for (const k of Object.keys(raw)) {
    if (!['storageaccountresourceid', 'blobcontainername'].includes(k.toLowerCase())) {
      throw schemaError(`${CDS}.${k}`, `Could not find member '${k}' on object of type 'CustomerDataStorageProperties'.`);
    }
  }
  const account = getMember(raw, 'storageAccountResourceId');
  const container = getMember(raw, 'blobContainerName');
  if (typeof account !== 'string' || account === '') {
    throw chaosError('InvalidStorageAccountResourceId', 'customerDataStorage.storageAccountResourceId is required: the ARM id of a Microsoft.Storage/storageAccounts resource.', `${CDS}.storageAccountResourceId`);
  }
  if (typeof container !== 'string') {
    throw chaosError('InvalidBlobContainerName', 'customerDataStorage.blobContainerName is required: the blob container to use or create.', `${CDS}.blobContainerName`);
  }
  return { storageAccountResourceId: account, blobContainerName: container };
}

/** Why a user-assigned identity cannot serve this storage (key access, then blob write), or undefined when it can. */
function umiProblem(state: SimState, umi: SimResource, account: SimResource, kvp: KeyVaultProperties, container: string, nowSeconds: number): ArmError | undefined {
  const keyUrl = storageKeyUrl(kvp);
  if (!keyUrl) {
    return chaosError('StorageAccountKeyNotUsable', `The storage account '${account.name}' names a key vault URI Chaos Studio cannot use ('${kvp.keyvaulturi}').`, `${CDS}.storageAccountResourceId`, 'InvalidKeyUrl');
  }
  const resolved = checkCmkKey(state, keyUrl, umi, nowSeconds);
  if (isCmkKeyProblem(resolved)) {
    if (resolved.reason === 'KeyAccessDenied') {
      return chaosError('IdentityKeyAccessDenied', `The experiment's identity '${umi.name}' cannot retrieve the storage account's key: ${resolved.message}`, 'identity.userAssignedIdentities', resolved.reason);
    }
    return chaosError('StorageAccountKeyNotUsable', `The customer-managed key of storage account '${account.name}' cannot be used: ${resolved.message}`, `${CDS}.storageAccountResourceId`, resolved.reason);
  }
  const principalId = (umi.properties as { principalId: string }).principalId;
  const containerScope = `${account.id}/blobServices/default/containers/${container}`;
  if (!principalCan(state, principalId, containerScope, BLOB_WRITE, 'dataAction')) {
    return chaosError(
      'IdentityBlobWriteDenied',
      `The experiment's identity '${umi.name}' (principal ${principalId}) may not write blobs in storage account '${account.name}': it needs a role with the data action '${BLOB_WRITE}' (e.g. Storage Blob Data Contributor) at the container, account, resource group or subscription.`,
      'identity.userAssignedIdentities',
    );
  }
  return undefined;
}

/** Everything Chaos Studio requires of a CMK experiment's storage and identity, in this order. */
function validateCustomerDataStorage(state: SimState, cds: CustomerDataStorage, identity: Identity | undefined, nowSeconds: number): void {
  const uaiIds = Object.keys(identity?.userAssignedIdentities ?? {});
  if (!identity?.type.includes('UserAssigned') || uaiIds.length === 0) {
    throw chaosError(
      'UserAssignedIdentityRequired',
      `An experiment with customerDataStorage needs a user-assigned identity (identity.type 'UserAssigned'): the same identity retrieves the key and writes the experiment data (identity.type is '${identity?.type ?? 'None'}').`,
      'identity.type',
    );
  }
  const parsed = parseResourceId(cds.storageAccountResourceId);
  if (!parsed || parsed.type?.toLowerCase() !== 'microsoft.storage/storageaccounts' || parsed.names.length !== 1) {
    throw chaosError(
      'InvalidStorageAccountResourceId',
      `'${cds.storageAccountResourceId}' is not the ARM id of a storage account (/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}).`,
      `${CDS}.storageAccountResourceId`,
    );
  }
  if (!CONTAINER_NAME_PATTERN.test(cds.blobContainerName)) {
    throw chaosError(
      'InvalidBlobContainerName',
      `The blob container name '${cds.blobContainerName}' is not valid: 3-63 characters of lower-case letters, digits and single hyphens, starting and ending with a letter or digit.`,
      `${CDS}.blobContainerName`,
    );
  }
  const account = findStorageAccount(state, cds.storageAccountResourceId);
  if (!account) {
    throw chaosError('StorageAccountNotFound', `The storage account '${cds.storageAccountResourceId}' was not found.`, `${CDS}.storageAccountResourceId`);
  }
  const props = account.properties as { publicNetworkAccess?: string; networkAcls?: { defaultAction?: string }; encryption?: { keySource?: string; keyvaultproperties?: KeyVaultProperties } };
  const pna = props.publicNetworkAccess ?? 'Enabled';
  const defaultAction = props.networkAcls?.defaultAction ?? 'Allow';
  if (pna.toLowerCase() !== 'enabled' || defaultAction.toLowerCase() !== 'allow') {
    throw chaosError(
      'StorageAccountPublicAccessDisabled',
      `The storage account '${account.name}' must allow public access from all networks (publicNetworkAccess is '${pna}', networkAcls.defaultAction is '${defaultAction}').`,
      `${CDS}.storageAccountResourceId`,
    );
  }
  const kvp = props.encryption?.keyvaultproperties;
  if (props.encryption?.keySource?.toLowerCase() !== 'microsoft.keyvault' || !kvp) {
    throw chaosError(
      'StorageAccountCmkNotEnabled',
      `The storage account '${account.name}' is not encrypted with a customer-managed key (encryption.keySource is '${props.encryption?.keySource ?? 'Microsoft.Storage'}'); set its encryption type to customer-managed keys first.`,
      `${CDS}.storageAccountResourceId`,
    );
  }
  // The experiment's user-assigned identity must read the key and write the blobs (one of them, if several are assigned).
  let first: ArmError | undefined;
  for (const uaiId of uaiIds) {
    const problem = umiProblem(state, findIdentity(state, uaiId)!, account, kvp, cds.blobContainerName, nowSeconds);
    if (!problem) return;
    first ??= problem;
  }
  throw first!;
}

// ---------------------------------------------------------------------------------------------
// Operations

/** Applies a finished operation to the experiment. */
function finish(state: SimState, op: OperationResource): void {
  const p = op.properties;
  const current = state.get(p.resourceId);
  if (!current) return;
  const failed = p.status === 'Failed';
  if (p.action === 'delete') {
    if (failed) (current.properties as Record<string, unknown>)['provisioningState'] = 'Failed';
    else state.delete(p.resourceId);
    return;
  }
  if (failed) {
    // A failed update leaves the experiment as it was, marked Failed; a failed create stays, Failed.
    const restored = p.action === 'update' && p.previous ? structuredClone(p.previous) : current;
    (restored.properties as Record<string, unknown>)['provisioningState'] = 'Failed';
    state.put(restored);
    return;
  }
  (current.properties as Record<string, unknown>)['provisioningState'] = 'Succeeded';
  // The service uses the named container, creating it when it does not exist yet.
  const cds = cdsOf(current);
  const account = cds ? findStorageAccount(state, cds.storageAccountResourceId) : undefined;
  if (cds && account && !state.has(`${account.id}/blobServices/default/containers/${cds.blobContainerName}`)) {
    state.put(containerResource(account, cds.blobContainerName, p.endTime ?? new Date().toISOString()));
  }
}

/** Writes wait for nothing: an unfinished operation on the same experiment is finished first. */
function settle(ctx: SimContext, experimentId: string): void {
  for (const op of pendingOperations(ctx.state, NS, experimentId)) completeOperation(ctx.state, op, finish, ctx.now());
}

function experimentId(req: SimRequest, rg: SimResource): string {
  return `${rg.id}/providers/${CHAOS_TYPE}/${req.params['name']}`;
}

function validTags(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw) || Object.values(raw).some((v) => typeof v !== 'string')) throw invalidRequestContent("Tags must be an object of strings. Path 'tags'", 'tags');
  return raw as Record<string, string>;
}

function systemData(createdAt: string, modifiedAt: string, previous?: Record<string, unknown>): Record<string, unknown> {
  return {
    createdBy: (previous?.['createdBy'] as string | undefined) ?? ids.SIM_BOT_PRINCIPAL_ID,
    createdByType: (previous?.['createdByType'] as string | undefined) ?? 'Application',
    createdAt: (previous?.['createdAt'] as string | undefined) ?? createdAt,
    lastModifiedBy: ids.SIM_BOT_PRINCIPAL_ID,
    lastModifiedByType: 'Application',
    lastModifiedAt: modifiedAt,
  };
}

function put(req: SimRequest, ctx: SimContext): SimResponse {
  const { state } = ctx;
  const rg = requireResourceGroup(state, req.params['sub']!, req.params['rg']!);
  const name = req.params['name']!;
  if (!EXPERIMENT_NAME.test(name)) {
    throw new ArmError(400, 'InvalidResourceName', `The experiment name '${name}' is not valid: it may not contain < > % & : ? # / \\.`, { target: 'experimentName' });
  }
  settle(ctx, experimentId(req, rg));
  const existing = state.get(experimentId(req, rg));
  const id = existing?.id ?? experimentId(req, rg);
  requireAction(state, ctx.caller, id, `${CHAOS_TYPE}/write`);
  const body = bodyObject(req);
  const location = requiredLocation(body);
  if (!(ids.SIM_LOCATIONS as readonly string[]).includes(location)) {
    throw new ArmError(
      400,
      'LocationNotAvailableForResourceType',
      `The provided location '${String(body['location'])}' is not available for resource type '${CHAOS_TYPE}'. List of available regions for the resource type is '${ids.SIM_LOCATIONS.join(',')}'.`,
      { target: 'location' },
    );
  }
  if (existing && normalizeLocation(existing.location ?? '') !== location) {
    throw new ArmError(
      400,
      'InvalidResourceLocation',
      `The resource '${existing.name}' already exists in location '${existing.location}' in resource group '${rg.name}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
      { target: 'location' },
    );
  }
  const rawProps = getMember(body, 'properties');
  if (rawProps === undefined || rawProps === null) throw schemaError('properties', "Required property 'properties' not found in JSON.");
  const props = requireObject(rawProps, 'properties');
  const withCds = carriesCds(req.apiVersion);
  const known = ['steps', 'selectors', 'provisioningstate', ...(withCds ? ['customerdatastorage'] : [])];
  for (const k of Object.keys(props)) {
    if (!known.includes(k.toLowerCase())) throw schemaError(`properties.${k}`, `Could not find member '${k}' on object of type 'ExperimentProperties'.`);
  }
  const tags = validTags(getMember(body, 'tags'));
  const identity = identityFromRequest(state, ctx, id, getMember(body, 'identity'), req.apiVersion, existing?.identity as Identity | undefined);
  const selectorIds = validateSelectors(getMember(props, 'selectors'), req.apiVersion);
  validateSteps(getMember(props, 'steps'), selectorIds);

  // A write at a version without customerDataStorage cannot see it, so it keeps what the experiment has.
  const existingCds = cdsOf(existing);
  const cds = withCds ? parseCustomerDataStorage(getMember(props, 'customerDataStorage')) : existingCds;
  if (existing && !existingCds && cds) {
    throw chaosError(
      'CustomerDataStorageOnlyAtCreation',
      `Customer-managed keys (customerDataStorage) can only be configured when an experiment is created; '${existing.name}' exists without them. Create a new experiment with the same steps and selectors.`,
      CDS,
    );
  }
  const nowIso = new Date(ctx.now()).toISOString();
  if (cds) validateCustomerDataStorage(state, cds, identity, Math.floor(ctx.now() / 1000));

  const experiment: SimResource = {
    id,
    name: existing?.name ?? name,
    type: CHAOS_TYPE,
    location,
    ...(tags ? { tags } : {}),
    ...(identity ? { identity } : {}),
    systemData: systemData(nowIso, nowIso, existing?.['systemData'] as Record<string, unknown> | undefined),
    properties: {
      provisioningState: existing ? 'Updating' : 'Creating',
      steps: getMember(props, 'steps'),
      selectors: getMember(props, 'selectors'),
      ...(cds ? { customerDataStorage: cds } : {}),
    },
  };
  state.put(experiment);
  const answer = render(structuredClone(experiment), req.apiVersion);
  const op = startOperation(
    ctx,
    {
      namespace: NS,
      subscriptionId: rg.id.split('/')[2]!,
      location,
      resourceId: id,
      action: existing ? 'replace' : 'create',
      runningStatus: existing ? 'Updating' : 'Creating',
      apiVersion: req.apiVersion,
      ...(existing ? { previous: existing } : {}),
    },
    finish,
  );
  return { status: existing ? 200 : 201, body: answer, headers: operationHeaders(ctx, op, false) };
}

function patch(req: SimRequest, ctx: SimContext): SimResponse {
  const { state } = ctx;
  const rg = requireResourceGroup(state, req.params['sub']!, req.params['rg']!);
  settle(ctx, experimentId(req, rg));
  const existing = state.get(experimentId(req, rg));
  if (!existing) throw resourceNotFound(`${CHAOS_TYPE}/${req.params['name']}`, rg.name);
  requireAction(state, ctx.caller, existing.id, `${CHAOS_TYPE}/write`);
  const body = bodyObject(req);
  const ga = !isPreview(req.apiVersion);
  const allowed = ['identity', ...(ga ? ['tags'] : [])];
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k.toLowerCase())) {
      throw schemaError(k, `Could not find member '${k}' on object of type 'ExperimentUpdate' (api-version ${req.apiVersion} accepts only ${allowed.map((a) => `'${a}'`).join(' and ')}).`);
    }
  }
  const tags = ga && hasMember(body, 'tags') ? validTags(getMember(body, 'tags')) : existing.tags;
  const rawIdentity = getMember(body, 'identity');
  const previousIdentity = existing.identity as Identity | undefined;
  const identity = rawIdentity === undefined || rawIdentity === null ? previousIdentity : identityFromRequest(state, ctx, existing.id, rawIdentity, req.apiVersion, previousIdentity);
  const cds = cdsOf(existing);
  // Changing the identity of a CMK experiment: the new one must read the key and write the blobs too.
  if (cds && rawIdentity !== undefined && rawIdentity !== null) validateCustomerDataStorage(state, cds, identity, Math.floor(ctx.now() / 1000));

  const { identity: _i, tags: _t, ...rest } = existing;
  const updated: SimResource = {
    ...rest,
    ...(tags ? { tags } : {}),
    ...(identity ? { identity } : {}),
    systemData: systemData('', new Date(ctx.now()).toISOString(), existing['systemData'] as Record<string, unknown> | undefined),
    properties: { ...existing.properties, provisioningState: 'Updating' },
  };
  state.put(updated);
  const answer = render(structuredClone(updated), req.apiVersion);
  const op = startOperation(
    ctx,
    { namespace: NS, subscriptionId: rg.id.split('/')[2]!, location: existing.location!, resourceId: existing.id, action: 'update', runningStatus: 'Updating', apiVersion: req.apiVersion, previous: existing },
    finish,
  );
  // 2023-10-27-preview and 2024-01-01 declare the experiment as the 202 body; 2025-01-01 and 2026-11-01 none.
  return { status: 202, ...(isV2025Model(req.apiVersion) ? {} : { body: answer }), headers: operationHeaders(ctx, op, true) };
}

function remove(req: SimRequest, ctx: SimContext): SimResponse {
  const { state } = ctx;
  const rg = requireResourceGroup(state, req.params['sub']!, req.params['rg']!);
  const id = experimentId(req, rg);
  settle(ctx, id);
  requireAction(state, ctx.caller, id, `${CHAOS_TYPE}/delete`);
  const existing = state.get(id);
  if (!existing) return { status: 204 };
  (existing.properties as Record<string, unknown>)['provisioningState'] = 'Deleting';
  const op = startOperation(ctx, { namespace: NS, subscriptionId: rg.id.split('/')[2]!, location: existing.location!, resourceId: existing.id, action: 'delete', runningStatus: 'Deleting', apiVersion: req.apiVersion }, finish);
  return { status: 202, headers: operationHeaders(ctx, op, true) };
}

function requireOperation(req: SimRequest, ctx: SimContext): OperationResource {
  requireSubscription(ctx.state, req.params['sub']!);
  const op = findOperation(ctx.state, NS, req.params['sub']!, req.params['location']!, req.params['operationId']!);
  if (!op) throw new ArmError(404, 'ResourceNotFound', `The operation '${req.params['operationId']}' was not found in location '${req.params['location']}'.`);
  return op;
}

function retryAfter(ctx: SimContext): Record<string, string> {
  return { 'retry-after': String(Math.max(0, Math.floor(ctx.lro.settings.retryAfterSeconds))) };
}

/** Azure-AsyncOperation polling: the status body; each poll counts towards completion. */
function operationStatus(req: SimRequest, ctx: SimContext): SimResponse {
  const op = requireOperation(req, ctx);
  pollOperation(ctx, op, finish);
  return { status: 200, body: operationStatusBody(op), ...(isTerminal(op) ? {} : { headers: retryAfter(ctx) }) };
}

/** Location polling: 202 while running, then the experiment (200), nothing (204, deletions) or the failure. */
function operationResult(req: SimRequest, ctx: SimContext): SimResponse {
  const op = requireOperation(req, ctx);
  pollOperation(ctx, op, finish);
  if (!isTerminal(op)) return { status: 202, headers: { location: `${ctx.endpoint}${req.path}?api-version=${encodeURIComponent(req.apiVersion)}`, ...retryAfter(ctx) } };
  const p = op.properties;
  if (p.status === 'Failed' && p.failure) throw new ArmError(p.failure.status, p.failure.code, p.failure.message);
  if (p.action === 'delete') return { status: 204 };
  const experiment = ctx.state.get(p.resourceId);
  return experiment ? { status: 200, body: render(experiment, req.apiVersion) } : { status: 204 };
}

// ---------------------------------------------------------------------------------------------
// Seed

/** A seeded experiment like the reference example: one step shutting down a VM in rg-cmk-demo, identity id-fluid-cmk. */
function seededExperiment(name: string, createdAt: string, cds?: CustomerDataStorage): SimResource {
  const identityId = ids.simIdentityId(ids.SIM_IDENTITY);
  return {
    id: ids.simChaosId(name),
    name,
    type: CHAOS_TYPE,
    location: ids.SIM_LOCATION,
    tags: {},
    identity: { type: 'UserAssigned', userAssignedIdentities: { [identityId]: { principalId: ids.SIM_IDENTITY_PRINCIPAL_ID, clientId: ids.SIM_IDENTITY_CLIENT_ID } } },
    systemData: { createdBy: 'platform-admin@contoso.example', createdByType: 'User', createdAt, lastModifiedBy: 'platform-admin@contoso.example', lastModifiedByType: 'User', lastModifiedAt: createdAt },
    properties: {
      provisioningState: 'Succeeded',
      steps: [
        {
          name: 'step1',
          branches: [
            {
              name: 'branch1',
              actions: [
                {
                  type: 'continuous',
                  name: 'urn:csci:microsoft:virtualMachine:shutdown/1.0',
                  selectorId: 'selector1',
                  duration: 'PT10M',
                  parameters: [{ key: 'abruptShutdown', value: 'false' }],
                },
              ],
            },
          ],
        },
      ],
      selectors: [{ type: 'List', id: 'selector1', targets: [{ type: 'ChaosTarget', id: ids.simChaosVmTargetId() }] }],
      ...(cds ? { customerDataStorage: cds } : {}),
    },
  };
}

const EXPERIMENT = `/subscriptions/{sub}/resourceGroups/{rg}/providers/${CHAOS_TYPE}/{name}`;
const LOCATIONS = `/subscriptions/{sub}/providers/${NS}/locations/{location}`;

export const chaosProvider: SimProvider = {
  namespace: NS,
  apiVersions: CHAOS_API_VERSIONS,
  seed(state, { nowSeconds }) {
    const createdAt = new Date((nowSeconds - 60 * 24 * 3600) * 1000).toISOString();
    state.put(seededExperiment(ids.SIM_CHAOS_EXISTING, createdAt));
    state.put(seededExperiment(ids.SIM_CHAOS_CMK, createdAt, { storageAccountResourceId: ids.simStorageId(ids.SIM_STORAGE_CMK), blobContainerName: ids.SIM_CHAOS_CONTAINER }));
    // The virtual machine the seeded experiments shut down. Compute is not simulated: the VM exists
    // only as an entry of the resource list (Resources_ListByResourceGroup / _List), which is how
    // the form's VM picker finds it; its shape is GenericResourceExpanded (resources.json).
    state.put({
      id: ids.simChaosVmTargetId().replace(/\/providers\/Microsoft\.Chaos\/targets\/[^/]+$/i, ''),
      name: ids.SIM_CHAOS_TARGET_VM,
      type: 'Microsoft.Compute/virtualMachines',
      location: ids.SIM_LOCATION,
      tags: {},
    });
  },
  routes: [
    {
      method: 'GET',
      pattern: EXPERIMENT,
      resourceType: 'experiments',
      handler: (req, ctx) => {
        const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
        finishDueOperations(ctx, NS, experimentId(req, rg), finish);
        const found = ctx.state.get(experimentId(req, rg));
        if (!found) throw resourceNotFound(`${CHAOS_TYPE}/${req.params['name']}`, rg.name);
        return { status: 200, body: render(found, req.apiVersion) };
      },
    },
    { method: 'PUT', pattern: EXPERIMENT, resourceType: 'experiments', handler: put },
    { method: 'PATCH', pattern: EXPERIMENT, resourceType: 'experiments', handler: patch },
    { method: 'DELETE', pattern: EXPERIMENT, resourceType: 'experiments', handler: remove },
    ...collectionRoutes(CHAOS_TYPE, 'experiments', { render: (r, req) => render(r, req.apiVersion) }),
    { method: 'GET', pattern: `${LOCATIONS}/operationStatuses/{operationId}`, resourceType: 'locations/operationStatuses', handler: operationStatus },
    // The examples' URLs use the singular form.
    { method: 'GET', pattern: `${LOCATIONS}/operationStatus/{operationId}`, resourceType: 'locations/operationStatuses', handler: operationStatus },
    { method: 'GET', pattern: `${LOCATIONS}/operationResults/{operationId}`, resourceType: 'locations/operationResults', handler: operationResult },
  ],
};
