// Vault checks (prerequisites.md "Key" rows vault.*): recoverability and reachability.
import { defineCheck, fail, info, pass, warn } from '../types';

const missingVault = () => fail('Cannot inspect the vault: it was not found.', 'Fix key.vault-found first.');

export const vaultSoftDelete = defineCheck({
  id: 'vault.soft-delete',
  title: 'Vault has soft delete',
  needs: ['vault', 'keyRef'],
  evaluate: ({ vault, keyRef }) => {
    if (keyRef?.kind === 'managedHsm') return info('Managed HSMs always have soft delete.');
    if (!vault) return missingVault();
    // ARM's default is on, and it cannot be turned off once on.
    return vault.properties.enableSoftDelete === false
      ? fail(`Vault ${vault.name} has soft delete off: a deleted key could not be recovered, and the resource would lose its data for good.`, `Turn it on: az keyvault update --name ${vault.name} --enable-soft-delete true`, {
          enableSoftDelete: false,
        })
      : pass('Soft delete is on.', { enableSoftDelete: true });
  },
});

/** Purge protection: `required` (e.g. the data sits in Azure Storage) fails without it; otherwise it warns. */
export function vaultPurgeProtection({ required }: { required: boolean }) {
  return defineCheck({
    id: 'vault.purge-protection',
    title: 'Vault has purge protection',
    needs: ['vault', 'keyRef'],
    evaluate: ({ vault, keyRef }) => {
      if (keyRef?.kind === 'managedHsm') return info('Purge protection of a Managed HSM cannot be read through ARM here.');
      if (!vault) return missingVault();
      if (vault.properties.enablePurgeProtection) return pass('Purge protection is on.', { enablePurgeProtection: true });
      const finding = `Vault ${vault.name} has purge protection off: someone could purge the key during its retention period and the data it protects would be lost for good.`;
      const remedy = `Turn it on (it cannot be turned off again): az keyvault update --name ${vault.name} --enable-purge-protection true`;
      // The fix is a request of its own: `new vault-purge-protection` (irreversible, so it asks one approval more).
      const fix = { command: 'vault-purge-protection', values: { vaultId: vault.id } };
      return required ? fail(finding, remedy, { enablePurgeProtection: false }, fix) : warn(finding, remedy, { enablePurgeProtection: false }, fix);
    },
  });
}

export const vaultFirewall = defineCheck({
  id: 'vault.firewall',
  title: 'Vault firewall lets trusted Azure services through',
  needs: ['vault', 'keyRef'],
  evaluate: ({ vault, keyRef }) => {
    if (keyRef?.kind === 'managedHsm') return info('Managed HSM network rules are not read here.');
    if (!vault) return missingVault();
    const acl = vault.properties.networkAcls ?? {};
    const deny = (acl.defaultAction ?? 'Allow').toLowerCase() === 'deny';
    const bypass = (acl.bypass ?? 'AzureServices').split(',').map((b) => b.trim().toLowerCase());
    const evidence = { defaultAction: acl.defaultAction ?? 'Allow', bypass: acl.bypass ?? 'AzureServices' };
    if (deny && !bypass.includes('azureservices')) {
      return fail(
        `Vault ${vault.name}'s firewall denies by default without the trusted-services exception, so the service cannot reach the key ("Unexpected error happened when configuring CMK").`,
        `Allow trusted Microsoft services: az keyvault update --name ${vault.name} --bypass AzureServices`,
        evidence,
        { command: 'vault-firewall-bypass', values: { vaultId: vault.id } },
      );
    }
    return pass(deny ? 'Firewall on, trusted Azure services allowed.' : 'No firewall restriction.', evidence);
  },
});

export const vaultRotationPolicy = defineCheck({
  id: 'vault.rotation-policy',
  title: 'Key has a rotation policy or an expiry',
  needs: ['key'],
  evaluate: ({ key }) => {
    if (!key) return info('No key to inspect.');
    const policy = key.properties.rotationPolicy as { lifetimeActions?: Array<{ action?: { type?: string } }> } | undefined;
    const rotates = policy?.lifetimeActions?.some((a) => a.action?.type?.toLowerCase() === 'rotate');
    const exp = key.properties.attributes?.exp;
    if (rotates) return info('The key has a rotation policy that rotates it automatically.', { rotationPolicy: 'rotate' });
    if (exp) return info('The key has an expiry date but no automatic rotation.', { rotationPolicy: 'none', exp: new Date(exp * 1000).toISOString() });
    return info('The key has neither a rotation policy nor an expiry; Azure Policy baselines usually ask for one.', { rotationPolicy: 'none' });
  },
});
