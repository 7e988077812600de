// A scan in bounded steps, so a durable job killed mid-scan continues where it stopped: the
// cursor says which subscriptions are inventoried and which resources are judged, and carries
// the findings so far. Each step is one batch; the caller stores the cursor between steps.
import type { ArmGateway } from '../azure/port';
import type { TargetRegistry } from '../targets';
import { findingsOf, unjudged, type Finding } from './findings';
import { scanHealth } from './health';
import { isRefusal, listSubscriptionInventory, queryInventory, resolveChaosKeys, type CmkResource } from './inventory';
import { isArmError } from '../azure/port';
import { scanReads, type ScanReads } from './scan-reads';
import { subscriptionOf } from '../domain/resource-id';

export interface ScanCursor {
  version: 1;
  subscriptions: string[];
  phase: 'inventory' | 'health' | 'done';
  /** How the inventory was found; unset until the first step tried Resource Graph. */
  via?: 'resource-graph' | 'list';
  fallbackReason?: string;
  /** Subscriptions the list fallback has inventoried (or could not list: `unlisted`). */
  subscriptionsDone: string[];
  unlisted: Array<{ subscriptionId: string; reason: string }>;
  resources: CmkResource[];
  /** resources[0 .. judged) are judged. */
  judged: number;
  findings: Finding[];
  /** Finding keys (`resourceId|checkId`) this scan could not judge (a read failed): their previous findings stand. */
  unjudged: string[];
}

export interface ScanStepOptions {
  now: Date;
  expiryWarningDays: number;
  /** Resources judged per step (default 250) — and the list fallback inventories `subscriptionsPerStep` subscriptions per step (default 5). */
  batchSize?: number;
  subscriptionsPerStep?: number;
  /** The scan's read cache: keep one across the steps a process runs, so shared keys are read once per scan (a resumed scan starts a new one). */
  reads?: ScanReads;
  targets?: TargetRegistry;
  concurrency?: number;
}

export interface ScanStepResult {
  cursor: ScanCursor;
  /** The findings so far (all of them once `done`). */
  findings: Finding[];
  done: boolean;
}

export function startScan(subscriptions: string[]): ScanCursor {
  return { version: 1, subscriptions: [...new Set(subscriptions)], phase: 'inventory', subscriptionsDone: [], unlisted: [], resources: [], judged: 0, findings: [], unjudged: [] };
}

/** One bounded batch of the scan: the inventory (Resource Graph at once, or a few subscriptions by list), then a batch of resources judged. */
export async function scanStep(arm: ArmGateway, cursor: ScanCursor, opts: ScanStepOptions): Promise<ScanStepResult> {
  const reads = opts.reads ?? scanReads(arm);
  const c: ScanCursor = structuredClone(cursor);
  if (c.phase === 'inventory') await inventoryStep(reads, c, opts);
  else if (c.phase === 'health') await healthStep(reads, c, opts);
  return { cursor: c, findings: c.findings, done: c.phase === 'done' };
}

async function inventoryStep(reads: ScanReads, c: ScanCursor, opts: ScanStepOptions): Promise<void> {
  const arm = reads.gateway;
  if (!c.via) {
    try {
      const found = await queryInventory(arm, c.subscriptions);
      if (found) {
        c.via = 'resource-graph';
        c.resources = await resolveChaosKeys(arm, found);
        c.subscriptionsDone = [...c.subscriptions];
        c.phase = 'health';
        return;
      }
      c.fallbackReason = 'the gateway has no Resource Graph';
    } catch (e) {
      if (!isRefusal(e)) throw e;
      c.fallbackReason = `Resource Graph refused the query: ${isArmError(e) ? e.describe() : String(e)}`;
    }
    c.via = 'list';
  }
  const done = new Set(c.subscriptionsDone.map((s) => s.toLowerCase()));
  const batch = c.subscriptions.filter((s) => !done.has(s.toLowerCase())).slice(0, opts.subscriptionsPerStep ?? 5);
  const found = await Promise.all(
    batch.map(async (s) => {
      try {
        return await listSubscriptionInventory(arm, s);
      } catch (e) {
        if (!isArmError(e) || e.status === 429 || e.status >= 500) throw e;
        c.unlisted.push({ subscriptionId: s, reason: e.describe() });
        return [];
      }
    }),
  );
  c.resources.push(...found.flat());
  c.subscriptionsDone.push(...batch);
  if (c.subscriptionsDone.length >= c.subscriptions.length) {
    c.resources = await resolveChaosKeys(arm, c.resources);
    c.phase = c.resources.length ? 'health' : 'done';
  }
}

