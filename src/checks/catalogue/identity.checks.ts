// Identity and access checks (prerequisites.md "Identity and access").
import { defineCheck, fail, hsmUnverifiable, info, pass, warn, type Change } from '../types';
import { grants, KEY_DATA_ACTIONS } from '../rbac';

/** Microsoft.KeyVault/vaults/keys/wrap/action → wrap */
const actionWord = (a: string) => a.replace(/^Microsoft\.KeyVault\/vaults\/keys\//, '').replace(/\/action$/, '');

const REQUIRED_POLICY_PERMS = ['get', 'wrapKey', 'unwrapKey'] as const;

/** `az identity create` for the identity the request names: its resource group and name, and the resource's region when known (else the group's). */
function createIdentityCommand(identityId: string, location: string): string {
  const segs = identityId.split('/');
  const rg = segs[4] || 'rg-identities';
  const name = segs[8] || 'id-cmk';
  return `az identity create --resource-group ${rg} --name ${name}${location ? ` --location ${location}` : ''}`;
}

export const identityExists = defineCheck({
  id: 'identity.exists',
  title: 'User-assigned identity exists',
  needs: ['identity'],
  evaluate: ({ identity }, { subject }) =>
    identity
      ? pass(`Identity ${identity.name} exists (principal ${identity.properties.principalId}).`, {
          principalId: identity.properties.principalId,
          clientId: identity.properties.clientId ?? null,
          tenantId: identity.properties.tenantId,
          location: identity.location,
        })
      : fail(`The user-assigned identity ${subject.identityId} was not found.`, `Create it (${createIdentityCommand(subject.identityId, subject.location)}) or pick an existing one.`, { identityId: subject.identityId }),
});

export const identityKeyPermissions = defineCheck({
  id: 'identity.key-permissions',
  title: 'Identity can get, wrap and unwrap with the key',
  needs: ['identity', 'vault', 'keyRef', 'roleGrants', 'identityGroups'],
  evaluate: ({ identity, vault, keyRef, roleGrants, identityGroups }) => {
    const hsm = hsmUnverifiable(keyRef, 'the identity’s access to the key');
    if (hsm) return hsm;
    if (!identity) return fail('Cannot check access: the identity was not found.', 'Fix identity.exists first.');
    if (!vault || !keyRef) return fail('Cannot check access: the key vault was not found.', 'Fix the key URL or vault first.');
    const principalId = identity.properties.principalId;
    if (vault.properties.enableRbacAuthorization) {
      const needed = [KEY_DATA_ACTIONS.read, KEY_DATA_ACTIONS.wrap, KEY_DATA_ACTIONS.unwrap];
      const full = roleGrants.find((g) => needed.every((a) => grants(g.permissions, a, 'data')));
      // Rights may also add up across several assignments.
      const union = needed.every((a) => roleGrants.some((g) => grants(g.permissions, a, 'data')));
      if (full || union) {
        const via = full ? [full] : roleGrants;
        return pass(`Granted by role ${via.map((g) => `"${g.roleName}" at ${g.assignment.properties.scope ?? 'inherited scope'}`).join(' and ')}.`, { model: 'rbac', principalId, roleAssignment: via.map((g) => g.assignment.id).join(', ') });
      }
      const missing = needed.filter((a) => !roleGrants.some((g) => grants(g.permissions, a, 'data')));
      return fail(
        `Identity ${identity.name} lacks the ${missing.map(actionWord).join(', ')} data action(s) on key ${keyRef.keyName} (vault ${vault.name} uses Azure RBAC).`,
        `Assign "Key Vault Crypto Service Encryption User": az role assignment create --assignee-object-id ${principalId} --assignee-principal-type ServicePrincipal --role "Key Vault Crypto Service Encryption User" --scope ${vault.id}/keys/${keyRef.keyName}`,
        { model: 'rbac', principalId, rolesFound: roleGrants.map((g) => g.roleName).join(', ') || 'none' },
        { command: 'grant-key-access', values: { identityId: identity.id, keyUrl: keyUrlOf(keyRef) } },
      );
    }
    // Access policies name object ids: the identity's own, or a group it belongs to (resolved through Microsoft Graph).
    const all = (vault.properties.accessPolicies ?? []).filter((p) => !p.applicationId);
    const groups = Array.isArray(identityGroups) ? new Set(identityGroups.map((g) => g.toLowerCase())) : new Set<string>();
    const own = all.filter((p) => p.objectId.toLowerCase() === principalId.toLowerCase());
    const viaGroup = all.filter((p) => groups.has(p.objectId.toLowerCase()));
    const permsOf = (ps: typeof all) => new Set(ps.flatMap((p) => (p.permissions.keys ?? []).map((k) => k.toLowerCase())));
    const missingFrom = (perms: Set<string>) => REQUIRED_POLICY_PERMS.filter((p) => !perms.has(p.toLowerCase()) && !perms.has('all'));
    const policies = [...own, ...viaGroup];
    const perms = permsOf(policies);
    const missing = missingFrom(perms);
    if (policies.length && missing.length === 0) {
      const groupIds = viaGroup.map((p) => p.objectId);
      return pass(
        own.length && !groupIds.length
          ? `Granted by the vault access policy for principal ${principalId} (keys: ${[...perms].join(', ')}).`
          : `Granted by the vault access policy for ${own.length ? `principal ${principalId} and ` : ''}group ${groupIds.join(', ')}, which ${identity.name} belongs to (Microsoft Graph, transitive membership; keys: ${[...perms].join(', ')}).`,
        { model: 'accessPolicy', principalId, ...(groupIds.length ? { viaGroups: groupIds.join(', ') } : {}) },
      );
    }
    // Policies for other object ids that would complete the rights: when membership cannot be read, say which, never fail silently.
    if (!Array.isArray(identityGroups)) {
      const candidates = all.filter((p) => p.objectId.toLowerCase() !== principalId.toLowerCase() && missingFrom(new Set([...perms, ...permsOf([p])])).length === 0);
      if (candidates.length) {
        const ids = candidates.map((p) => p.objectId);
        const why = identityGroups === 'forbidden' ? 'the bot may not read group memberships in Microsoft Graph (it needs GroupMember.Read.All)' : 'no Microsoft Graph endpoint is configured for the bot';
        return warn(
          `Vault ${vault.name} grants get, wrapKey and unwrapKey to ${ids.join(', ')} but not to ${identity.name} itself; if that is a group ${identity.name} belongs to, access works — but ${why}, so this could not be confirmed.`,
          `Confirm the membership: az ad group member check --group ${ids[0]} --member-id ${principalId}; or grant the identity directly: az keyvault set-policy --name ${vault.name} --object-id ${principalId} --key-permissions get wrapKey unwrapKey`,
          { model: 'accessPolicy', principalId, candidateGroups: ids.join(', '), membership: identityGroups },
        );
      }
    }
    return fail(
      policies.length
        ? `The access policy for ${identity.name} lacks key permission(s) ${missing.join(', ')}.`
        : `Vault ${vault.name} has no access policy for identity ${identity.name} (principal ${principalId})${Array.isArray(identityGroups) && all.some((p) => p.objectId.toLowerCase() !== principalId.toLowerCase()) ? ' or any group it belongs to' : ''}.`,
      `Grant them: az keyvault set-policy --name ${vault.name} --object-id ${principalId} --key-permissions get wrapKey unwrapKey`,
      { model: 'accessPolicy', principalId, keyPermissions: [...perms].join(', ') || 'none' },
      { command: 'vault-access-policy', values: { identityId: identity.id, keyUrl: keyUrlOf(keyRef) } },
    );
  },
});

/** The versionless key URL the remediation forms take (their key picker's values). */
function keyUrlOf(keyRef: { vaultName: string; keyName: string }): string {
  return `https://${keyRef.vaultName}.vault.azure.net/keys/${keyRef.keyName}`;
}

/** CMK uses a user-assigned identity; `targetType` names the service in the finding. */
export function identityUserAssigned({ targetType }: { targetType: string }) {
  return defineCheck({
    id: 'identity.user-assigned',
    title: 'CMK uses a user-assigned identity',
    needs: ['identity'],
    evaluate: ({ identity }, { subject }) => {
      const isUami = /\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i.test(subject.identityId);
      const type = subject.cmkIdentityType ?? 'UserAssigned';
      if (!isUami || type !== 'UserAssigned' || (identity?.type && identity.type.toLowerCase() !== 'microsoft.managedidentity/userassignedidentities')) {
        return fail(
          `CMK must use a user-assigned identity; this request names ${type} ${subject.identityId}. A system-assigned identity is not supported for ${targetType} CMK.`,
          'Create a user-assigned identity (az identity create …), grant it access to the key, and pick it in the form.',
          { identityType: type, identityId: subject.identityId },
        );
      }
      return pass('User-assigned identity.', { identityType: 'UserAssigned' });
    },
  });
}

/** The CMK identity is among the resource's identities: those the request gives it, or for a `review` those it has. */
export function identityAssignedToResource({ change }: { change: Change }) {
  return defineCheck({
    id: 'identity.assigned-to-resource',
    title: 'The CMK identity is assigned to the resource',
    needs: ['existing'],
    evaluate: ({ existing }, { subject }) => {
      const ids = change === 'review' ? Object.keys(existing?.identity?.userAssignedIdentities ?? {}) : (subject.assignedIdentityIds ?? []);
      const found = ids.some((i) => i.toLowerCase() === subject.identityId.toLowerCase());
      return found
        ? pass(`The resource carries ${subject.identityId.split('/').pop()} in identity.userAssignedIdentities.`, { assigned: ids.length })
        : fail(
            `The CMK identity ${subject.identityId.split('/').pop()} is not among the resource's user-assigned identities, so the service could not use it to reach the key.`,
            'Add the identity to the resource’s identity.userAssignedIdentities in the same request.',
            { assignedIdentities: ids.map((i) => i.split('/').pop()).join(', ') || 'none' },
          );
    },
  });
}

export const identitySameTenant = defineCheck({
  id: 'identity.same-tenant',
  title: 'Vault and identity are in the same Entra tenant',
  needs: ['vault', 'identity', 'keyRef'],
  evaluate: ({ vault, identity, keyRef }) => {
    const hsm = hsmUnverifiable(keyRef, 'the HSM’s tenant');
    if (hsm) return hsm;
    if (!vault || !identity) return fail('Cannot compare tenants: the vault or the identity was not found.', 'Fix the vault and identity checks first.');
    const evidence = { vaultTenant: vault.properties.tenantId, identityTenant: identity.properties.tenantId };
    return vault.properties.tenantId.toLowerCase() === identity.properties.tenantId.toLowerCase()
      ? pass(`Both in tenant ${vault.properties.tenantId}.`, evidence)
      : fail(
          `Vault ${vault.name} is in tenant ${vault.properties.tenantId} but identity ${identity.name} is in ${identity.properties.tenantId}; cross-tenant CMK is not supported here.`,
          'Use an identity and a vault from the same tenant as the resource.',
          evidence,
        );
  },
});

/**
 * Managed identities cache their tokens: "it can take several hours for changes to a managed
 * identity's permissions to take effect" (managed identities FAQ). Grants younger than this warn.
 */
export const GRANT_SETTLE_HOURS = 24;

export const identityGrantAge = defineCheck({
  id: 'identity.grant-age',
  title: 'The identity’s grants are old enough to be in effect',
  needs: ['roleGrants', 'blobGrants', 'vault'],
  evaluate: ({ roleGrants, blobGrants, vault }, { now }) => {
    const relevant = [
      ...roleGrants.filter((g) => Object.values(KEY_DATA_ACTIONS).some((a) => grants(g.permissions, a, 'data'))),
      ...blobGrants.filter((g) => grants(g.permissions, 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write', 'data')),
    ];
    if (!relevant.length) {
      return vault && !vault.properties.enableRbacAuthorization
        ? info(`Vault ${vault.name} grants keys through access policies, which carry no creation time; if the policy was added just now, allow time before the service uses it.`, { model: 'accessPolicy' })
        : info('No role assignment grants the identity access yet; see identity.key-permissions.', { grants: 0 });
    }
    const dated = relevant.map((g) => ({ g, at: g.assignment.properties.createdOn ? Date.parse(g.assignment.properties.createdOn) : NaN }));
    const undated = dated.filter((d) => Number.isNaN(d.at));
    const young = dated.filter((d) => !Number.isNaN(d.at) && now.getTime() - d.at < GRANT_SETTLE_HOURS * 3600_000).sort((a, b) => b.at - a.at);
    const ageOf = (at: number) => {
      const mins = Math.max(0, Math.round((now.getTime() - at) / 60_000));
      return mins < 120 ? `${mins} minute${mins === 1 ? '' : 's'}` : `${Math.round(mins / 60)} hours`;
    };
    if (young.length) {
      const newest = young[0]!;
      const ready = new Date(newest.at + GRANT_SETTLE_HOURS * 3600_000).toISOString();
      return warn(
        `Role "${newest.g.roleName}" at ${newest.g.assignment.properties.scope ?? 'an inherited scope'} was granted ${ageOf(newest.at)} ago; it can take several hours for a managed identity's new permissions to take effect, so the service may not reach the key yet.`,
        `Approve after ${ready}, or ask for \`check\` on the request then; the checks run again right before the write.`,
        { roleAssignment: newest.g.assignment.id, createdOn: newest.g.assignment.properties.createdOn ?? null, ageMinutes: Math.round((now.getTime() - newest.at) / 60_000) },
      );
    }
    if (undated.length === relevant.length) return info('The role assignments found carry no creation time, so their age is unknown.', { roleAssignment: undated.map((d) => d.g.assignment.id).join(', ') });
    const newest = dated.filter((d) => !Number.isNaN(d.at)).sort((a, b) => b.at - a.at)[0]!;
    return pass(`The newest grant ("${newest.g.roleName}") was made ${ageOf(newest.at)} ago, long enough to be in effect.`, {
      roleAssignment: newest.g.assignment.id,
      createdOn: newest.g.assignment.properties.createdOn ?? null,
    });
  },
});
