// Turn purge protection on for a key vault (the remedy for vault.purge-protection). PATCH
// Vaults_Update (2024-11-01) with properties.enablePurgeProtection: true, shaped like the spec's
// updateVault.json. Key Vault never lets it be turned off again, so the change is irreversible and
// the policy asks for its extra approval; it needs soft delete on, so without it the request is refused.
import { z } from 'zod';
import type { ArmResource } from '../azure/port';
import type { CmkSubject } from '../checks/facts';
import { defineCheck, fail, pass, reading } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { botMayWrite, KEY_VAULT_API, nameOf, resourceExists, vaultField, vaultProps } from './remediation';
import { subscriptionOf } from '../domain/resource-id';
import { scopesOf } from './scopes';
import type { Target } from './types';

const schema = z.object({ vaultId: vaultField() });
type Params = z.infer<typeof schema>;

const softDeleteFix = (name: string) => `Turn soft delete on first (it cannot be turned off again either): az keyvault update --name ${name} --enable-soft-delete true — then ask again.`;

const softDeleteOn = defineCheck({
  id: 'vault.soft-delete',
  title: 'Vault has soft delete (purge protection needs it)',
  needs: ['existing'],
  evaluate: ({ existing }) => {
    if (!existing) return fail('Cannot inspect the vault: it was not found.', 'Fix vault.exists first.');
    return vaultProps(existing).enableSoftDelete === false
      ? fail(`Vault ${existing.name} has soft delete off; purge protection only works with soft delete, and Azure refuses it without.`, softDeleteFix(existing.name ?? ''), { enableSoftDelete: false })
      : pass('Soft delete is on.', { enableSoftDelete: true });
  },
});

const purgeProtectionOff = defineCheck({
  id: 'vault.purge-protection-off',
  title: 'Purge protection is not on yet',
  needs: ['existing'],
  evaluate: ({ existing }) => {
    if (!existing) return fail('Cannot inspect the vault: it was not found.', 'Fix vault.exists first.');
    return vaultProps(existing).enablePurgeProtection === true
      ? fail(`Vault ${existing.name} already has purge protection: there is nothing to change.`, 'Nothing to do; cancel this request.', { enablePurgeProtection: true })
      : pass('Purge protection is off: this change turns it on.', { enablePurgeProtection: false });
  },
});

const CHECKS = reading({ resource: { apiVersion: KEY_VAULT_API } }, [resourceExists('vault.exists', 'key vault'), softDeleteOn, purgeProtectionOff, botMayWrite('Microsoft.KeyVault/vaults/write')]);

export const vaultPurgeProtectionTarget: Target<Params> = {
  type: 'vault-purge-protection',
  displayName: 'Key vault purge protection',
  cardTitle: 'Key vault: purge protection on (permanent)',
  entry: {
    command: 'vault-purge-protection',
    help: 'turn on a key vault’s purge protection (cannot be undone)',
    startsFrom: { resourceType: 'Microsoft.KeyVault/vaults', usage: '`new vault-purge-protection` takes the resource id of a key vault (or nothing, to pick one).' },
  },
  form: {
    title: 'Vault purge protection',
    heading: 'Turn purge protection on for a key vault',
    intro: 'With purge protection, nobody can purge a deleted key before its retention period ends. Azure never lets it be turned off again, and it needs soft delete on.',
  },
  prefill: {
    read: true,
    values: (vaultId, vault) => {
      const p = vaultProps(vault);
      if (p.enablePurgeProtection === true) return { refusal: `Vault ${nameOf(vaultId)} already has purge protection: there is nothing to change.` };
      if (p.enableSoftDelete === false) return { refusal: `Vault ${nameOf(vaultId)} has soft delete off, and purge protection needs it. ${softDeleteFix(nameOf(vaultId))}` };
      return { values: { vaultId } };
    },
  },
  resourceType: 'Microsoft.KeyVault/vaults',
  apiVersion: KEY_VAULT_API,
  schema,
  fields: [{ name: 'vaultId', label: 'Key vault', kind: 'picker', source: 'vaults', required: true, hint: 'The vault whose keys must not be purged. This cannot be undone.' }],
  resourceId: (p) => p.vaultId,
  plan: (p): ArmWritePlan => ({ method: 'PATCH', resourceId: p.vaultId, apiVersion: KEY_VAULT_API, body: { properties: { enablePurgeProtection: true } } }),
  scopes: (p) => scopesOf({ role: 'key vault', id: p.vaultId }),
  subject: (p): CmkSubject => ({ resourceId: p.vaultId, subscriptionId: subscriptionOf(p.vaultId), location: '', keyUrl: '', identityId: '' }),
  reviewSubject: (r: ArmResource): CmkSubject => ({ resourceId: r.id, subscriptionId: subscriptionOf(r.id), location: r.location ?? '', keyUrl: '', identityId: '' }),
  checks: CHECKS,
  // A remediation changes one setting: `check <id>` of this type is not its to answer.
  reviews: false,
  summary: (p) => [
    { title: 'Key vault', value: nameOf(p.vaultId) },
    { title: 'Change', value: 'Purge protection: off → on (permanent)' },
  ],
  irreversible: (p) => [`Purge protection on ${nameOf(p.vaultId)} can never be turned off again: Azure refuses enablePurgeProtection false once it is on, and deleted keys stay unpurgeable for the whole retention period.`],
  verify: (_plan, actual): CheckResult => {
    const on = vaultProps(actual).enablePurgeProtection === true;
    const base = { id: 'vault.purge-protection.verify', title: 'The vault reports purge protection on' };
    return on
      ? { ...base, status: 'pass', finding: 'GET shows enablePurgeProtection true.', evidence: { enablePurgeProtection: true } }
      : {
          ...base,
          status: 'fail',
          finding: 'Verification failed: GET does not show enablePurgeProtection true.',
          evidence: { enablePurgeProtection: vaultProps(actual).enablePurgeProtection ?? null },
          remedy: 'Open the vault’s Properties blade and compare with the request.',
        };
  },
  verifyCheckId: 'vault.purge-protection.verify',
  doneMessage: () => 'Purge protection is on (permanently) and verified.',
  digestEvidence: (checks) => {
    const pick = (id: string) => checks.find((c) => c.id === id)?.evidence ?? {};
    return { enableSoftDelete: pick('vault.soft-delete').enableSoftDelete ?? null, enablePurgeProtection: pick('vault.purge-protection-off').enablePurgeProtection ?? null };
  },
};
