// Microsoft.Resources: subscriptions, locations, resource groups and the generic resource lists.
import { bodyObject, normalizeLocation, page, parseResourceId, requiredLocation, requireResourceGroup, requireSubscription, subscriptionResourceId } from '../arm';
import {
  CHAOS_EXPERIMENT_VERSIONS,
  FLUID_RELAY_VERSIONS,
  KEYVAULT_KEY_VERSIONS,
  KEYVAULT_VAULT_VERSIONS,
  MSI_VERSIONS,
  RESOURCES_API_VERSIONS,
  ROLE_ASSIGNMENT_VERSIONS,
  STORAGE_ACCOUNT_VERSIONS,
  STORAGE_CONTAINER_VERSIONS,
} from '../api-versions';
import { ArmError } from '../errors';
import type { SimContext, SimProvider, SimRequest } from '../provider';
import { requireAction } from '../rbac';
import {
  SIM_LOCATION,
  SIM_LOCATION_WEST,
  SIM_RG,
  SIM_RG_IDENTITIES_LOCKED,
  SIM_RG_LOCKED,
  SIM_RG_WEST,
  SIM_RG_LABS,
  SIM_SUBSCRIPTION3_ID,
  SIM_SUBSCRIPTION3_NAME,
  SIM_UNREGISTERED_NAMESPACES,
  SIM_SUBSCRIPTION2_ID,
  SIM_SUBSCRIPTION2_NAME,
  SIM_SUBSCRIPTION_ID,
  SIM_SUBSCRIPTION_NAME,
  SIM_TENANT_ID,
} from '../seed-ids';
import type { SimResource, SimState } from '../state';

export const SUBSCRIPTION_TYPE = 'Microsoft.Resources/subscriptions';
export const RESOURCE_GROUP_TYPE = 'Microsoft.Resources/resourceGroups';
/** A resource provider's registration in a subscription (Providers_Get shape). */
export const PROVIDER_TYPE = 'Microsoft.Resources/providers';

/** The namespaces the simulator serves and the resource types each one lists in Providers_Get. */
const NAMESPACES: Record<string, { resourceType: string; apiVersions: readonly string[] }[]> = {
  'Microsoft.KeyVault': [
    { resourceType: 'vaults', apiVersions: KEYVAULT_VAULT_VERSIONS },
    { resourceType: 'vaults/keys', apiVersions: KEYVAULT_KEY_VERSIONS },
  ],
  'Microsoft.Storage': [
    { resourceType: 'storageAccounts', apiVersions: STORAGE_ACCOUNT_VERSIONS },
    { resourceType: 'storageAccounts/blobServices/containers', apiVersions: STORAGE_CONTAINER_VERSIONS },
  ],
  'Microsoft.ManagedIdentity': [{ resourceType: 'userAssignedIdentities', apiVersions: MSI_VERSIONS }],
  'Microsoft.FluidRelay': [{ resourceType: 'fluidRelayServers', apiVersions: FLUID_RELAY_VERSIONS }],
  'Microsoft.Chaos': [{ resourceType: 'experiments', apiVersions: CHAOS_EXPERIMENT_VERSIONS }],
  'Microsoft.Authorization': [{ resourceType: 'roleAssignments', apiVersions: ROLE_ASSIGNMENT_VERSIONS }],
};

function providerId(sub: string, ns: string): string {
  return `/subscriptions/${sub}/providers/${ns}`;
}

function providerResource(sub: string, ns: string, registrationState: string): SimResource {
  return { id: providerId(sub, ns), name: ns, type: PROVIDER_TYPE, properties: { registrationState } };
}

/** Providers_Get shape: namespace, registration state and policy, resource types with their versions. */
function providerShape(r: SimResource): Record<string, unknown> {
  const ns = r.name;
  const state = (r.properties as { registrationState: string }).registrationState;
  return {
    id: r.id,
    namespace: ns,
    registrationState: state,
    // Microsoft.Authorization is registered for every subscription and cannot be unregistered.
    registrationPolicy: ns === 'Microsoft.Authorization' ? 'RegistrationFree' : 'RegistrationRequired',
    resourceTypes: (NAMESPACES[ns] ?? []).map((t) => ({
      resourceType: t.resourceType,
      locations: t.resourceType.includes('/') || ns === 'Microsoft.Authorization' ? [] : Object.values(REGIONS).map((x) => x.displayName),
      apiVersions: [...t.apiVersions].reverse(),
    })),
  };
}

