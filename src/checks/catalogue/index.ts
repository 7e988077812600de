import type { Check } from '../types';
import { botCanWrite, providerRegistered } from './bot.checks';
import { fluidRelayCreateOnly, fluidRelayNoDisable, fluidRelayPreviousKeyAlive } from './fluid-relay.checks';
import { identityAssignedToResource, identityExists, identityGrantAge, identityKeyPermissions, identitySameTenant, identityUserAssigned } from './identity.checks';
import { keyEnabled, keyNotExpired, keyOps, keyType, keyUrlFormat, keyVaultFound, keyVersionPolicy } from './key.checks';
import { placementSameRegion } from './placement.checks';
import { vaultFirewall, vaultPurgeProtection, vaultRotationPolicy, vaultSoftDelete } from './vault.checks';

/** The checks every CMK target shares (key, vault, identity, placement, the bot's rights). */
export const CMK_CHECKS: readonly Check[] = [
  keyUrlFormat,
  keyVaultFound,
  keyType,
  keyEnabled,
  keyNotExpired,
  keyOps,
  keyVersionPolicy,
  vaultSoftDelete,
  vaultPurgeProtection,
  vaultFirewall,
  vaultRotationPolicy,
  identityExists,
  identityUserAssigned,
  identityAssignedToResource,
  identityKeyPermissions,
  identityGrantAge,
  identitySameTenant,
  placementSameRegion,
  botCanWrite,
  providerRegistered,
] as readonly Check[];

export const FLUID_RELAY_CHECKS: readonly Check[] = [...CMK_CHECKS, fluidRelayCreateOnly, fluidRelayNoDisable, fluidRelayPreviousKeyAlive] as readonly Check[];
