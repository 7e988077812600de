import { chaosTarget } from './chaos-experiment.target';
import { chaosIdentityTarget } from './chaos-identity.target';
import { fluidRelayRotateTarget } from './fluid-relay-rotate.target';
import { fluidRelayTarget } from './fluid-relay.target';
import { storageTarget } from './storage-account.target';
import type { Target } from './types';

export const TARGETS: Record<string, Target> = {
  'fluid-relay': fluidRelayTarget as unknown as Target,
  'chaos-experiment': chaosTarget as unknown as Target,
  'storage-cmk': storageTarget as unknown as Target,
  'fluid-relay-rotate': fluidRelayRotateTarget as unknown as Target,
  'chaos-identity': chaosIdentityTarget as unknown as Target,
};

/** The target of that type; own names only, so `constructor` or `__proto__` is no target. */
export function findTarget(type: string): Target | undefined {
  return Object.hasOwn(TARGETS, type) ? TARGETS[type] : undefined;
}