/** The namespace's registration in the subscription ('NotRegistered' when never seeded). */
export function registrationState(state: SimState, sub: string, ns: string): string {
  const r = state.get(providerId(sub, ns));
  return (r?.properties as { registrationState?: string } | undefined)?.registrationState ?? 'NotRegistered';
}

/** The provider's stored record, or ARM's 404 for an unknown namespace. */
function requireProvider(state: SimState, sub: string, ns: string): SimResource {
  const known = Object.keys(NAMESPACES).find((n) => n.toLowerCase() === ns.toLowerCase());
  if (!known) throw new ArmError(404, 'InvalidResourceNamespace', `The resource namespace '${ns}' is invalid.`);
  return state.get(providerId(sub, known)) ?? providerResource(sub, known, 'NotRegistered');
}

const REGIONS: Record<string, { displayName: string; regional: string; geo: string; physical: string; lat: string; lon: string; pair: string }> = {
  eastus: { displayName: 'East US', regional: '(US) East US', geo: 'US', physical: 'Virginia', lat: '37.3719', lon: '-79.8164', pair: 'westus' },
  westus: { displayName: 'West US', regional: '(US) West US', geo: 'US', physical: 'California', lat: '37.783', lon: '-122.417', pair: 'eastus' },
  westeurope: {
    displayName: 'West Europe',
    regional: '(Europe) West Europe',
    geo: 'Europe',
    physical: 'Netherlands',
    lat: '52.3667',
    lon: '4.9',
    pair: 'northeurope',
  },
};

// Extension resources (role assignments…) and containers (subscriptions, groups) are not
// listed by GET …/resources, nor are child resources (keys, key versions).
function isTopLevelResource(r: SimResource): boolean {
  const parsed = parseResourceId(r.id);
  return !!parsed?.namespace && parsed.names.length === 1 && parsed.namespace.toLowerCase() !== 'microsoft.authorization';
}

function genericShape(r: SimResource): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.id, name: r.name, type: r.type };
  for (const k of ['kind', 'sku', 'location', 'tags', 'identity', 'managedBy'] as const) {
    if (r[k] !== undefined) out[k] = r[k];
  }
  return out;
}

type Clause = { field: 'resourcetype' | 'name' | 'location'; value: string };

/** `$filter` of the resource list: `resourceType eq '…'`, `name eq '…'`, `location eq '…'` joined by `and`. */
function parseResourceFilter(filter: string | undefined): Clause[] {
  if (filter === undefined || filter.trim() === '') return [];
  return filter.split(/\s+and\s+/i).map((clause) => {
    const m = /^\s*(resourceType|name|location)\s+eq\s+'([^']*)'\s*$/i.exec(clause);
    if (!m) {
      throw new ArmError(400, 'InvalidFilterInQueryString', `Invalid $filter '${filter}' specified in the query string. The simulator supports resourceType eq '…', name eq '…' and location eq '…' joined by 'and'.`);
    }
    return { field: m[1]!.toLowerCase() as Clause['field'], value: m[2]!.toLowerCase() };
  });
}

function listResources(state: SimState, under: string, req: SimRequest, ctx: SimContext) {
  const clauses = parseResourceFilter(req.query['$filter']);
  const prefix = `${under.toLowerCase()}/`;
  const items = state
    .all()
    .filter((r) => r.id.toLowerCase().startsWith(prefix) && isTopLevelResource(r))
    .filter((r) =>
      clauses.every((c) => {
        if (c.field === 'resourcetype') return r.type.toLowerCase() === c.value;
        if (c.field === 'name') return r.name.toLowerCase() === c.value;
        return normalizeLocation(r.location ?? '') === normalizeLocation(c.value);
      }),
    )
    .map(genericShape);
  return { status: 200, body: page(items, req, ctx, 1000, true) };
}

