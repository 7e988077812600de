import type { KeySource, ResourceRead } from '../facts';
import { reading, type Change, type Check } from '../types';
import { botCanWrite, providerRegistered } from './bot.checks';
import { identityAssignedToResource, identityExists, identityGrantAge, identityKeyPermissions, identitySameTenant, identityUserAssigned } from './identity.checks';
import { keyEnabled, keyNotExpired, keyOps, keyType, keyUrlFormat, keyVaultFound, keyVersionPolicy } from './key.checks';
import { placementSameRegion } from './placement.checks';
import { vaultFirewall, vaultPurgeProtection, vaultRotationPolicy, vaultSoftDelete } from './vault.checks';

/** How one target configures the CMK checks every target shares. */
export interface CmkChecksConfig {
  /** Names the service in findings (e.g. fluid-relay). */
  targetType: string;
  change: Change;
  /** Where the key comes from: the request's URL, or the storage account's own CMK. */
  key: KeySource;
  /** How the resource itself is read (its api-version; where it names its current key). */
  resource: ResourceRead;
  /** The ARM action the write needs at the resource group; null for a read-only review. */
  writeAction: string | null;
  /** Purge protection is a hard requirement (the data sits in Azure Storage), not a warning. */
  purgeProtectionRequired: boolean;
  /** The service needs vault, identity and resource in one region (placement.same-region). */
  sameRegion: boolean;
}

/** The checks every CMK target shares (key, vault, identity, placement, the bot's rights), configured for one target. */
export function cmkChecks(c: CmkChecksConfig): Check[] {
  return reading({ key: c.key, resource: c.resource }, [
    keyUrlFormat,
    keyVaultFound,
    keyType,
    keyEnabled,
    keyNotExpired,
    keyOps,
    keyVersionPolicy({ change: c.change }),
    vaultSoftDelete,
    vaultPurgeProtection({ required: c.purgeProtectionRequired }),
    vaultFirewall,
    vaultRotationPolicy,
    identityExists,
    identityUserAssigned({ targetType: c.targetType }),
    identityAssignedToResource({ change: c.change }),
    identityKeyPermissions,
    identityGrantAge,
    identitySameTenant,
    ...(c.sameRegion ? [placementSameRegion] : []),
    botCanWrite({ action: c.writeAction }),
    providerRegistered,
  ]);
}
