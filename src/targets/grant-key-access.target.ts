// Remediation: a grant of access to key material. The identity gets a Key Vault data role (Key
// Vault Crypto Service Encryption User by default) at the key or the vault — PUT
// Microsoft.Authorization/roleAssignments/{GUID} (2022-04-01), shaped like
// RoleAssignments_CreateForResource.json. The GUID is derived from (scope, principal, role), so a
// resent write names the same assignment; an equal assignment under another name (409
// RoleAssignmentExists) is the change already in place, verified by listing the scope.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import { identityExists, identitySameTenant } from '../checks/catalogue/identity.checks';
import { keyUrlFormat, keyVaultFound } from '../checks/catalogue/key.checks';
import { API, type CmkSubject } from '../checks/facts';
import { parseKeyUrl } from '../checks/key-url';
import { grants } from '../checks/rbac';
import { defineCheck, fail, pass, type Check } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { FIELD, identityField, keyUrlField } from './fields';
import type { Target } from './types';
import { scopesOf, vaultScope } from './scopes';
import { subscriptionOf } from '../domain/resource-id';

/** The Key Vault data roles that carry get, wrap and unwrap on keys (built-in role GUIDs). */
export const KEY_DATA_ROLES = [
  { value: 'e147488a-f6f5-4113-8e2d-b22465e65bf6', title: 'Key Vault Crypto Service Encryption User (get, wrap, unwrap: what CMK needs)' },
  { value: '12338af0-0e69-4776-bea7-57ae8d297424', title: 'Key Vault Crypto User (every cryptographic operation)' },
] as const;
const [CSEU, CRYPTO_USER] = [KEY_DATA_ROLES[0].value, KEY_DATA_ROLES[1].value];
const ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments/';
const WRITE_ACTION = 'Microsoft.Authorization/roleAssignments/write';

/** A choice as submitted: trimmed, any case; empty is no choice (the default). */
const choice = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v);

export const grantSchema = z.object({
  identityId: identityField(),
  keyUrl: keyUrlField(),
  scopeLevel: z.preprocess(choice, z.enum(['key', 'vault'], { error: 'Scope must be "key" or "vault"' }).default('key')),
  roleId: z.preprocess(choice, z.enum([CSEU, CRYPTO_USER], { error: 'Role must be one of the Key Vault data roles offered' }).default(CSEU)),
  /** Read before planning: the key's vault and the identity's principal. */
  vaultId: z.string().optional(),
  principalId: z.string().optional(),
});
export type GrantParams = z.infer<typeof grantSchema>;

