// Findings of the watchdog: what a health scan says about one resource and one check, compared
// with the previous scan (only what changed is worth a message), and grouped per key ("key K
// expires in 9 days — 14 resources depend on it"). Pure: the lead's store and channels use it.
import { parseKeyUrl } from '../checks/key-url';
import type { CheckResult } from '../domain/types';

export type Severity = 'urgent' | 'warning';

export interface Finding {
  /** `${resourceId lower-cased}|${checkId}`: the same finding in two scans has the same key. */
  key: string;
  resourceId: string;
  /** The resource's name, for the alert's list of dependents. */
  resourceName: string;
  checkId: string;
  severity: Severity;
  title: string;
  finding: string;
  remedy: string;
  /** The key the resource depends on, as its configuration names it (a pinned version included). */
  keyUrl?: string;
  vaultName?: string;
  /** What the resource depends on (versionless key URL, vault name, identity and storage account ids, lower-cased): an event about any of them re-scans it. */
  dependsOn: string[];
  /** The values the check looked at (e.g. daysLeft, exp): the headline of an alert is built from them. */
  evidence: CheckResult['evidence'];
  /** The fix as a request of its own, when the check names one (*Fix this* on the alert). */
  fix?: CheckResult['fix'];
}

/**
 * Would make the resource unusable now: the key or its vault gone, the key disabled or expired,
 * the identity gone, unassigned or without its grant, the firewall shutting the service out, the
 * experiment's storage account gone. Anything else found is a warning.
 */
const URGENT_ON_FAIL = new Set(['key.vault-found', 'key.enabled', 'key.not-expired', 'identity.exists', 'identity.assigned-to-resource', 'identity.key-permissions', 'storage.key-access', 'storage.exists', 'vault.firewall']);

/** What the resource a check result is about depends on (from the inventory). */
export interface FindingSubject {
  resourceId: string;
  resourceName: string;
  keyUrl?: string;
  identityId?: string;
  storageAccountId?: string;
}

/** The versionless, lower-cased key identifier (vault host + key name): what "one key" means for grouping and events. */
export function keyIdOf(keyUrl: string | undefined): string | undefined {
  if (!keyUrl) return undefined;
  const r = parseKeyUrl(keyUrl);
  return r.ok ? r.ref.versionless.toLowerCase() : keyUrl.toLowerCase();
}

function vaultNameOf(keyUrl: string | undefined): string | undefined {
  if (!keyUrl) return undefined;
  const r = parseKeyUrl(keyUrl);
  return r.ok ? r.ref.vaultName : undefined;
}

export function findingKey(resourceId: string, checkId: string): string {
  return `${resourceId.toLowerCase()}|${checkId}`;
}

/**
 * The findings among one resource's check results: failures and warnings. A rotation policy
 * (info in the catalogue: it never blocks a request) is a warning here when the key has neither
 * a rotation policy nor an expiry. `error` results are not findings: nothing was learnt (see `unjudged`).
 */
export function findingsOf(subject: FindingSubject, results: readonly CheckResult[]): Finding[] {
  const dependsOn = [keyIdOf(subject.keyUrl), vaultNameOf(subject.keyUrl)?.toLowerCase(), subject.identityId?.toLowerCase(), subject.storageAccountId?.toLowerCase()].filter((d): d is string => !!d);
  const out: Finding[] = [];
  for (const r of results) {
    let severity: Severity | undefined;
    if (r.status === 'fail') severity = URGENT_ON_FAIL.has(r.id) ? 'urgent' : 'warning';
    else if (r.status === 'warn') severity = 'warning';
    else if (r.status === 'info' && r.id === 'vault.rotation-policy' && r.evidence['rotationPolicy'] === 'none' && !r.evidence['exp']) severity = 'warning';
    if (!severity) continue;
    out.push({
      key: findingKey(subject.resourceId, r.id),
      resourceId: subject.resourceId,
      resourceName: subject.resourceName,
      checkId: r.id,
      severity,
      title: r.title,
      finding: r.finding,
      remedy: r.remedy ?? (r.id === 'vault.rotation-policy' ? rotationRemedy(subject.keyUrl) : ''),
      ...(subject.keyUrl ? { keyUrl: subject.keyUrl } : {}),
      ...(vaultNameOf(subject.keyUrl) ? { vaultName: vaultNameOf(subject.keyUrl) } : {}),
      dependsOn,
      evidence: r.evidence,
      ...(r.fix ? { fix: r.fix } : {}),
    });
  }
  return out;
}

