import type { Check } from '../types';
import { identityExists, identityKeyPermissions } from './identity.checks';
import { keyEnabled, keyNotExpired, keyType, keyUrlFormat } from './key.checks';
import { placementSameRegion } from './placement.checks';

/** The checks every CMK target shares (key, identity, placement). */
export const CMK_CHECKS: readonly Check[] = [
  keyUrlFormat,
  keyType,
  keyEnabled,
  keyNotExpired,
  identityExists,
  identityKeyPermissions,
  placementSameRegion,
] as readonly Check[];