const roleName = (roleId: string) => KEY_DATA_ROLES.find((r) => r.value === roleId)?.title.replace(/ \(.*$/, '') ?? roleId;

/** The role assignment's scope: the key, or its vault ('' until the vault is found). */
export function grantScope(p: GrantParams): string {
  if (!p.vaultId) return '';
  const ref = parseKeyUrl(p.keyUrl);
  return p.scopeLevel === 'vault' || !ref.ok ? p.vaultId : `${p.vaultId}/keys/${ref.ref.keyName}`;
}

/** A GUID named by what the assignment is: the same scope, principal and role give the same name. */
export function assignmentName(scope: string, principalId: string, roleId: string): string {
  const h = createHash('sha256').update(`${scope.toLowerCase()}|${principalId.toLowerCase()}|${roleId.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const assignmentId = (p: GrantParams) => {
  const scope = grantScope(p) || p.identityId;
  return `${scope}${ASSIGNMENTS}${assignmentName(scope, p.principalId ?? '', p.roleId)}`;
};

/**
 * Finds the vault of that name (names are global): in the identity's subscription first, then every
 * enabled one the bot reads — the order the checks' vault lookup uses (checks/facts.ts vaultIdFor).
 * Only "not there" is absent: a refused or throttled read is Azure's answer, shown as such.
 */
export async function findVault(arm: ArmGateway, vaultName: string, firstSubscription: string): Promise<string | undefined> {
  const filter = { $filter: `resourceType eq 'Microsoft.KeyVault/vaults' and name eq '${vaultName}'` };
  const inSub = (sub: string) => arm.list<{ id: string }>(`/subscriptions/${sub}/resources`, API.resources, filter);
  const here = (await inSub(firstSubscription))[0]?.id;
  if (here) return here;
  const subs = await arm.list<{ subscriptionId: string; state?: string }>('/subscriptions', API.subscriptions);
  for (const s of subs.filter((x) => x.subscriptionId.toLowerCase() !== firstSubscription.toLowerCase() && (!x.state || x.state === 'Enabled'))) {
    const id = (await inSub(s.subscriptionId))[0]?.id;
    if (id) return id;
  }
  return undefined;
}

/** Reads the key's vault and the identity's principal id, which the plan names. */
export async function prepareGrant<P extends { identityId: string; keyUrl: string; vaultId?: string; principalId?: string }>(p: P, arm: ArmGateway): Promise<P> {
  const ref = parseKeyUrl(p.keyUrl);
  const [identity, vaultId] = await Promise.all([
    arm.getOrNull<{ properties?: { principalId?: string } }>(p.identityId, API.managedIdentity),
    ref.ok && ref.ref.kind !== 'managedHsm' ? findVault(arm, ref.ref.vaultName, subscriptionOf(p.identityId)) : Promise.resolve(undefined),
  ]);
  return { ...p, vaultId, principalId: identity?.properties?.principalId };
}

const vaultUsesRbac = defineCheck({
  id: 'grant.vault-rbac',
  title: 'The vault decides access by Azure RBAC',
  needs: ['vault'],
  evaluate: ({ vault }) => {
    if (!vault) return fail('Cannot tell how the vault grants access: it was not found.', 'Fix key.vault-found first.');
    return vault.properties.enableRbacAuthorization
      ? pass(`Vault ${vault.name} uses Azure RBAC: a role assignment grants access.`, { enableRbacAuthorization: true })
      : fail(`Vault ${vault.name} uses access policies, which ignore role assignments: this grant would change nothing.`, 'Add an access policy instead: `new vault-access-policy` (get, wrap key, unwrap key for the identity).', {
          enableRbacAuthorization: false,
        });
  },
});

const botMayAssign = defineCheck({
  id: 'bot.can-write',
  title: 'The bot may create role assignments there',
  needs: ['botRightsAtTarget'],
  evaluate: ({ botRightsAtTarget }, { subject }) => {
    const rg = subject.resourceId.split('/').slice(0, 5).join('/');
    return grants(botRightsAtTarget, WRITE_ACTION, 'control')
      ? pass(`The bot holds ${WRITE_ACTION} at ${rg}.`, { writeAction: WRITE_ACTION, scope: rg })
      : fail(
          `The bot's identity lacks ${WRITE_ACTION} at ${rg}, so Azure would refuse the grant after approval.`,
          `Give the bot's identity the cmk-chatops-remediation role (deploy/README.md), with its condition limiting it to the Key Vault data roles, at ${rg}.`,
          { writeAction: WRITE_ACTION, scope: rg },
        );
  },
});

const CHECKS: readonly Check[] = [keyUrlFormat, keyVaultFound, vaultUsesRbac, identityExists, identitySameTenant, botMayAssign] as Check[];

const assignmentSchema = z.object({ id: z.string(), properties: z.object({ roleDefinitionId: z.string(), principalId: z.string(), scope: z.string().optional() }) });
const planned = (plan: ArmWritePlan) => {
  const props = (plan.body.properties ?? {}) as { roleDefinitionId: string; principalId: string };
  return { scope: plan.resourceId.slice(0, plan.resourceId.toLowerCase().lastIndexOf(ASSIGNMENTS.toLowerCase())), role: props.roleDefinitionId.split('/').pop() ?? '', principalId: props.principalId };
};

