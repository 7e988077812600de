// The watchdog (issue 15): conversations watch scopes; a durable scan job (one at a time across
// replicas: its lane) finds the CMK resources in them, checks the health of their keys, vaults and
// identities, and tells each conversation only what is new, worse or resolved — one alert per key,
// with Acknowledge and Snooze. Every change is a transaction with its audit entry and its jobs.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ArmGateway } from '../azure/port';
import type { Actor, ChangeRequest, Platform } from '../domain/types';
import { activeWatches, deactivateWatch, findingsOf, findWatch, getWatch, insertWatch, markGroup, saveScan, type Severity, type StoredFinding, type Watch } from '../store/watches';
import type { Store } from '../store/store';
import { groupByKey, inScope, keyIdOf, notJudgedIn, runScan, visibleSubscriptions, type Finding } from '../watch';
import type { TargetRegistry } from '../targets';
import type { AlertView } from './alert';
import type { ChatNotifier, Place } from './context';

export type { AlertView } from './alert';
import type { DurableQueue, JobSpec } from './durable';
import { defineJob, type JobRegistry } from './job-registry';
import type { Policy } from './policy';
import { Refusal } from './refusal';

/**
 * Finds the CMK resources in these subscriptions and checks them: the findings, and what this scan
 * could not judge (a read failed, a subscription could not be listed) — there the earlier findings stand.
 */
export type Scanner = (arm: ArmGateway, subscriptions: string[], opts: { now: Date; expiryWarningDays: number }) => Promise<{ findings: Finding[]; stands: (previous: Pick<Finding, 'key' | 'resourceId'>) => boolean }>;

/** The engine (src/watch): Resource Graph inventory (lists as the fallback), the health checks, one read per shared key, vault and identity. */
export function engineScanner(targets: TargetRegistry): Scanner {
  return async (arm, subscriptions, opts) => {
    const cursor = await runScan(arm, subscriptions, { ...opts, targets });
    return { findings: cursor.findings, stands: notJudgedIn(cursor) };
  };
}

export interface WatchdogDeps {
  store: Store;
  arm: ArmGateway;
  policy: () => Policy;
  queue: DurableQueue;
  registry: JobRegistry;
  notifiers: Partial<Record<Platform, ChatNotifier>>;
  scanner: Scanner;
  now?: () => Date;
  expiryWarningDays?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** Findings by severity and scan durations, for /metrics. */
  onScan?: (result: { seconds: number; findings: Record<Severity, number> }) => void;
}

const SCAN_LANE = 'watch:scan';
const SEVERITY_RANK: Record<Severity, number> = { warning: 1, urgent: 2 };
const MAX_SNOOZE_HOURS = 24 * 30;

const scanJob = defineJob({
  kind: 'watch.scan',
  schema: z.object({ watchIds: z.array(z.string()).optional(), reason: z.enum(['schedule', 'manual', 'event']), vault: z.string().optional() }),
  handler: async () => undefined,
});

const alertJob = defineJob({
  kind: 'watch.alert',
  schema: z.object({
    watchId: z.string(),
    alert: z.object({
      watchId: z.string(),
      groupKey: z.string(),
      kind: z.enum(['new', 'worse', 'again', 'resolved']),
      severity: z.enum(['urgent', 'warning']),
      title: z.string(),
      finding: z.string(),
      remedy: z.string(),
      resources: z.array(z.object({ name: z.string(), id: z.string() })),
      scope: z.string(),
      fix: z.object({ command: z.string(), values: z.record(z.string(), z.string()), label: z.string().optional() }).optional(),
    }),
  }),
  handler: async () => undefined,
});

/** `all` or a subscription / resource group id → the policy's view of it. */
export function scopeParts(scope: string): { subscriptionId?: string; resourceGroup?: string } {
  const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?$/i.exec(scope);
  return m ? { subscriptionId: m[1]!.toLowerCase(), ...(m[2] ? { resourceGroup: m[2] } : {}) } : {};
}

/** The alert a finding belongs to: its key (versionless, lower case), else the resource. */
const groupOf = (f: Finding) => keyIdOf(f.keyUrl) ?? `resource:${f.resourceId.toLowerCase()}`;

const conversationIdOf = (c: Watch['conversation']) => {
  const ref = c.ref as { conversation?: { id?: string }; channel?: string } | undefined;
  return ref?.conversation?.id ?? ref?.channel ?? '';
};

