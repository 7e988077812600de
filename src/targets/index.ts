import { chaosTarget } from './chaos-experiment.target';
import { chaosIdentityTarget } from './chaos-identity.target';
import { fluidRelayRotateTarget } from './fluid-relay-rotate.target';
import { fluidRelayTarget } from './fluid-relay.target';
import { grantKeyAccessTarget } from './grant-key-access.target';
import { TargetRegistry } from './registry';
import { rotateKeyTarget } from './rotate-key.target';
import { storageNetworkAccessTarget } from './storage-network-access.target';
import { storageTarget } from './storage-account.target';
import type { AnyTarget, Target } from './types';
import { vaultAccessPolicyTarget } from './vault-access-policy.target';
import { vaultFirewallTarget } from './vault-firewall.target';
import { vaultPurgeProtectionTarget } from './vault-purge-protection.target';

export { TargetRegistry, resourceTypeOf } from './registry';

/**
 * Every target the bot serves. Adding a service: one `<name>.target.ts` (fields, plan, checks,
 * verification) and its entry here — commands, forms, cards and help follow from it.
 */
export const DEFAULT_TARGETS = new TargetRegistry([
  fluidRelayTarget,
  chaosTarget,
  storageTarget,
  fluidRelayRotateTarget,
  chaosIdentityTarget,
  grantKeyAccessTarget,
  vaultAccessPolicyTarget,
  vaultPurgeProtectionTarget,
  vaultFirewallTarget,
  storageNetworkAccessTarget,
  rotateKeyTarget,
]);

/** The single-resource targets by type (the default registry; `rotate-key`, a fleet, is not one of them). */
export const TARGETS: Readonly<Record<string, Target>> = Object.fromEntries(DEFAULT_TARGETS.singles().map((t) => [t.type, t]));

/** The target of that type in the default registry; own names only, so `constructor` or `__proto__` is no target. */
export function findTarget(type: string): AnyTarget | undefined {
  return DEFAULT_TARGETS.find(type);
}
