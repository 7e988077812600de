// The health scan: for each CMK resource, the health subset of the catalogue — the same checks a
// `check <resource id>` review runs (each target's reviewSubject and reviewChecks), only those that
// can change after the fact — over one read cache for the whole scan.
import type { ArmGateway } from '../azure/port';
import { runChecks } from '../checks/runner';
import { defineCheck, info, pass, reading, readsOf, warn, type Check } from '../checks/types';
import type { CheckResult } from '../domain/types';
import { DEFAULT_TARGETS, type TargetRegistry } from '../targets';
import { mapLimit, type CmkResource } from './inventory';
import { scanReads, type ScanReads } from './scan-reads';

/**
 * The review checks a watchdog repeats: the key enabled, not expired nor about to, its vault still
 * there with soft delete, purge protection and the trusted-services bypass, the identity still
 * there, assigned and granted, the rotation policy; for Chaos, the storage account still there.
 * (A review's other checks — key type, region, api-version… — cannot go wrong after the fact.)
 */
export const HEALTH_CHECK_IDS: ReadonlySet<string> = new Set([
  'key.vault-found',
  'key.enabled',
  'key.not-expired',
  'vault.soft-delete',
  'vault.purge-protection',
  'vault.firewall',
  'vault.rotation-policy',
  'identity.exists',
  'identity.assigned-to-resource',
  'identity.key-permissions',
  'storage.key-access',
  'storage.exists',
]);

/**
 * A pinned key version behind the key's newest: the service never moves by itself, so after a
 * rotation the resource still wraps with the old version (the catalogue's key.version-policy only
 * says that a version is pinned; this says that it is now stale).
 */
export const keyVersionBehind = defineCheck({
  id: 'key.version-behind',
  title: 'The pinned key version is the newest',
  needs: ['keyRef', 'key'],
  evaluate: ({ keyRef, key }, { subject }) => {
    if (!keyRef?.version) return info('Not pinned to a version: the service follows the newest.', { version: 'latest' });
    const newest = (key?.properties.keyUriWithVersion ?? '').replace(/\/+$/, '').split('/').pop();
    if (!key || !newest) return info('The key’s newest version could not be read.', { version: keyRef.version });
    if (newest.toLowerCase() === keyRef.version.toLowerCase()) return pass(`Pinned to ${keyRef.version}, the newest version.`, { version: keyRef.version });
    const resource = subject.storageAccountId && subject.resourceId.toLowerCase() !== subject.storageAccountId.toLowerCase() ? subject.storageAccountId : subject.resourceId;
    return {
      ...warn(
        `Pinned to version ${keyRef.version} of ${keyRef.keyName}, but the newest version is ${newest}: the resource does not move to it by itself, and the old version must stay enabled until it does.`,
        `Move it to the newest version: rotate ${resource} — or every resource pinned to an old version of this key at once: rotate-key ${keyRef.versionless} --version ${newest}`,
        { version: keyRef.version, newest },
      ),
      // *Fix this* on the alert: one request that moves every resource pinned to an older version of the key.
      fix: { command: 'rotate-key', values: { keyUrl: keyRef.versionless, keyVersion: newest.toLowerCase() }, label: 'Move every pinned resource to the newest version' },
    };
  },
});

/** The health checks for one resource: its target's review checks, the health subset of them, and the pinned-version check read the same way. */
export function healthChecks(targets: TargetRegistry, resource: CmkResource): readonly Check[] | undefined {
  const target = targets.forReview(resource.type);
  if (!target) return undefined;
  const review = target.reviewChecks?.(resource.resource) ?? target.checks;
  const picked = review.filter((c) => HEALTH_CHECK_IDS.has(c.id));
  return [...picked, ...reading(readsOf(picked), [keyVersionBehind as Check])];
}

export interface HealthOptions {
  now: Date;
  expiryWarningDays: number;
  /** The scan's read cache; a new one when absent (pass one to share it across batches of one scan). */
  reads?: ScanReads;
  targets?: TargetRegistry;
  /** Resources judged at once (each waits on the shared reads; the gateway paces ARM). Default 16. */
  concurrency?: number;
}

export interface ResourceHealth {
  resource: CmkResource;
  results: CheckResult[];
}

/** Runs the health checks of every resource; each key, vault, identity and role list is read once across them all. */
export async function scanHealth(arm: ArmGateway, resources: readonly CmkResource[], opts: HealthOptions): Promise<ResourceHealth[]> {
  const reads = opts.reads ?? scanReads(arm);
  const targets = opts.targets ?? DEFAULT_TARGETS;
  for (const r of resources) reads.prime(r.resource);
  return mapLimit(resources, opts.concurrency ?? 16, async (resource) => {
    const checks = healthChecks(targets, resource);
    if (!checks) return { resource, results: [] };
    const subject = targets.forReview(resource.type)!.reviewSubject(resource.resource);
    const results = await runChecks(reads.gateway, subject, checks, { now: opts.now, expiryWarningDays: opts.expiryWarningDays });
    return { resource, results };
  });
}
