// Microsoft.ManagedIdentity/userAssignedIdentities: get, create/update, delete, list.
import { MSI_VERSIONS } from '../api-versions';
import { bodyObject, parseResourceId, requiredLocation, requireResourceGroup, stableGuid, collectionRoutes } from '../arm';
import { ArmError, linkedAuthorizationFailed, resourceNotFound } from '../errors';
import type { SimContext, SimProvider } from '../provider';
import { principalCan, requireAction } from '../rbac';
import * as ids from '../seed-ids';
import type { SimResource, SimState } from '../state';

export const IDENTITY_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';

export interface IdentitySpec {
  name: string;
  resourceGroup: string;
  subscriptionId?: string;
  location: string;
  principalId: string;
  clientId: string;
  tenantId?: string;
  tags?: Record<string, string>;
}

export function identityResource(spec: IdentitySpec): SimResource {
  return {
    id: `/subscriptions/${spec.subscriptionId ?? ids.SIM_SUBSCRIPTION_ID}/resourceGroups/${spec.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${spec.name}`,
    name: spec.name,
    type: IDENTITY_TYPE,
    location: spec.location,
    tags: spec.tags ?? {},
    properties: {
      clientId: spec.clientId,
      isolationScope: 'None',
      principalId: spec.principalId,
      tenantId: spec.tenantId ?? ids.SIM_TENANT_ID,
    },
  };
}

/** The identity a user-assigned identity id names, if it is well-formed and exists. */
export function findIdentity(state: SimState, identityId: string): SimResource | undefined {
  const parsed = parseResourceId(identityId);
  if (!parsed || parsed.type?.toLowerCase() !== IDENTITY_TYPE.toLowerCase() || parsed.names.length !== 1) return undefined;
  return state.get(identityId);
}

export const ASSIGN_ACTION = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';

export type UserAssignedIdentityMap = Record<string, { principalId: string; clientId: string }>;

/**
 * What every resource provider does with `identity.userAssignedIdentities` on a write: each
 * id must name an existing identity (400 InvalidUserAssignedIdentity), and ARM's linked
 * authorization requires the caller to hold `…/assign/action` on each identity newly assigned
 * (403 LinkedAuthorizationFailed naming `{resourceType}/write`). Returns the map keyed by the
 * identities' canonical ids, valued with their principal and client ids.
 */
export function resolveUserAssignedIdentities(state: SimState, ctx: SimContext, resourceId: string, resourceType: string, uaiIds: string[], previouslyAssigned: Iterable<string> = []): UserAssignedIdentityMap {
  const previousIds = new Set([...previouslyAssigned].map((k) => k.toLowerCase()));
  const out: UserAssignedIdentityMap = {};
  for (const uaiId of uaiIds) {
    const found = findIdentity(state, uaiId);
    if (!found) {
      throw new ArmError(400, 'InvalidUserAssignedIdentity', `The user-assigned identity '${uaiId}' was not found or is not a valid user-assigned identity resource id.`, {
        target: 'identity.userAssignedIdentities',
      });
    }
    if (!previousIds.has(found.id.toLowerCase()) && !principalCan(state, ctx.caller, found.id, ASSIGN_ACTION)) {
      throw linkedAuthorizationFailed(ctx.caller, `${resourceType}/write`, resourceId, ASSIGN_ACTION, found.id);
    }
    const p = found.properties as { principalId: string; clientId: string };
    out[found.id] = { principalId: p.principalId, clientId: p.clientId };
  }
  return out;
}

const IDENTITY = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}';

