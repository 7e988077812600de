// Entra ID (directory) objects the simulator knows: security groups and their members, so that
// ARM's assignedTo() filter, RBAC evaluation and Key Vault access policies can honour access
// granted through a group, and the Microsoft Graph surface (providers/graph.ts) can answer
// membership questions. Stored in the same SimState (ids under /directory/), never served by ARM.
import * as ids from './seed-ids';
import type { SimResource, SimState } from './state';

export const GROUP_TYPE = 'Microsoft.Graph/groups';
const SETTINGS_ID = '/directory/settings';
const SETTINGS_TYPE = 'Microsoft.Graph/settings';

export interface GroupSpec {
  id: string;
  displayName: string;
  /** Object ids of direct members: service principals (managed identities' principal ids), users or groups. */
  members: string[];
}

export function groupResource(spec: GroupSpec): SimResource {
  return { id: `/directory/groups/${spec.id}`, name: spec.id, type: GROUP_TYPE, properties: { displayName: spec.displayName, members: spec.members } };
}

export function findGroup(state: SimState, objectId: string): SimResource | undefined {
  return state.get(`/directory/groups/${objectId}`);
}

function membersOf(g: SimResource): string[] {
  return ((g.properties as { members?: string[] }).members ?? []).map((m) => m.toLowerCase());
}

/** The groups `objectId` belongs to, directly or through nested groups (each once). */
export function transitiveGroupsOf(state: SimState, objectId: string): SimResource[] {
  const groups = state.ofType(GROUP_TYPE);
  const found = new Map<string, SimResource>();
  let frontier = [objectId.toLowerCase()];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const g of groups) {
      const gid = g.name.toLowerCase();
      if (found.has(gid)) continue;
      if (membersOf(g).some((m) => frontier.includes(m))) {
        found.set(gid, g);
        next.push(gid);
      }
    }
    frontier = next;
  }
  return [...found.values()];
}

/** The principal itself and every group it belongs to (transitively), lower-cased: who an RBAC assignment or access policy may name. */
export function principalAndGroups(state: SimState, principalId: string): Set<string> {
  return new Set([principalId.toLowerCase(), ...transitiveGroupsOf(state, principalId).map((g) => g.name.toLowerCase())]);
}

/** Whether the bot holds the Graph permission to read memberships (GroupMember.Read.All / Directory.Read.All). */
export function graphReadGranted(state: SimState): boolean {
  return (state.get(SETTINGS_ID)?.properties as { groupMemberRead?: boolean } | undefined)?.groupMemberRead !== false;
}

export function setGraphReadGranted(state: SimState, granted: boolean): void {
  state.put({ id: SETTINGS_ID, name: 'settings', type: SETTINGS_TYPE, properties: { groupMemberRead: granted } });
}

export const APPLICATION_TYPE = 'Microsoft.Graph/applications';

export interface ApplicationSpec {
  clientId: string;
  displayName: string;
  /** Principal ids of the managed identities its federated identity credentials trust. */
  federatedIdentities: string[];
  /** Its service principal's object id per tenant it is provisioned in. */
  servicePrincipals: Record<string, string>;
}

export function applicationResource(spec: ApplicationSpec): SimResource {
  return {
    id: `/directory/applications/${spec.clientId}`,
    name: spec.clientId,
    type: APPLICATION_TYPE,
    properties: { displayName: spec.displayName, federatedIdentities: spec.federatedIdentities, servicePrincipals: spec.servicePrincipals },
  };
}

/**
 * The object id of application `clientId`'s service principal in `tenantId`, when a managed identity
 * with `identityPrincipalId` may act as it (a federated identity credential trusts the identity);
 * else undefined (no such app, no credential for that identity, or not provisioned in the tenant).
 */
export function federatedServicePrincipal(state: SimState, clientId: string, identityPrincipalId: string, tenantId: string): string | undefined {
  const app = state.get(`/directory/applications/${clientId}`);
  if (!app) return undefined;
  const p = app.properties as { federatedIdentities: string[]; servicePrincipals: Record<string, string> };
  if (!p.federatedIdentities.some((f) => f.toLowerCase() === identityPrincipalId.toLowerCase())) return undefined;
  const entry = Object.entries(p.servicePrincipals).find(([t]) => t.toLowerCase() === tenantId.toLowerCase());
  return entry?.[1];
}

export function seedDirectory(state: SimState): void {
  state.put(
    applicationResource({
      clientId: ids.SIM_CROSS_TENANT_APP_CLIENT_ID,
      displayName: 'Contoso cross-tenant CMK (sim)',
      federatedIdentities: [ids.SIM_IDENTITY_PRINCIPAL_ID],
      servicePrincipals: { [ids.SIM_OTHER_TENANT_ID]: ids.SIM_CROSS_TENANT_APP_PRINCIPAL_ID },
    }),
  );
  state.put(groupResource({ id: ids.SIM_GROUP_CRYPTO, displayName: ids.SIM_GROUP_CRYPTO_NAME, members: [ids.SIM_GROUP_TEAM] }));
  state.put(groupResource({ id: ids.SIM_GROUP_TEAM, displayName: ids.SIM_GROUP_TEAM_NAME, members: [ids.SIM_IDENTITY_GROUP_MEMBER_PRINCIPAL_ID] }));
  setGraphReadGranted(state, true);
}
