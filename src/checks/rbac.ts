// Azure RBAC action matching: a role grants an action when one of its (data)actions matches it
// — with `*` wildcards, case-insensitively — and none of its not(Data)Actions does.

export interface RolePermission {
  actions?: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
}

/**
 * ARM's wildcard: `*` stands for any characters, none included, in any position — so a whole
 * `/*` segment may also be absent: Managed Identity Operator's
 * `Microsoft.ManagedIdentity/userAssignedIdentities/*\/assign/action` grants the concrete
 * `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action`.
 */
function toRegex(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .split('/*/')
    .map((part) => part.replace(/\*/g, '.*'))
    .join('/(?:.*/)?');
  return new RegExp(`^${escaped}$`, 'i');
}

export function matchesAny(action: string, patterns: string[] | undefined): boolean {
  return (patterns ?? []).some((p) => toRegex(p).test(action));
}

export function grants(perms: RolePermission[], action: string, kind: 'data' | 'control'): boolean {
  return perms.some((p) => (kind === 'data' ? matchesAny(action, p.dataActions) && !matchesAny(action, p.notDataActions) : matchesAny(action, p.actions) && !matchesAny(action, p.notActions)));
}

export const KEY_DATA_ACTIONS = {
  read: 'Microsoft.KeyVault/vaults/keys/read',
  wrap: 'Microsoft.KeyVault/vaults/keys/wrap/action',
  unwrap: 'Microsoft.KeyVault/vaults/keys/unwrap/action',
} as const;