function rotationRemedy(keyUrl: string | undefined): string {
  const r = keyUrl ? parseKeyUrl(keyUrl) : undefined;
  return r?.ok
    ? `Give the key a rotation policy: az keyvault key rotation-policy update --vault-name ${r.ref.vaultName} --name ${r.ref.keyName} --value policy.json (a "Rotate" lifetime action and an expiry)`
    : 'Give the key a rotation policy (a "Rotate" lifetime action and an expiry).';
}

/** The keys of check results that ended in `error` (a read failed): their previous findings stand, neither resolved nor new. */
export function unjudged(subject: Pick<FindingSubject, 'resourceId'>, results: readonly CheckResult[]): string[] {
  return results.filter((r) => r.status === 'error').map((r) => findingKey(subject.resourceId, r.id));
}

export interface FindingsDiff {
  new: Finding[];
  /** Same finding, more severe now (warning → urgent); the new version. */
  worsened: Finding[];
  /** In the previous scan, gone now; the previous version. */
  resolved: Finding[];
  /** Still there at the same (or a lower) severity; the new version (its text may say a newer number of days). */
  unchanged: Finding[];
}

const RANK: Record<Severity, number> = { warning: 1, urgent: 2 };

export interface DiffOptions {
  /**
   * Findings this scan could not judge (a read failed, a subscription could not be listed): a
   * previous finding for which this is true is carried as unchanged, never reported resolved.
   */
  notJudged?: (previous: Finding) => boolean;
}

/** Compares a scan's findings with the previous scan's, by finding key. */
export function diffFindings(previous: readonly Finding[], next: readonly Finding[], opts: DiffOptions = {}): FindingsDiff {
  const before = new Map(previous.map((f) => [f.key, f]));
  const now = new Map(next.map((f) => [f.key, f]));
  const d: FindingsDiff = { new: [], worsened: [], resolved: [], unchanged: [] };
  for (const f of now.values()) {
    const p = before.get(f.key);
    if (!p) d.new.push(f);
    else if (RANK[f.severity] > RANK[p.severity]) d.worsened.push(f);
    else d.unchanged.push(f);
  }
  for (const p of before.values()) {
    if (now.has(p.key)) continue;
    if (opts.notJudged?.(p)) d.unchanged.push(p);
    else d.resolved.push(p);
  }
  return d;
}

