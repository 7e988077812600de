import { defineCheck, fail, hsmUnverifiable, pass } from '../types';

/** ARM location names: "East US", "eastus" and "east-us" are the same region. */
export function normalizeRegion(r: string | undefined): string {
  return (r ?? '').toLowerCase().replace(/[\s_-]/g, '');
}

export const placementSameRegion = defineCheck({
  id: 'placement.same-region',
  title: 'Vault, identity and resource are in the same region',
  needs: ['vault', 'identity', 'keyRef'],
  evaluate: ({ vault, identity, keyRef }, { subject }) => {
    const hsm = hsmUnverifiable(keyRef, 'the HSM’s region');
    if (hsm) return hsm;
    const evidence = { resource: subject.location, vault: vault?.location ?? null, identity: identity?.location ?? null };
    if (!vault || !identity) return fail('Cannot compare regions: the vault or the identity was not found.', 'Fix the vault and identity checks first.', evidence);
    const want = normalizeRegion(subject.location);
    const off = [normalizeRegion(vault.location) !== want ? `vault ${vault.name} is in ${vault.location}` : null, normalizeRegion(identity.location) !== want ? `identity ${identity.name} is in ${identity.location}` : null].filter(Boolean);
    if (off.length) {
      return fail(
        `The resource will be in ${subject.location} but ${off.join(' and ')}.`,
        `Choose region ${vault.location === identity.location ? vault.location : 'the vault’s region'} for the resource, or use a vault and identity in ${subject.location}.`,
        evidence,
      );
    }
    return pass(`All in ${subject.location}.`, evidence);
  },
});
