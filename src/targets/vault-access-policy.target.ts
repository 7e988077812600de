// Remediation: an access policy giving the identity get, wrapKey and unwrapKey on the keys of a
// vault that uses access policies (not Azure RBAC) — PUT …/vaults/{name}/accessPolicies/add
// (Vaults_UpdateAccessPolicy 2024-11-01, shaped like updateAccessPoliciesAdd.json). "add" merges
// into the vault's policies, so a resent write changes nothing. On an RBAC vault it is refused,
// naming `new grant-key-access`.
import { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import { identityExists, identitySameTenant } from '../checks/catalogue/identity.checks';
import { keyUrlFormat, keyVaultFound } from '../checks/catalogue/key.checks';
import { API, type CmkSubject, vaultSchema } from '../checks/facts';
import { parseKeyUrl } from '../checks/key-url';
import { grants } from '../checks/rbac';
import { defineCheck, fail, pass, type Check } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { FIELD, identityField, keyUrlField } from './fields';
import { findVault } from './grant-key-access.target';
import type { Target } from './types';
import { scopesOf } from './scopes';
import { subscriptionOf } from '../domain/resource-id';

const KEY_PERMISSIONS = ['get', 'wrapKey', 'unwrapKey'] as const;
const ADD = '/accessPolicies/add';
const WRITE_ACTION = 'Microsoft.KeyVault/vaults/accessPolicies/write';

export const accessPolicySchema = z.object({
  identityId: identityField(),
  keyUrl: keyUrlField(),
  /** Read before planning: the key's vault, and the identity's principal and tenant. */
  vaultId: z.string().optional(),
  principalId: z.string().optional(),
  tenantId: z.string().optional(),
});
export type AccessPolicyParams = z.infer<typeof accessPolicySchema>;

const vaultIdOf = (plan: ArmWritePlan) => plan.resourceId.slice(0, plan.resourceId.length - ADD.length);
const writeId = (p: AccessPolicyParams) => `${p.vaultId ?? p.identityId}${ADD}`;

const vaultUsesPolicies = defineCheck({
  id: 'policy.vault-model',
  title: 'The vault decides access by access policies',
  needs: ['vault'],
  evaluate: ({ vault }) => {
    if (!vault) return fail('Cannot tell how the vault grants access: it was not found.', 'Fix key.vault-found first.');
    return vault.properties.enableRbacAuthorization
      ? fail(
          `Vault ${vault.name} uses Azure RBAC, which ignores access policies: this policy would change nothing.`,
          'Grant a Key Vault data role instead: `new grant-key-access` (Key Vault Crypto Service Encryption User for the identity).',
          {
            enableRbacAuthorization: true,
          },
        )
      : pass(`Vault ${vault.name} uses access policies.`, { enableRbacAuthorization: false });
  },
});

const botMayWritePolicies = defineCheck({
  id: 'bot.can-write',
  title: 'The bot may change the vault’s access policies',
  needs: ['botRightsAtTarget'],
  evaluate: ({ botRightsAtTarget }, { subject }) => {
    const rg = subject.resourceId.split('/').slice(0, 5).join('/');
    return grants(botRightsAtTarget, WRITE_ACTION, 'control')
      ? pass(`The bot holds ${WRITE_ACTION} at ${rg}.`, { writeAction: WRITE_ACTION, scope: rg })
      : fail(`The bot's identity lacks ${WRITE_ACTION} at ${rg}, so Azure would refuse the change after approval.`, `Give the bot's identity the cmk-chatops-remediation role (deploy/README.md) at ${rg}.`, {
          writeAction: WRITE_ACTION,
          scope: rg,
        });
  },
});

const CHECKS: readonly Check[] = [keyUrlFormat, keyVaultFound, vaultUsesPolicies, identityExists, identitySameTenant, botMayWritePolicies] as Check[];

export const vaultAccessPolicyTarget: Target<AccessPolicyParams> = {
  type: 'vault-access-policy',
  displayName: 'Vault access policy',
  reviews: false,
  entry: {
    command: 'vault-access-policy',
    help: 'give an identity get, wrap key and unwrap key on a vault that uses access policies — access to key material (`new vault-access-policy <identity id>` starts with that identity)',
    startsFrom: { resourceType: 'Microsoft.ManagedIdentity/userAssignedIdentities', usage: '`new vault-access-policy` takes the resource id of a user-assigned identity (or nothing, to pick one).' },
  },
  form: {
    title: 'Vault access policy',
    heading: 'Give an identity access to the keys of a vault',
    intro:
      'Adds an access policy (keys: get, wrap key, unwrap key) for the identity to the vault of the chosen key — every key in that vault. Only for vaults that use access policies; a vault on Azure RBAC takes a role assignment (`new grant-key-access`).',
    submitLabel: 'Request the access policy',
  },
  prefill: { read: false, values: (resourceId) => ({ values: { identityId: resourceId } }) },
  resourceType: 'Microsoft.KeyVault/vaults/accessPolicies',
  apiVersion: API.keyVault,
  schema: accessPolicySchema,
  fields: [FIELD.identity('The user-assigned identity that is to use the keys.'), { ...FIELD.key, hint: 'A key in the vault; the policy covers every key in that vault.' }],
  resourceId: writeId,
  async prepare(p: AccessPolicyParams, arm: ArmGateway): Promise<AccessPolicyParams> {
    const ref = parseKeyUrl(p.keyUrl);
    const [identity, vaultId] = await Promise.all([
      arm.getOrNull<{ properties?: { principalId?: string; tenantId?: string } }>(p.identityId, API.managedIdentity),
      ref.ok && ref.ref.kind !== 'managedHsm' ? findVault(arm, ref.ref.vaultName, subscriptionOf(p.identityId)) : Promise.resolve(undefined),
    ]);
    return { ...p, vaultId, principalId: identity?.properties?.principalId, tenantId: identity?.properties?.tenantId };
  },
  plan: (p): ArmWritePlan => ({
    method: 'PUT',
    resourceId: writeId(p),
    apiVersion: API.keyVault,
    body: { properties: { accessPolicies: [{ tenantId: p.tenantId ?? '', objectId: p.principalId ?? '', permissions: { keys: [...KEY_PERMISSIONS] } }] } },
  }),
  scopes: (p) => scopesOf(p.vaultId ? { role: 'key vault', id: p.vaultId } : undefined, { role: 'identity', id: p.identityId }),
  subject: (p): CmkSubject => ({ resourceId: p.vaultId ?? p.identityId, subscriptionId: subscriptionOf(p.vaultId ?? p.identityId), location: '', keyUrl: p.keyUrl, identityId: p.identityId }),
  reviewSubject: (r: ArmResource): CmkSubject => ({ resourceId: r.id, subscriptionId: subscriptionOf(r.id), location: '', keyUrl: '', identityId: '' }),
  checks: CHECKS,
  summary: (p) => [
    { title: 'Grants', value: `access to key material: keys ${KEY_PERMISSIONS.join(', ')} on every key in vault ${p.vaultId?.split('/').pop() ?? '?'}` },
    { title: 'To identity', value: `${p.identityId.split('/').pop() ?? ''}${p.principalId ? ` (principal ${p.principalId})` : ''}` },
  ],
  irreversible: () => [],
  // Verification reads the vault the policy was added to.
  readBack: (plan, arm) => arm.getOrNull<ArmResource>(vaultIdOf(plan), plan.apiVersion),
  verify: (plan, actual): CheckResult => {
    const want = ((plan.body.properties as { accessPolicies: Array<{ objectId: string }> }).accessPolicies[0]?.objectId ?? '').toLowerCase();
    const vault = vaultSchema.safeParse(actual);
    const policy = vault.success ? (vault.data.properties.accessPolicies ?? []).find((a) => a.objectId.toLowerCase() === want && !a.applicationId) : undefined;
    const held = new Set((policy?.permissions.keys ?? []).map((k) => k.toLowerCase()));
    const missing = KEY_PERMISSIONS.filter((k) => !held.has(k.toLowerCase()) && !held.has('all'));
    const base = { id: 'policy.verify', title: 'The vault carries the access policy' };
    const evidence = { objectId: want, keys: [...held].join(', ') || 'none' };
    return policy && missing.length === 0
      ? { ...base, status: 'pass', finding: `GET of the vault shows an access policy for ${want} with keys ${[...held].join(', ')}.`, evidence }
      : {
          ...base,
          status: 'fail',
          finding: `GET of the vault shows ${policy ? `the access policy for ${want} without ${missing.join(', ')}` : `no access policy for ${want}`}.`,
          evidence,
          remedy: 'Open the vault’s Access policies blade and compare with the request.',
        };
  },
  verifyCheckId: 'policy.verify',
  doneMessage: () => 'Access policy added and verified.',
  digestEvidence: (checks) => {
    const pick = (id: string) => checks.find((c) => c.id === id)?.evidence ?? {};
    return { principalId: pick('identity.exists').principalId ?? null, tenantId: pick('identity.exists').tenantId ?? null, vaultId: pick('key.vault-found').vaultId ?? null };
  },
};