async function healthStep(reads: ScanReads, c: ScanCursor, opts: ScanStepOptions): Promise<void> {
  // The whole inventory is primed, not only this batch: a Chaos experiment's storage account is read from it too.
  for (const r of c.resources) reads.prime(r.resource);
  const batch = c.resources.slice(c.judged, c.judged + (opts.batchSize ?? 250));
  const judged = await judgeResources(reads.gateway, batch, { ...opts, reads });
  c.findings.push(...judged.findings);
  c.unjudged.push(...judged.unjudged);
  c.judged += batch.length;
  if (c.judged >= c.resources.length) c.phase = 'done';
}

/**
 * The findings about these resources now — the health scan of a few (an Event Grid event's
 * dependents, `dependentsOf`) or of a batch. `unjudged`: finding keys whose checks could not read
 * what they need (their previous findings stand).
 */
export async function judgeResources(arm: ArmGateway, resources: readonly CmkResource[], opts: Pick<ScanStepOptions, 'now' | 'expiryWarningDays' | 'reads' | 'targets' | 'concurrency'>): Promise<{ findings: Finding[]; unjudged: string[] }> {
  const health = await scanHealth(arm, resources, {
    now: opts.now,
    expiryWarningDays: opts.expiryWarningDays,
    ...(opts.reads ? { reads: opts.reads } : {}),
    ...(opts.targets ? { targets: opts.targets } : {}),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
  });
  const out = { findings: [] as Finding[], unjudged: [] as string[] };
  for (const h of health) {
    const subject = {
      resourceId: h.resource.id,
      resourceName: h.resource.name,
      ...(h.resource.keyUrl ? { keyUrl: h.resource.keyUrl } : {}),
      ...(h.resource.identityId ? { identityId: h.resource.identityId } : {}),
      ...(h.resource.storageAccountId ? { storageAccountId: h.resource.storageAccountId } : {}),
    };
    out.findings.push(...findingsOf(subject, h.results));
    out.unjudged.push(...unjudged(subject, h.results));
  }
  return out;
}

/**
 * Whether a previous finding was out of this scan's sight — a subscription that could not be
 * listed, or a check whose read failed — and so stands rather than resolves (`diffFindings`' `notJudged`).
 */
export function notJudgedIn(cursor: ScanCursor): (previous: Pick<Finding, 'key' | 'resourceId'>) => boolean {
  const keys = new Set(cursor.unjudged);
  const subs = new Set(cursor.unlisted.map((u) => u.subscriptionId.toLowerCase()));
  return (f) => keys.has(f.key) || subs.has(subscriptionOf(f.resourceId).toLowerCase());
}

/** A whole scan in one process: steps until done, one read cache throughout. */
export async function runScan(arm: ArmGateway, subscriptions: string[], opts: ScanStepOptions, onStep?: (cursor: ScanCursor) => Promise<void> | void): Promise<ScanCursor> {
  const reads = opts.reads ?? scanReads(arm);
  let cursor = startScan(subscriptions);
  for (;;) {
    const r = await scanStep(arm, cursor, { ...opts, reads });
    cursor = r.cursor;
    await onStep?.(cursor);
    if (r.done) return cursor;
  }
}