export class Watchdog {
  private readonly now: () => Date;
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: WatchdogDeps) {
    this.now = deps.now ?? (() => new Date());
    deps.registry.define({ ...scanJob, handler: (p) => this.scan(p) }, { ...alertJob, handler: (p) => this.deliver(p.watchId, p.alert) });
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) {
    this.deps.log?.(level, msg, data);
  }

  private mayWatch(actor: Actor, scope: string): void {
    const policy = this.deps.policy();
    if (!actor.id || !policy.admitsTenant(actor.platform, actor.tenant)) throw new Refusal('Your tenant or workspace is not one this bot’s policy admits.');
    if (!policy.mayWatch(actor, scopeParts(scope))) {
      throw new Refusal(`The policy does not let you watch ${scope === 'all' ? 'every subscription' : scope}: watching is for the policy's watchers, auditors, and approvers of the rules that cover the scope.`);
    }
  }

  /** `watch <scope>`: this conversation gets the alerts of the scope. */
  async watch(actor: Actor, place: Place, conversation: ChangeRequest['conversation'], scope: string): Promise<{ watch: Watch; created: boolean }> {
    this.mayWatch(actor, scope);
    const existing = await findWatch(this.deps.store.db, place.platform, place.conversationId, scope);
    if (existing) return { watch: existing, created: false };
    const watch: Watch = { id: `W-${randomBytes(4).toString('hex').toUpperCase()}`, platform: place.platform, conversationId: place.conversationId, conversation, scope, createdBy: actor, createdAt: this.now().toISOString() };
    await this.deps.store.change(async (tx) => {
      await insertWatch(tx, watch);
      return { result: undefined, audit: [{ actor, event: 'watch_added', data: { watchId: watch.id, scope, conversation: `${place.platform}:${place.conversationId}` } }], jobs: [this.scanSpec({ watchIds: [watch.id], reason: 'manual' })] };
    });
    this.deps.queue.wake();
    return { watch, created: true };
  }

  async unwatch(actor: Actor, place: Place, scope: string): Promise<Watch> {
    const existing = await findWatch(this.deps.store.db, place.platform, place.conversationId, scope);
    if (!existing) throw new Refusal(`This conversation does not watch ${scope}. \`watch list\` shows what it watches.`);
    this.mayWatch(actor, scope);
    await this.deps.store.change(async (tx) => {
      await deactivateWatch(tx, existing.id);
      return { result: undefined, audit: [{ actor, event: 'watch_removed', data: { watchId: existing.id, scope } }] };
    });
    return existing;
  }

  /** What this conversation watches, with the open findings of each. */
  async list(place: Place): Promise<Array<{ watch: Watch; open: StoredFinding[] }>> {
    const watches = await activeWatches(this.deps.store.db, { platform: place.platform, conversationId: place.conversationId });
    return Promise.all(watches.map(async (w) => ({ watch: w, open: (await findingsOf(this.deps.store.db, w.id)).filter((f) => f.state === 'open') })));
  }

  /** `scan now`: this conversation's watches, scanned at once. */
  async scanNow(actor: Actor, place: Place): Promise<Watch[]> {
    const watches = await activeWatches(this.deps.store.db, { platform: place.platform, conversationId: place.conversationId });
    if (!watches.length) throw new Refusal('This conversation watches nothing yet: `watch <scope>` first (`help watch`).');
    for (const w of watches) this.mayWatch(actor, w.scope);
    await this.deps.queue.enqueue(this.scanSpec({ watchIds: watches.map((w) => w.id), reason: 'manual' }));
    return watches;
  }

  /** Key Vault told us something about a vault (Event Grid): scan what depends on it now. */
  async rescanVault(vault: string, eventId: string): Promise<void> {
    // Keyed by the event's id: Event Grid's redelivery of the same event starts no second scan.
    await this.deps.queue.enqueue(scanJob.spec({ reason: 'event', vault: vault.toLowerCase() }, { key: `watch.scan:event:${eventId}`, lane: SCAN_LANE, maxAttempts: 5 }));
  }

  private scanSpec(payload: z.input<typeof scanJob.schema>): JobSpec {
    // One scan at a time across replicas (its lane); a scheduled scan per interval slot is enqueued once.
    // A scheduled scan is named by its interval slot: every replica's timer asks, one job is made.
    const key = payload.reason === 'schedule' ? `watch.scan:slot:${this.intervalMs}:${Math.floor(this.now().getTime() / Math.max(this.intervalMs, 60_000))}` : `watch.scan:${payload.reason}:${randomBytes(6).toString('hex')}`;
    return scanJob.spec(payload, { key, lane: SCAN_LANE, maxAttempts: 5 });
  }

  /** Every `intervalMs`, a scan of every watch (each replica asks; the job key makes it one). */
  private intervalMs = 0;

  /** The scheduled scan of the current interval slot (the same job for every replica that asks within it). */
  scheduledScan(): JobSpec {
    return this.scanSpec({ reason: 'schedule' });
  }

  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.intervalMs = intervalMs;
    this.timer = setInterval(() => {
      this.deps.queue.enqueue(this.scheduledScan()).catch((e: unknown) => this.log('warn', 'could not schedule a watch scan', { error: (e as Error).message }));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The scan job: read Azure once for every watched subscription, then settle each watch in its own transaction. */
  private async scan(p: z.output<typeof scanJob.schema>): Promise<void> {
    const started = Date.now();
    let watches = await activeWatches(this.deps.store.db);
    if (p.watchIds) watches = watches.filter((w) => p.watchIds!.includes(w.id));
    if (!watches.length) return;
    const arm = this.deps.arm;
    const subscriptions = await this.subscriptionsOf(arm, watches);
    const now = this.now();
    // An event about a vault (p.vault) scans everything watched: what depends on the vault is in it,
    // and one scan reads each key, vault and identity once however many resources share it.
    const { findings, stands } = await this.deps.scanner(arm, subscriptions, { now, expiryWarningDays: this.deps.expiryWarningDays ?? 30 });
    const counts: Record<Severity, number> = { urgent: 0, warning: 0 };
    for (const f of findings) counts[f.severity]++;
    for (const w of watches)
      await this.settle(
        w,
        findings.filter((f) => inScope({ id: f.resourceId }, w.scope)),
        now,
        stands,
      );
    this.log('info', 'watch scan done', { reason: p.reason, vault: p.vault ?? null, watches: watches.length, subscriptions: subscriptions.length, findings: findings.length });
    this.deps.onScan?.({ seconds: (Date.now() - started) / 1000, findings: counts });
  }

  private async subscriptionsOf(arm: ArmGateway, watches: Watch[]): Promise<string[]> {
    const subs = new Set<string>();
    if (watches.some((w) => w.scope === 'all')) for (const s of await visibleSubscriptions(arm)) subs.add(s);
    for (const w of watches) {
      const sub = scopeParts(w.scope).subscriptionId;
      if (sub) subs.add(sub);
    }
    return [...subs];
  }

  /**
   * Compare with what this watch was told before, store the scan, and queue the alerts: a group
   * whose worst finding is new or worse than what was told (and not snoozed), or whose findings are
   * all gone. All in one transaction: a scan run again (a retry, a killed process) tells nothing twice.
   */
  private async settle(watch: Watch, seen: Finding[], now: Date, stands: (previous: Pick<Finding, 'key' | 'resourceId'>) => boolean): Promise<void> {
    await this.deps.store.change(async (tx) => {
      const before = await findingsOf(tx, watch.id, { forUpdate: true });
      const open = before.filter((f) => f.state === 'open');
      const seenKeys = new Set(seen.map((f) => f.key));
      // Gone from this scan and judged by it: resolved. What the scan could not judge stands.
      const resolved = open.filter((f) => !seenKeys.has(f.key) && !stands({ key: f.key, resourceId: f.key.split('|')[0]! }));
      const alerts: AlertView[] = [];
      const told = new Map<string, number>();
      const unsnooze: string[] = [];
      for (const group of groupByKey(seen)) {
        const prior = open.filter((f) => f.groupKey === group.groupKey);
        // Snoozed: nothing about this key until the snooze ends; then, still failing, it is told again (once).
        const snoozed = prior.some((f) => f.snoozedUntil && new Date(f.snoozedUntil) > now);
        const snoozeEnded = !snoozed && prior.some((f) => f.snoozedUntil && new Date(f.snoozedUntil) <= now);
        const toldBefore = Math.max(0, ...prior.map((f) => Number(f.doc.toldRank ?? 0)));
        const rank = SEVERITY_RANK[group.severity];
        const newResources = group.findings.some((f) => !prior.some((p) => p.key === f.key && Number(p.doc.toldRank ?? 0) > 0));
        const tell = !snoozed && (rank > toldBefore || newResources || snoozeEnded);
        if (snoozeEnded) for (const f of prior) unsnooze.push(f.key);
        if (tell) alerts.push(this.alertOf(watch, group, snoozeEnded ? 'again' : toldBefore ? 'worse' : 'new'));
        for (const f of group.findings) told.set(f.key, tell ? rank : Number(prior.find((p) => p.key === f.key)?.doc.toldRank ?? 0));
      }
      const resolvedGroups = new Map<string, StoredFinding[]>();
      for (const f of resolved) resolvedGroups.set(f.groupKey, [...(resolvedGroups.get(f.groupKey) ?? []), f]);
      const stillFailing = new Set(seen.map(groupOf));
      for (const [groupKey, fs] of resolvedGroups) {
        // A key still failing for other resources is not resolved; only what was told is said resolved.
        if (stillFailing.has(groupKey) || !fs.some((f) => Number(f.doc.toldRank ?? 0) > 0)) continue;
        const label = String(fs[0]!.doc.keyUrl ? `key ${keyIdOf(String(fs[0]!.doc.keyUrl))?.replace(/^https:\/\//, '')}` : (fs[0]!.doc.resourceName ?? groupKey));
        alerts.push({
          watchId: watch.id,
          groupKey,
          kind: 'resolved',
          severity: fs[0]!.severity,
          title: `✅ Resolved: ${label} — ${fs
            .map((f) => String(f.doc.title ?? f.doc.checkId))
            .filter((t, i, all) => all.indexOf(t) === i)
            .join('; ')}`,
          finding: `No longer found on ${fs.length === 1 ? 'the resource' : `${new Set(fs.map((f) => String(f.doc.resourceId))).size} resources`}.`,
          remedy: '',
          resources: [...new Map(fs.map((f) => [String(f.doc.resourceId).toLowerCase(), { name: String(f.doc.resourceName ?? ''), id: String(f.doc.resourceId ?? '') }])).values()],
          scope: watch.scope,
        });
      }
      await saveScan(
        tx,
        watch.id,
        seen.map((f) => ({ key: f.key, groupKey: groupOf(f), severity: f.severity, doc: { ...f, toldRank: told.get(f.key) ?? 0 } })),
        resolved.map((f) => f.key),
        now.toISOString(),
        unsnooze,
      );
      const lane = `${watch.platform}:${conversationIdOf(watch.conversation)}`;
      return {
        result: undefined,
        audit: [
          {
            actor: { system: 'watchdog' },
            event: 'watch_scanned',
            data: { watchId: watch.id, scope: watch.scope, open: seen.length, resolved: resolved.length, alerts: alerts.map((a) => ({ kind: a.kind, group: a.groupKey, severity: a.severity })) },
          },
        ],
        jobs: alerts.map((alert) => alertJob.spec({ watchId: watch.id, alert }, { key: `watch.alert:${watch.id}:${alert.groupKey}:${alert.kind}:${now.getTime()}`, lane, maxAttempts: 6 })),
      };
    });
    this.deps.queue.wake();
  }

  private alertOf(watch: Watch, group: ReturnType<typeof groupByKey>[number], kind: 'new' | 'worse' | 'again'): AlertView {
    const top = group.issues[0]!;
    const more = group.issues.slice(1).map((i) => `${i.title} (${i.resources.join(', ')})`);
    return {
      watchId: watch.id,
      groupKey: group.groupKey,
      kind,
      severity: group.severity,
      title: `${group.severity === 'urgent' ? '🔴 Urgent' : '⚠️ Warning'}: ${group.headline.charAt(0).toUpperCase()}${group.headline.slice(1)}${kind === 'again' ? ' (still so after the snooze ended)' : ''}`,
      finding: [top.finding, ...(more.length ? [`Also: ${more.join('; ')}.`] : [])].join(' '),
      remedy: top.remedy,
      resources: group.resources,
      scope: watch.scope,
      ...(top.fix ? { fix: top.fix } : {}),
    };
  }

  private async deliver(watchId: string, alert: AlertView): Promise<void> {
    const watch = await getWatch(this.deps.store.db, watchId);
    if (!watch) return; // unwatched since
    const n = this.deps.notifiers[watch.platform];
    if (!n?.postAlert) return;
    await n.postAlert(watch.conversation, alert);
  }

  /** Acknowledge or snooze one alert's findings, from the watch's own conversation. */
  async mark(actor: Actor, place: Place, watchId: string, groupKey: string, how: { ack: true } | { snoozeHours: number; reason: string }): Promise<{ count: number; watch: Watch }> {
    const watch = await getWatch(this.deps.store.db, watchId);
    if (!watch) throw new Refusal('That alert belongs to a watch that has been removed.');
    if (watch.platform !== place.platform || watch.conversationId.toLowerCase() !== place.conversationId.toLowerCase()) throw new Refusal('Alerts are acknowledged or snoozed in the conversation that watches them.');
    this.mayWatch(actor, watch.scope);
    if ('snoozeHours' in how) {
      if (!Number.isFinite(how.snoozeHours) || how.snoozeHours <= 0 || how.snoozeHours > MAX_SNOOZE_HOURS) throw new Refusal(`Snooze for 1 to ${MAX_SNOOZE_HOURS} hours.`);
      if (how.reason.trim().length < 3) throw new Refusal('Give a reason to snooze (at least 3 characters): it is recorded.');
    }
    const count = await this.deps.store.change(async (tx) => {
      const mark = 'ack' in how ? { ackedBy: actor } : { snoozedUntil: new Date(this.now().getTime() + how.snoozeHours * 3600_000).toISOString(), reason: how.reason.trim() };
      const n = await markGroup(tx, watchId, groupKey, mark);
      return { result: n, audit: [{ actor, event: 'ack' in how ? 'finding_acknowledged' : 'finding_snoozed', data: { watchId, groupKey, findings: n, ...('ack' in how ? {} : { hours: how.snoozeHours, reason: how.reason.trim() }) } }] };
    });
    return { count, watch };
  }
}