export const grantKeyAccessTarget: Target<GrantParams> = {
  type: 'grant-key-access',
  displayName: 'Grant of key access',
  // A grant is no CMK resource to review: `check <role assignment id>` is refused.
  reviews: false,
  entry: {
    command: 'grant-key-access',
    help: 'grant an identity a Key Vault data role on a key or its vault — access to key material (`new grant-key-access <identity id>` starts with that identity)',
    startsFrom: { resourceType: 'Microsoft.ManagedIdentity/userAssignedIdentities', usage: '`new grant-key-access` takes the resource id of a user-assigned identity (or nothing, to pick one).' },
  },
  form: {
    title: 'Grant key access',
    heading: 'Grant an identity access to key material',
    intro: 'A role assignment on a vault that uses Azure RBAC: the identity may then use the key (get, wrap, unwrap) for encryption at rest. This is a grant of access to key material; approvers see exactly which role, key and identity.',
    submitLabel: 'Request the grant',
  },
  prefill: { read: false, values: (resourceId) => ({ values: { identityId: resourceId } }) },
  resourceType: 'Microsoft.Authorization/roleAssignments',
  apiVersion: API.authorization,
  schema: grantSchema,
  fields: [
    FIELD.identity('The user-assigned identity that is to use the key.'),
    { ...FIELD.key, hint: 'The key the identity is to use; its vault must use Azure RBAC.' },
    {
      name: 'scopeLevel',
      label: 'Scope',
      kind: 'options',
      required: true,
      default: 'key',
      hint: 'The key alone (least access), or every key in its vault.',
      options: [
        { title: 'This key only', value: 'key' },
        { title: 'Every key in the vault', value: 'vault' },
      ],
    },
    { name: 'roleId', label: 'Role', kind: 'options', required: true, default: CSEU, options: KEY_DATA_ROLES.map((r) => ({ title: r.title, value: r.value })) },
  ],
  resourceId: assignmentId,
  prepare: prepareGrant,
  plan: (p): ArmWritePlan => ({
    method: 'PUT',
    resourceId: assignmentId(p),
    apiVersion: API.authorization,
    body: {
      properties: {
        roleDefinitionId: `/subscriptions/${subscriptionOf(p.vaultId ?? p.identityId)}/providers/Microsoft.Authorization/roleDefinitions/${p.roleId}`,
        principalId: p.principalId ?? '',
        principalType: 'ServicePrincipal',
      },
    },
  }),
  scopes: (p, checks) => scopesOf(p.vaultId ? { role: 'resource', id: grantScope(p) } : undefined, vaultScope(checks), { role: 'identity', id: p.identityId }),
  subject: (p): CmkSubject => ({
    resourceId: grantScope(p) || p.identityId,
    subscriptionId: subscriptionOf(p.vaultId ?? p.identityId),
    location: '',
    keyUrl: p.keyUrl,
    identityId: p.identityId,
  }),
  reviewSubject: (r: ArmResource): CmkSubject => ({ resourceId: r.id, subscriptionId: subscriptionOf(r.id), location: '', keyUrl: '', identityId: '' }),
  checks: CHECKS,
  summary: (p) => [
    { title: 'Grants', value: `access to key material: ${roleName(p.roleId)}` },
    { title: 'To identity', value: `${p.identityId.split('/').pop() ?? ''}${p.principalId ? ` (principal ${p.principalId})` : ''}` },
    { title: 'On', value: p.scopeLevel === 'vault' ? `every key in vault ${p.vaultId?.split('/').pop() ?? '?'}` : `key ${p.keyUrl}` },
  ],
  irreversible: () => [],
  readBack: async (plan, arm) => {
    const want = planned(plan);
    const list = await arm.list<unknown>(`${want.scope}/providers/Microsoft.Authorization/roleAssignments`, API.authorization, { $filter: `principalId eq '${want.principalId}'` });
    const found = list
      .map((a) => assignmentSchema.safeParse(a))
      .flatMap((r) => (r.success ? [r.data] : []))
      .find((a) => (a.properties.scope ?? '').toLowerCase() === want.scope.toLowerCase() && a.properties.roleDefinitionId.split('/').pop()?.toLowerCase() === want.role.toLowerCase());
    return found as ArmResource | undefined;
  },
  alreadyInPlace: (e) => (e.status === 409 && e.code === 'RoleAssignmentExists' ? 'Azure answered 409 RoleAssignmentExists: the identity holds this role at this scope already; not an error.' : undefined),
  verify: (plan, actual): CheckResult => {
    const want = planned(plan);
    const got = assignmentSchema.safeParse(actual);
    const base = { id: 'grant.verify', title: 'The role assignment is in place' };
    const ok =
      got.success &&
      got.data.properties.principalId.toLowerCase() === want.principalId.toLowerCase() &&
      (got.data.properties.roleDefinitionId.split('/').pop() ?? '').toLowerCase() === want.role.toLowerCase() &&
      (got.data.properties.scope ?? '').toLowerCase() === want.scope.toLowerCase();
    const evidence: Record<string, string | null> = got.success
      ? { assignmentId: got.data.id, roleDefinitionId: got.data.properties.roleDefinitionId, principalId: got.data.properties.principalId, scope: got.data.properties.scope ?? null }
      : {};
    return ok
      ? { ...base, status: 'pass', finding: `Listing the role assignments at the scope shows ${roleName(want.role)} for principal ${want.principalId} (${got.data.id.split('/').pop()}).`, evidence }
      : {
          ...base,
          status: 'fail',
          finding: `Listing the role assignments at ${want.scope} shows no ${roleName(want.role)} for principal ${want.principalId}.`,
          evidence,
          remedy: 'Look at the scope’s Access control (IAM) blade and compare with the request.',
        };
  },
  verifyCheckId: 'grant.verify',
  doneMessage: () => 'Granted and verified: the role assignment is in place (a managed identity may take a while to see a new grant).',
  digestEvidence: (checks) => {
    const pick = (id: string) => checks.find((c) => c.id === id)?.evidence ?? {};
    return { principalId: pick('identity.exists').principalId ?? null, vaultId: pick('key.vault-found').vaultId ?? null };
  },
};