/** One alert: everything found about one key (or, for a resource whose key is unknown, about that resource). */
export interface KeyAlert {
  /** The versionless key id (lower-cased), or `resource:<id>` when the finding names no key. */
  groupKey: string;
  keyUrl?: string;
  keyName?: string;
  vaultName?: string;
  /** The worst severity among the findings. */
  severity: Severity;
  /** "key K expires in 9 days — 14 resources depend on it" */
  headline: string;
  /** Every resource with a finding about this key, by name, sorted. */
  resources: Array<{ id: string; name: string }>;
  /** One line per check found failing, worst first: what, on how many resources, and the remedy. */
  issues: Array<{ checkId: string; severity: Severity; title: string; finding: string; remedy: string; resources: string[]; fix?: Finding['fix'] }>;
  findings: Finding[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What the worst issue says about the key, in a few words (the headline's first half). */
function statement(f: Finding, keyLabel: string): string {
  const days = typeof f.evidence['daysLeft'] === 'number' ? f.evidence['daysLeft'] : undefined;
  switch (f.checkId) {
    case 'key.enabled':
      return /not found|was not found/.test(f.finding) ? `${keyLabel} was not found` : /not active until/.test(f.finding) ? `${keyLabel} is not active yet` : `${keyLabel} is disabled`;
    case 'key.not-expired':
      if (f.severity === 'urgent') return /not found/.test(f.finding) ? `${keyLabel} was not found` : `${keyLabel} has expired`;
      return days === undefined ? `${keyLabel} expires soon` : days <= 0 ? `${keyLabel} expires today` : `${keyLabel} expires in ${plural(days, 'day')}`;
    case 'key.vault-found':
      return `the vault of ${keyLabel} was not found`;
    case 'identity.key-permissions':
    case 'storage.key-access':
      return `an identity lost access to ${keyLabel}`;
    case 'identity.exists':
      return `the identity using ${keyLabel} was not found`;
    case 'identity.assigned-to-resource':
      return `the identity using ${keyLabel} is no longer assigned`;
    case 'vault.firewall':
      return `the vault firewall shuts the services out of ${keyLabel}`;
    case 'key.version-behind':
      return `a newer version of ${keyLabel} exists`;
    case 'vault.soft-delete':
      return `the vault of ${keyLabel} has soft delete off`;
    case 'vault.purge-protection':
      return `the vault of ${keyLabel} has purge protection off`;
    case 'vault.rotation-policy':
      return `${keyLabel} has no rotation policy and no expiry`;
    default:
      return `${keyLabel}: ${f.title.charAt(0).toLowerCase()}${f.title.slice(1)}`;
  }
}

/** One alert per key, naming every resource that depends on it; urgent alerts first, then by key. */
export function groupByKey(findings: readonly Finding[]): KeyAlert[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const g = keyIdOf(f.keyUrl) ?? `resource:${f.resourceId.toLowerCase()}`;
    groups.set(g, [...(groups.get(g) ?? []), f]);
  }
  const alerts: KeyAlert[] = [];
  for (const [groupKey, fs] of groups) {
    const byCheck = new Map<string, Finding[]>();
    for (const f of fs) byCheck.set(f.checkId, [...(byCheck.get(f.checkId) ?? []), f]);
    const issues = [...byCheck.values()]
      .map((list) => {
        const worst = [...list].sort(bySeverityThenDays)[0]!;
        return {
          checkId: worst.checkId,
          severity: worst.severity,
          title: worst.title,
          finding: worst.finding,
          remedy: worst.remedy,
          resources: [...new Set(list.map((f) => f.resourceName))].sort(),
          worst,
        };
      })
      .sort((a, b) => bySeverityThenDays(a.worst, b.worst) || a.checkId.localeCompare(b.checkId));
    const resources = [...new Map(fs.map((f) => [f.resourceId.toLowerCase(), { id: f.resourceId, name: f.resourceName }])).values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const sample = fs.find((f) => f.keyUrl);
    const ref = sample?.keyUrl ? parseKeyUrl(sample.keyUrl) : undefined;
    const keyName = ref?.ok ? ref.ref.keyName : undefined;
    const vaultName = ref?.ok ? ref.ref.vaultName : undefined;
    const keyLabel = keyName ? `key ${keyName}${vaultName ? ` (vault ${vaultName})` : ''}` : `resource ${resources[0]?.name ?? groupKey}`;
    const top = issues[0]!;
    const dependents = keyName ? ` — ${plural(resources.length, 'resource')} ${resources.length === 1 ? 'depends' : 'depend'} on it` : '';
    alerts.push({
      groupKey,
      ...(sample?.keyUrl ? { keyUrl: sample.keyUrl } : {}),
      ...(keyName ? { keyName } : {}),
      ...(vaultName ? { vaultName } : {}),
      severity: top.severity,
      headline: `${statement(top.worst, keyLabel)}${dependents}`,
      resources,
      issues: issues.map(({ worst, ...i }) => ({ ...i, ...(worst.fix ? { fix: worst.fix } : {}) })),
      findings: [...fs],
    });
  }
  return alerts.sort((a, b) => RANK[b.severity] - RANK[a.severity] || a.groupKey.localeCompare(b.groupKey));
}

function bySeverityThenDays(a: Finding, b: Finding): number {
  const r = RANK[b.severity] - RANK[a.severity];
  if (r) return r;
  const da = typeof a.evidence['daysLeft'] === 'number' ? a.evidence['daysLeft'] : Infinity;
  const db = typeof b.evidence['daysLeft'] === 'number' ? b.evidence['daysLeft'] : Infinity;
  return da - db;
}
