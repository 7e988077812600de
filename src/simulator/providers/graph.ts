// A minimal Microsoft Graph v1.0 surface on the simulator's endpoint, for membership questions:
//   POST /v1.0/directoryObjects/{id}/checkMemberGroups  {groupIds}  → the ids it is a member of (transitively)
//   GET  /v1.0/servicePrincipals/{id}/transitiveMemberOf            → the groups, transitively
// Shapes from learn.microsoft.com/graph/api/directoryobject-checkmembergroups and
// /graph/api/serviceprincipal-list-transitivememberof. Without the read permission
// (sim.setGraphPermission(false)) both answer Graph's 403 Authorization_RequestDenied.
import { randomUUID } from 'node:crypto';
import { findGroup, graphReadGranted, seedDirectory, transitiveGroupsOf } from '../directory';
import type { SimContext, SimProvider, SimRequest, SimResponse } from '../provider';
import { IDENTITY_TYPE } from './managed-identity';
import * as ids from '../seed-ids';

const GRAPH = 'https://graph.microsoft.com/v1.0';

function graphError(status: number, code: string, message: string): SimResponse {
  const date = new Date().toISOString().replace(/\.\d+Z$/, '');
  const requestId = randomUUID();
  return { status, body: { error: { code, message, innerError: { date, 'request-id': requestId, 'client-request-id': requestId } } } };
}

const denied = () => graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
const notFound = (id: string) => graphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

/** Service principals the directory knows: managed identities' principals and the bot. */
function isServicePrincipal(ctx: SimContext, id: string): boolean {
  const lower = id.toLowerCase();
  if (lower === ids.SIM_BOT_PRINCIPAL_ID.toLowerCase()) return true;
  return ctx.state.ofType(IDENTITY_TYPE).some((i) => String((i.properties as { principalId?: string }).principalId ?? '').toLowerCase() === lower);
}

function knownObject(ctx: SimContext, id: string): boolean {
  return isServicePrincipal(ctx, id) || findGroup(ctx.state, id) !== undefined;
}

function checkMemberGroups(req: SimRequest, ctx: SimContext): SimResponse {
  if (!graphReadGranted(ctx.state)) return denied();
  const id = req.params['id']!;
  if (!knownObject(ctx, id)) return notFound(id);
  const groupIds = (req.body as { groupIds?: unknown } | undefined)?.groupIds;
  if (!Array.isArray(groupIds) || groupIds.some((g) => typeof g !== 'string')) {
    return graphError(400, 'Request_BadRequest', "The request body must contain 'groupIds', an array of group object ids.");
  }
  if (groupIds.length > 20) return graphError(400, 'Request_BadRequest', 'At most 20 group ids may be checked at once.');
  const member = new Set(transitiveGroupsOf(ctx.state, id).map((g) => g.name.toLowerCase()));
  return { status: 200, body: { '@odata.context': `${GRAPH}/$metadata#Collection(Edm.String)`, value: (groupIds as string[]).filter((g) => member.has(g.toLowerCase())) } };
}

function transitiveMemberOf(req: SimRequest, ctx: SimContext): SimResponse {
  if (!graphReadGranted(ctx.state)) return denied();
  const id = req.params['id']!;
  if (!isServicePrincipal(ctx, id)) return notFound(id);
  const value = transitiveGroupsOf(ctx.state, id).map((g) => ({
    '@odata.type': '#microsoft.graph.group',
    id: g.name,
    displayName: (g.properties as { displayName: string }).displayName,
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: [],
  }));
  return { status: 200, body: { '@odata.context': `${GRAPH}/$metadata#directoryObjects`, value } };
}

export const graphProvider: SimProvider = {
  namespace: 'Microsoft.Graph',
  apiVersions: 'any',
  seed: (state) => seedDirectory(state),
  routes: [
    { method: 'POST', pattern: '/v1.0/directoryObjects/{id}/checkMemberGroups', handler: checkMemberGroups },
    { method: 'POST', pattern: '/v1.0/servicePrincipals/{id}/checkMemberGroups', handler: checkMemberGroups },
    { method: 'GET', pattern: '/v1.0/servicePrincipals/{id}/transitiveMemberOf', handler: transitiveMemberOf },
    // The OData cast to groups only (what a client asking for group memberships sends); every
    // membership the simulator models is a group, so the answer is the same.
    { method: 'GET', pattern: '/v1.0/servicePrincipals/{id}/transitiveMemberOf/microsoft.graph.group', handler: transitiveMemberOf },
  ],
};
