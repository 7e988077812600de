// Microsoft.Authorization: role assignments (list with ARM's $filter semantics, get, create,
// delete), role definitions, and the caller's effective permissions at a scope.
import { principalAndGroups } from '../directory';
import { isObject, page, parseResourceId, requireScope, scopeContains } from '../arm';
import { BUILTIN_ROLES } from '../builtin-roles';
import { PERMISSIONS_VERSIONS, ROLE_ASSIGNMENT_VERSIONS, ROLE_DEFINITION_VERSIONS } from '../api-versions';
import { ArmError } from '../errors';
import type { SimProvider, SimRequest } from '../provider';
import { assignmentProps, effectivePermissions, requireAction, ROLE_ASSIGNMENT_TYPE, ROLE_DEFINITION_TYPE, roleDefinition, roleDefinitionStoreId, roleGuidOf } from '../rbac';
import * as ids from '../seed-ids';
import type { SimResource, SimState } from '../state';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Role definition id as role assignments carry it: subscription-scoped when the scope has a subscription. */
function scopedRoleDefinitionId(scope: string, roleGuid: string): string {
  const sub = parseResourceId(scope)?.subscriptionId;
  return `${sub ? `/subscriptions/${sub}` : ''}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
}

export interface RoleAssignmentSpec {
  /** GUID name of the assignment. */
  name: string;
  scope: string;
  roleGuid: string;
  principalId: string;
  principalType?: 'User' | 'Group' | 'ServicePrincipal' | 'ForeignGroup';
  createdOn: string;
  createdBy?: string;
  description?: string;
}

export function roleAssignmentResource(spec: RoleAssignmentSpec): SimResource {
  return {
    id: `${spec.scope}/providers/Microsoft.Authorization/roleAssignments/${spec.name}`,
    name: spec.name,
    type: ROLE_ASSIGNMENT_TYPE,
    properties: {
      roleDefinitionId: scopedRoleDefinitionId(spec.scope, spec.roleGuid),
      principalId: spec.principalId,
      principalType: spec.principalType ?? 'ServicePrincipal',
      scope: spec.scope,
      condition: null,
      conditionVersion: null,
      createdOn: spec.createdOn,
      updatedOn: spec.createdOn,
      createdBy: spec.createdBy ?? ids.SIM_BOT_PRINCIPAL_ID,
      updatedBy: spec.createdBy ?? ids.SIM_BOT_PRINCIPAL_ID,
      ...(spec.description !== undefined ? { description: spec.description } : {}),
    },
  };
}

function renderRoleDefinition(role: SimResource, scope: string): SimResource {
  return { ...role, id: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${role.name}` };
}

// ---------------------------------------------------------------------------------------------
// $filter of RoleAssignments_ListForScope

interface AssignmentFilter {
  atScope: boolean;
  principalId?: string;
  /** assignedTo(): the principal's own assignments and those of every group it belongs to (transitively). */
  transitive?: boolean;
}

const UNSUPPORTED_FILTER = (filter: string) => new ArmError(400, 'UnsupportedQuery', `The filter '${filter}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{value}'' or 'assignedTo('{value}')'.`);

function parseAssignmentFilter(filter: string | undefined): AssignmentFilter {
  const out: AssignmentFilter = { atScope: false };
  if (filter === undefined || filter.trim() === '') return out;
  for (const clause of filter.trim().split(/\s+and\s+/i)) {
    let m: RegExpExecArray | null;
    if (/^atScope\(\)$/i.test(clause)) out.atScope = true;
    else if ((m = /^principalId\s+eq\s+'?([0-9a-fA-F-]{36})'?$/i.exec(clause))) out.principalId = m[1]!;
    // assignedTo() is transitive through group membership; principalId eq is not.
    else if ((m = /^assignedTo\('([0-9a-fA-F-]{36})'\)$/i.exec(clause))) {
      out.principalId = m[1]!;
      out.transitive = true;
    } else throw UNSUPPORTED_FILTER(filter);
  }
  return out;
}

/**
 * No filter: assignments at, above and below the scope. atScope(): at or above.
 * principalId eq: that principal's own assignments; assignedTo(): also its groups' (transitively); at, above and below
 * (at or above when combined with atScope()).
 */