function subscriptionShape(r: SimResource): Record<string, unknown> {
  const { name: _name, type: _type, ...rest } = r;
  return rest;
}

function locationShape(sub: string, name: string) {
  const r = REGIONS[name]!;
  return {
    id: `/subscriptions/${sub}/locations/${name}`,
    name,
    type: 'Region',
    displayName: r.displayName,
    regionalDisplayName: r.regional,
    metadata: {
      regionType: 'Physical',
      regionCategory: 'Recommended',
      geographyGroup: r.geo,
      longitude: r.lon,
      latitude: r.lat,
      physicalLocation: r.physical,
      pairedRegion: [{ name: r.pair, id: `/subscriptions/${sub}/locations/${r.pair}` }],
    },
  };
}

export function resourceGroupResource(sub: string, name: string, location: string, tags?: Record<string, string>): SimResource {
  return {
    id: `/subscriptions/${sub}/resourceGroups/${name}`,
    name,
    type: RESOURCE_GROUP_TYPE,
    location,
    ...(tags ? { tags } : {}),
    properties: { provisioningState: 'Succeeded' },
  };
}

function subscriptionResource(sub: string, displayName: string): SimResource {
  return {
    id: subscriptionResourceId(sub),
    name: sub,
    type: SUBSCRIPTION_TYPE,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: sub,
    tenantId: SIM_TENANT_ID,
    displayName,
    state: 'Enabled',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}

export const resourcesProvider: SimProvider = {
  namespace: 'Microsoft.Resources',
  // ARM's own endpoints accept only the versions ARM publishes (2022-12-01 for subscriptions,
  // 2025-04-01 from @azure/arm-resources 7, 2015-11-01 from the Key Vault SDKs' vaults.list…);
  // any other answers 400 InvalidApiVersionParameter, resource groups included.
  apiVersions: RESOURCES_API_VERSIONS,
  seed(state) {
    state.put(subscriptionResource(SIM_SUBSCRIPTION_ID, SIM_SUBSCRIPTION_NAME));
    state.put(subscriptionResource(SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION2_NAME));
    state.put(subscriptionResource(SIM_SUBSCRIPTION3_ID, SIM_SUBSCRIPTION3_NAME));
    state.put(resourceGroupResource(SIM_SUBSCRIPTION3_ID, SIM_RG_LABS, SIM_LOCATION, { purpose: 'cmk-chatops simulator: FluidRelay and Chaos not registered' }));
    for (const sub of [SIM_SUBSCRIPTION_ID, SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION3_ID]) {
      for (const ns of Object.keys(NAMESPACES)) {
        const unregistered = sub === SIM_SUBSCRIPTION3_ID && (SIM_UNREGISTERED_NAMESPACES as readonly string[]).includes(ns);
        state.put(providerResource(sub, ns, unregistered ? 'NotRegistered' : 'Registered'));
      }
    }
    state.put(resourceGroupResource(SIM_SUBSCRIPTION_ID, SIM_RG, SIM_LOCATION, { purpose: 'cmk-chatops simulator' }));
    state.put(resourceGroupResource(SIM_SUBSCRIPTION_ID, SIM_RG_WEST, SIM_LOCATION_WEST, { purpose: 'cmk-chatops simulator' }));
    // The bot holds only the subscription's Reader in these two (see the authorization seed).
    state.put(resourceGroupResource(SIM_SUBSCRIPTION_ID, SIM_RG_LOCKED, SIM_LOCATION, { purpose: 'cmk-chatops simulator: bot is read-only' }));
    state.put(resourceGroupResource(SIM_SUBSCRIPTION_ID, SIM_RG_IDENTITIES_LOCKED, SIM_LOCATION, { purpose: 'cmk-chatops simulator: bot may not assign these identities' }));
  },
  routes: [
    {
      method: 'GET',
      pattern: '/subscriptions/{sub}/providers',
      handler: (req, ctx) => {
        const sub = requireSubscription(ctx.state, req.params['sub']!);
        return { status: 200, body: { value: ctx.state.ofType(PROVIDER_TYPE, sub.id).map(providerShape) } };
      },
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{sub}/providers/{ns}',
      handler: (req, ctx) => {
        const sub = requireSubscription(ctx.state, req.params['sub']!);
        return { status: 200, body: providerShape(requireProvider(ctx.state, sub.subscriptionId as string, req.params['ns']!)) };
      },
    },
    ...(['register', 'unregister'] as const).map((verb) => ({
      method: 'POST' as const,
      pattern: `/subscriptions/{sub}/providers/{ns}/${verb}`,
      handler: (req: SimRequest, ctx: SimContext) => {
        const sub = requireSubscription(ctx.state, req.params['sub']!);
        const current = requireProvider(ctx.state, sub.subscriptionId as string, req.params['ns']!);
        requireAction(ctx.state, ctx.caller, sub.id, `${current.name}/${verb}/action`);
        if (current.name === 'Microsoft.Authorization' && verb === 'unregister') {
          throw new ArmError(409, 'ProviderRegistrationFree', `The namespace '${current.name}' is registered for every subscription and cannot be unregistered.`);
        }
        // Registration takes a while in Azure; the simulator finishes it at once.
        const updated = ctx.state.put(providerResource(sub.subscriptionId as string, current.name, verb === 'register' ? 'Registered' : 'Unregistered'));
        return { status: 200, body: providerShape(updated) };
      },
    })),
    {
      method: 'GET',
      pattern: '/subscriptions',
      handler: (req, ctx) => ({ status: 200, body: page(ctx.state.ofType(SUBSCRIPTION_TYPE).map(subscriptionShape), req, ctx, 100) }),
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{sub}',
      handler: (req, ctx) => ({ status: 200, body: subscriptionShape(requireSubscription(ctx.state, req.params['sub']!)) }),
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{sub}/locations',
      handler: (req, ctx) => {
        const sub = requireSubscription(ctx.state, req.params['sub']!).subscriptionId as string;
        return { status: 200, body: { value: Object.keys(REGIONS).map((n) => locationShape(sub, n)) } };
      },
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{sub}/resourcegroups',
      handler: (req, ctx) => {
        const sub = requireSubscription(ctx.state, req.params['sub']!);
        return { status: 200, body: page(ctx.state.ofType(RESOURCE_GROUP_TYPE, sub.id), req, ctx, 1000, true) };
      },
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{sub}/resourcegroups/{rg}',
      handler: (req, ctx) => ({ status: 200, body: requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!) }),
    },
    {
      method: 'PUT',
      pattern: '/subscriptions/{sub}/resourcegroups/{rg}',
      handler: (req, ctx) => {
        const sub = requireSubscription(ctx.state, req.params['sub']!);
        requireAction(ctx.state, ctx.caller, sub.id, 'Microsoft.Resources/subscriptions/resourceGroups/write');
        const body = bodyObject(req);
        const location = requiredLocation(body);
        const existing = ctx.state.get(`${sub.id}/resourceGroups/${req.params['rg']}`);
        if (existing && existing.location !== location) {
          throw new ArmError(400, 'InvalidResourceGroupLocation', `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`);
        }
        const tags = (body['tags'] as Record<string, string> | undefined) ?? existing?.tags;
        const rg = resourceGroupResource(sub.subscriptionId as string, existing?.name ?? req.params['rg']!, location, tags);
        ctx.state.put(rg);
        return { status: existing ? 200 : 201, body: rg };
      },
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{sub}/resources',
      handler: (req, ctx) => listResources(ctx.state, requireSubscription(ctx.state, req.params['sub']!).id, req, ctx),
    },
    {
      method: 'GET',
      pattern: '/subscriptions/{sub}/resourceGroups/{rg}/resources',
      handler: (req, ctx) => listResources(ctx.state, requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!).id, req, ctx),
    },
  ],
};
