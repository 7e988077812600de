// Azure RBAC as ARM evaluates it: role assignments at or above a scope, each role granting
// (actions − notActions) and (dataActions − notDataActions), with '*' wildcards.
import { scopeContains } from './arm';
import { principalAndGroups } from './directory';
import { authorizationFailed } from './errors';
import type { SimResource, SimState } from './state';

export const ROLE_ASSIGNMENT_TYPE = 'Microsoft.Authorization/roleAssignments';
export const ROLE_DEFINITION_TYPE = 'Microsoft.Authorization/roleDefinitions';

export interface RolePermission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface RoleAssignmentProperties {
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
  scope: string;
  [extra: string]: unknown;
}

export function roleDefinitionStoreId(roleGuid: string): string {
  return `/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
}

/** The GUID at the end of a role definition id (any of its scoped forms). */
export function roleGuidOf(roleDefinitionId: string): string {
  return roleDefinitionId.split('/').filter(Boolean).pop() ?? '';
}

export function assignmentProps(a: SimResource): RoleAssignmentProperties {
  return a.properties as RoleAssignmentProperties;
}

/** Role assignments whose scope is at or above `scope`, optionally for one principal (its own and its groups'). */
export function assignmentsCovering(state: SimState, scope: string, principalId?: string): SimResource[] {
  // Azure RBAC honours assignments to any group the principal belongs to, transitively.
  const who = principalId === undefined ? undefined : principalAndGroups(state, principalId);
  return state.ofType(ROLE_ASSIGNMENT_TYPE).filter((a) => {
    const p = assignmentProps(a);
    if (who !== undefined && !who.has(p.principalId.toLowerCase())) return false;
    return scopeContains(p.scope, scope);
  });
}

export function roleDefinition(state: SimState, roleDefinitionId: string): SimResource | undefined {
  return state.get(roleDefinitionStoreId(roleGuidOf(roleDefinitionId)));
}

export function rolePermissions(role: SimResource | undefined): RolePermission[] {
  const perms = (role?.properties as { permissions?: Partial<RolePermission>[] } | undefined)?.permissions ?? [];
  return perms.map((p) => ({
    actions: p.actions ?? [],
    notActions: p.notActions ?? [],
    dataActions: p.dataActions ?? [],
    notDataActions: p.notDataActions ?? [],
  }));
}

/** One permission entry per role assignment of the principal at or above the scope (what the permissions API returns). */
export function effectivePermissions(state: SimState, principalId: string, scope: string): RolePermission[] {
  return assignmentsCovering(state, scope, principalId).flatMap((a) => rolePermissions(roleDefinition(state, assignmentProps(a).roleDefinitionId)));
}

function wildcardToRegExp(pattern: string): RegExp {
  // A whole-segment '*' also matches no segment at all: Managed Identity Operator's
  // '.../userAssignedIdentities/*/assign/action' grants '.../userAssignedIdentities/assign/action'.
  const escaped = pattern
    .split('/*/')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*'))
    .join('(?:/.*)?/');
  return new RegExp(`^${escaped}$`, 'i');
}

export function operationMatches(pattern: string, operation: string): boolean {
  return wildcardToRegExp(pattern).test(operation);
}

/** Whether any entry grants `operation` (a control-plane action or a data action) without excluding it. */
export function permits(perms: RolePermission[], operation: string, kind: 'action' | 'dataAction'): boolean {
  return perms.some((p) => {
    const allow = kind === 'action' ? p.actions : p.dataActions;
    const deny = kind === 'action' ? p.notActions : p.notDataActions;
    return allow.some((a) => operationMatches(a, operation)) && !deny.some((d) => operationMatches(d, operation));
  });
}

export function principalCan(state: SimState, principalId: string, scope: string, operation: string, kind: 'action' | 'dataAction' = 'action'): boolean {
  return permits(effectivePermissions(state, principalId, scope), operation, kind);
}

/** ARM's authorization of the caller for a control-plane action; throws 403 AuthorizationFailed. */
export function requireAction(state: SimState, caller: string, scope: string, action: string): void {
  if (!principalCan(state, caller, scope, action)) throw authorizationFailed(caller, action, scope);
}