export const managedIdentityProvider: SimProvider = {
  namespace: 'Microsoft.ManagedIdentity',
  apiVersions: MSI_VERSIONS,
  seed(state) {
    const tags = { purpose: 'cmk-chatops simulator' };
    state.put(
      identityResource({
        name: ids.SIM_IDENTITY,
        resourceGroup: ids.SIM_RG,
        location: ids.SIM_LOCATION,
        principalId: ids.SIM_IDENTITY_PRINCIPAL_ID,
        clientId: ids.SIM_IDENTITY_CLIENT_ID,
        tags,
      }),
    );
    state.put(
      identityResource({
        name: ids.SIM_IDENTITY_NO_ACCESS,
        resourceGroup: ids.SIM_RG,
        location: ids.SIM_LOCATION,
        principalId: ids.SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
        clientId: ids.SIM_IDENTITY_NO_ACCESS_CLIENT_ID,
        tags,
      }),
    );
    state.put(
      identityResource({
        name: ids.SIM_IDENTITY_WEST,
        resourceGroup: ids.SIM_RG_WEST,
        location: ids.SIM_LOCATION_WEST,
        principalId: ids.SIM_IDENTITY_WEST_PRINCIPAL_ID,
        clientId: ids.SIM_IDENTITY_WEST_CLIENT_ID,
        tags,
      }),
    );
    // The unusual cases (their role assignments are in the authorization seed).
    const eastus = (name: string, principalId: string, clientId: string, extra: Partial<IdentitySpec> = {}) =>
      state.put(identityResource({ name, resourceGroup: ids.SIM_RG, location: ids.SIM_LOCATION, principalId, clientId, tags, ...extra }));
    eastus(ids.SIM_IDENTITY_OTHER_TENANT, ids.SIM_IDENTITY_OTHER_TENANT_PRINCIPAL_ID, ids.SIM_IDENTITY_OTHER_TENANT_CLIENT_ID, { tenantId: ids.SIM_OTHER_TENANT_ID });
    eastus(ids.SIM_IDENTITY_WRAP_ONLY, ids.SIM_IDENTITY_WRAP_ONLY_PRINCIPAL_ID, ids.SIM_IDENTITY_WRAP_ONLY_CLIENT_ID);
    eastus(ids.SIM_IDENTITY_INHERITED, ids.SIM_IDENTITY_INHERITED_PRINCIPAL_ID, ids.SIM_IDENTITY_INHERITED_CLIENT_ID);
    eastus(ids.SIM_IDENTITY_CUSTOM_ROLE, ids.SIM_IDENTITY_CUSTOM_ROLE_PRINCIPAL_ID, ids.SIM_IDENTITY_CUSTOM_ROLE_CLIENT_ID);
    eastus(ids.SIM_IDENTITY_NO_ASSIGN, ids.SIM_IDENTITY_NO_ASSIGN_PRINCIPAL_ID, ids.SIM_IDENTITY_NO_ASSIGN_CLIENT_ID, { resourceGroup: ids.SIM_RG_IDENTITIES_LOCKED });
    eastus(ids.SIM_IDENTITY_GROUP_MEMBER, ids.SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID, ids.SIM_IDENTITY_GROUP_MEMBER_CLIENT_ID);
  },
  routes: [
    ...collectionRoutes(IDENTITY_TYPE, 'userAssignedIdentities'),
    {
      method: 'GET',
      pattern: IDENTITY,
      resourceType: 'userAssignedIdentities',
      handler: (req, ctx) => {
        const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
        const found = ctx.state.get(`${rg.id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${req.params['name']}`);
        if (!found) throw resourceNotFound(`${IDENTITY_TYPE}/${req.params['name']}`, rg.name);
        return { status: 200, body: found };
      },
    },
    {
      method: 'PUT',
      pattern: IDENTITY,
      resourceType: 'userAssignedIdentities',
      handler: (req, ctx) => {
        const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
        const id = `${rg.id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${req.params['name']}`;
        requireAction(ctx.state, ctx.caller, id, `${IDENTITY_TYPE}/write`);
        const body = bodyObject(req);
        const location = requiredLocation(body);
        const existing = ctx.state.get(id);
        const props = existing?.properties as { principalId: string; clientId: string } | undefined;
        const created = identityResource({
          name: existing?.name ?? req.params['name']!,
          resourceGroup: rg.name,
          subscriptionId: rg.id.split('/')[2],
          location,
          principalId: props?.principalId ?? stableGuid(`principal:${id.toLowerCase()}`),
          clientId: props?.clientId ?? stableGuid(`client:${id.toLowerCase()}`),
          tags: (body['tags'] as Record<string, string> | undefined) ?? {},
        });
        ctx.state.put(created);
        return { status: existing ? 200 : 201, body: created };
      },
    },
    {
      method: 'DELETE',
      pattern: IDENTITY,
      resourceType: 'userAssignedIdentities',
      handler: (req, ctx) => {
        const rg = requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!);
        const id = `${rg.id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${req.params['name']}`;
        requireAction(ctx.state, ctx.caller, id, `${IDENTITY_TYPE}/delete`);
        return { status: ctx.state.delete(id) ? 200 : 204 };
      },
    },
  ],
};