export function listRoleAssignments(state: SimState, scope: string, filter: AssignmentFilter): SimResource[] {
  const who = filter.principalId === undefined ? undefined : filter.transitive ? principalAndGroups(state, filter.principalId) : new Set([filter.principalId.toLowerCase()]);
  return state.ofType(ROLE_ASSIGNMENT_TYPE).filter((a) => {
    const p = assignmentProps(a);
    if (who !== undefined && !who.has(p.principalId.toLowerCase())) return false;
    const atOrAbove = scopeContains(p.scope, scope);
    return filter.atScope ? atOrAbove : atOrAbove || scopeContains(scope, p.scope);
  });
}

const AUTH = '{*scope}/providers/Microsoft.Authorization';

function scopeOf(req: SimRequest): string {
  return req.params['scope'] ?? '';
}

export const authorizationProvider: SimProvider = {
  namespace: 'Microsoft.Authorization',
  apiVersions: ROLE_ASSIGNMENT_VERSIONS,
  seed: seedAuthorization,
  routes: [
    {
      method: 'GET',
      pattern: `${AUTH}/roleAssignments`,
      resourceType: 'roleAssignments',
      handler: (req, ctx) => {
        const scope = scopeOf(req);
        requireScope(ctx.state, scope);
        const items = listRoleAssignments(ctx.state, scope, parseAssignmentFilter(req.query['$filter']));
        return { status: 200, body: page(items, req, ctx, 200) };
      },
    },
    {
      method: 'GET',
      pattern: `${AUTH}/roleAssignments/{name}`,
      resourceType: 'roleAssignments',
      handler: (req, ctx) => {
        const scope = scopeOf(req);
        requireScope(ctx.state, scope);
        const found = ctx.state.get(`${scope}/providers/Microsoft.Authorization/roleAssignments/${req.params['name']}`);
        if (!found) throw new ArmError(404, 'RoleAssignmentNotFound', `The role assignment '${req.params['name']}' is not found.`);
        return { status: 200, body: found };
      },
    },
    {
      method: 'PUT',
      pattern: `${AUTH}/roleAssignments/{name}`,
      resourceType: 'roleAssignments',
      handler: (req, ctx) => {
        const scope = scopeOf(req);
        const name = req.params['name']!;
        requireScope(ctx.state, scope);
        requireAction(ctx.state, ctx.caller, scope, 'Microsoft.Authorization/roleAssignments/write');
        if (!GUID.test(name)) {
          throw new ArmError(400, 'InvalidRoleAssignmentId', `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`);
        }
        const props = isObject(req.body) && isObject(req.body['properties']) ? req.body['properties'] : {};
        const roleDefinitionId = typeof props['roleDefinitionId'] === 'string' ? props['roleDefinitionId'] : '';
        const principalId = typeof props['principalId'] === 'string' ? props['principalId'] : '';
        if (!roleDefinition(ctx.state, roleDefinitionId)) {
          throw new ArmError(400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${roleGuidOf(roleDefinitionId)}' does not exist.`);
        }
        if (!GUID.test(principalId)) throw new ArmError(400, 'InvalidPrincipalId', 'A valid principal ID must be provided for role assignment.');
        const roleGuid = roleGuidOf(roleDefinitionId);
        const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
        const existing = ctx.state.get(id);
        const duplicate = ctx.state.ofType(ROLE_ASSIGNMENT_TYPE).find((a) => {
          const p = assignmentProps(a);
          return (
            a.id.toLowerCase() !== id.toLowerCase() && p.scope.toLowerCase() === scope.toLowerCase() && p.principalId.toLowerCase() === principalId.toLowerCase() && roleGuidOf(p.roleDefinitionId).toLowerCase() === roleGuid.toLowerCase()
          );
        });
        if (duplicate) throw new ArmError(409, 'RoleAssignmentExists', 'The role assignment already exists.');
        if (existing) {
          const p = assignmentProps(existing);
          if (p.principalId.toLowerCase() !== principalId.toLowerCase() || roleGuidOf(p.roleDefinitionId).toLowerCase() !== roleGuid.toLowerCase()) {
            throw new ArmError(409, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
          }
          return { status: 200, body: existing };
        }
        const created = ctx.state.put(
          roleAssignmentResource({
            name,
            scope,
            roleGuid,
            principalId,
            principalType: (props['principalType'] as RoleAssignmentSpec['principalType']) ?? 'User',
            createdOn: new Date(ctx.now()).toISOString(),
            createdBy: ctx.caller,
            ...(typeof props['description'] === 'string' ? { description: props['description'] } : {}),
          }),
        );
        return { status: 201, body: created };
      },
    },
    {
      method: 'DELETE',
      pattern: `${AUTH}/roleAssignments/{name}`,
      resourceType: 'roleAssignments',
      handler: (req, ctx) => {
        const scope = scopeOf(req);
        requireScope(ctx.state, scope);
        requireAction(ctx.state, ctx.caller, scope, 'Microsoft.Authorization/roleAssignments/delete');
        const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${req.params['name']}`;
        const existing = ctx.state.get(id);
        if (!existing) return { status: 204 };
        ctx.state.delete(id);
        return { status: 200, body: existing };
      },
    },
    {
      method: 'GET',
      pattern: `${AUTH}/roleDefinitions`,
      resourceType: 'roleDefinitions',
      apiVersions: ROLE_DEFINITION_VERSIONS,
      handler: (req, ctx) => {
        const scope = scopeOf(req);
        requireScope(ctx.state, scope);
        const filter = req.query['$filter'];
        let roles = ctx.state.ofType(ROLE_DEFINITION_TYPE);
        if (filter !== undefined && filter.trim() !== '') {
          const m = /^\s*(roleName|type)\s+eq\s+'([^']*)'\s*$/i.exec(filter);
          if (!m) throw new ArmError(400, 'UnsupportedQuery', `The filter '${filter}' is not supported. Supported filters are roleName eq '{value}' and type eq '{value}'.`);
          const field = m[1]!.toLowerCase() === 'rolename' ? 'roleName' : 'type';
          roles = roles.filter((r) => String((r.properties as Record<string, unknown>)[field]).toLowerCase() === m![2]!.toLowerCase());
        }
        return {
          status: 200,
          body: page(
            roles.map((r) => renderRoleDefinition(r, scope)),
            req,
            ctx,
            200,
          ),
        };
      },
    },
    {
      method: 'GET',
      pattern: `${AUTH}/roleDefinitions/{roleId}`,
      resourceType: 'roleDefinitions',
      apiVersions: ROLE_DEFINITION_VERSIONS,
      handler: (req, ctx) => {
        const scope = scopeOf(req);
        requireScope(ctx.state, scope);
        const role = ctx.state.get(roleDefinitionStoreId(req.params['roleId']!));
        if (!role) throw new ArmError(404, 'RoleDefinitionDoesNotExist', `The role definition '${req.params['roleId']}' could not be found.`);
        return { status: 200, body: renderRoleDefinition(role, scope) };
      },
    },
    {
      method: 'GET',
      pattern: `${AUTH}/permissions`,
      resourceType: 'permissions',
      apiVersions: PERMISSIONS_VERSIONS,
      handler: (req, ctx) => {
        const scope = scopeOf(req);
        requireScope(ctx.state, scope);
        return { status: 200, body: { value: effectivePermissions(ctx.state, ctx.caller, scope) } };
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// Seed

const CUSTOM_ROLES: readonly { name: string; roleName: string; description: string; dataActions: string[] }[] = [
  {
    name: ids.SIM_ROLE_WRAP_ONLY,
    roleName: 'Key Wrap Only (custom)',
    description: 'Read key metadata and wrap with keys (no unwrap).',
    dataActions: ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/wrap/action'],
  },
  {
    name: ids.SIM_ROLE_KEYS_WILDCARD,
    roleName: 'Key Vault Keys Operator (custom)',
    description: 'Every data action on keys.',
    dataActions: ['Microsoft.KeyVault/vaults/keys/*'],
  },
];

function seedAuthorization(state: SimState, { nowSeconds }: { nowSeconds: number }): void {
  const createdAt = new Date((nowSeconds - 300 * 24 * 3600) * 1000).toISOString();
  for (const role of BUILTIN_ROLES) {
    state.put({
      id: roleDefinitionStoreId(role.name),
      name: role.name,
      type: ROLE_DEFINITION_TYPE,
      properties: {
        roleName: role.roleName,
        type: 'BuiltInRole',
        description: role.description,
        assignableScopes: ['/'],
        permissions: role.permissions,
        createdOn: '2015-02-02T21:55:09.8806423Z',
        updatedOn: createdAt,
        createdBy: null,
        updatedBy: null,
      },
    });
  }
  // Custom roles, defined in (and assignable only within) the main subscription.
  for (const custom of CUSTOM_ROLES) {
    state.put({
      id: roleDefinitionStoreId(custom.name),
      name: custom.name,
      type: ROLE_DEFINITION_TYPE,
      properties: {
        roleName: custom.roleName,
        type: 'CustomRole',
        description: custom.description,
        assignableScopes: [ids.simSubscriptionId()],
        permissions: [{ actions: [], notActions: [], dataActions: custom.dataActions, notDataActions: [] }],
        createdOn: createdAt,
        updatedOn: createdAt,
        createdBy: 'platform-admin@contoso.example',
        updatedBy: 'platform-admin@contoso.example',
      },
    });
  }
  const r = ids.BUILTIN_ROLE_IDS;
  // The bot: Reader on both subscriptions; Contributor + Managed Identity Operator only on the
  // two working groups, so rg-locked and rg-identities-locked are read-only to it.
  const seeded: Record<keyof typeof ids.SIM_ROLE_ASSIGNMENT_NAMES, [roleGuid: string, principalId: string]> = {
    botContributor: [r.contributor, ids.SIM_BOT_PRINCIPAL_ID],
    botManagedIdentityOperator: [r.managedIdentityOperator, ids.SIM_BOT_PRINCIPAL_ID],
    botReaderSandbox: [r.reader, ids.SIM_BOT_PRINCIPAL_ID],
    botContributorWest: [r.contributor, ids.SIM_BOT_PRINCIPAL_ID],
    botManagedIdentityOperatorWest: [r.managedIdentityOperator, ids.SIM_BOT_PRINCIPAL_ID],
    botReader: [r.reader, ids.SIM_BOT_PRINCIPAL_ID],
    botContributorLabs: [r.contributor, ids.SIM_BOT_PRINCIPAL_ID],
    identityCryptoOnRbacVault: [r.keyVaultCryptoServiceEncryptionUser, ids.SIM_IDENTITY_PRINCIPAL_ID],
    westIdentityCryptoOnRbacVault: [r.keyVaultCryptoServiceEncryptionUser, ids.SIM_IDENTITY_WEST_PRINCIPAL_ID],
    identityCryptoOnFirewallVault: [r.keyVaultCryptoServiceEncryptionUser, ids.SIM_IDENTITY_PRINCIPAL_ID],
    westIdentityCryptoOnWestRg: [r.keyVaultCryptoServiceEncryptionUser, ids.SIM_IDENTITY_WEST_PRINCIPAL_ID],
    otherTenantIdentityCryptoOnRbacVault: [r.keyVaultCryptoServiceEncryptionUser, ids.SIM_IDENTITY_OTHER_TENANT_PRINCIPAL_ID],
    wrapOnlyIdentityOnRbacVault: [ids.SIM_ROLE_WRAP_ONLY, ids.SIM_IDENTITY_WRAP_ONLY_PRINCIPAL_ID],
    inheritedIdentityCryptoOnRg: [r.keyVaultCryptoServiceEncryptionUser, ids.SIM_IDENTITY_INHERITED_PRINCIPAL_ID],
    customRoleIdentityOnRbacVault: [ids.SIM_ROLE_KEYS_WILDCARD, ids.SIM_IDENTITY_CUSTOM_ROLE_PRINCIPAL_ID],
    noAssignIdentityCryptoOnRbacVault: [r.keyVaultCryptoServiceEncryptionUser, ids.SIM_IDENTITY_NO_ASSIGN_PRINCIPAL_ID],
    // The Chaos Studio UMI may write blobs on every seeded storage account but stnoblobrole.
    identityBlobOnCmkStorage: [r.storageBlobDataContributor, ids.SIM_IDENTITY_PRINCIPAL_ID],
    identityBlobOnNoCmkStorage: [r.storageBlobDataContributor, ids.SIM_IDENTITY_PRINCIPAL_ID],
    identityBlobOnPrivateStorage: [r.storageBlobDataContributor, ids.SIM_IDENTITY_PRINCIPAL_ID],
    identityBlobOnBadKeyStorage: [r.storageBlobDataContributor, ids.SIM_IDENTITY_PRINCIPAL_ID],
    groupCryptoOnRbacVault: [r.keyVaultCryptoServiceEncryptionUser, ids.SIM_GROUP_CRYPTO],
  };
  const groupAssignments: ReadonlySet<string> = new Set(['groupCryptoOnRbacVault']);
  const seeds: RoleAssignmentSpec[] = Object.entries(seeded).map(([key, [roleGuid, principalId]]) => ({
    name: ids.SIM_ROLE_ASSIGNMENT_NAMES[key as keyof typeof seeded],
    scope: ids.SIM_ROLE_ASSIGNMENT_SCOPES[key as keyof typeof seeded],
    roleGuid,
    principalId,
    ...(groupAssignments.has(key) ? { principalType: 'Group' as const } : {}),
    createdOn: createdAt,
  }));
  for (const spec of seeds) state.put(roleAssignmentResource(spec));
}
