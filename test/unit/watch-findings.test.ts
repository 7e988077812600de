// Findings of the watchdog: which check results become findings and how severe, what changed since
// the previous scan, and one alert per key naming every resource that depends on it.
import type { CheckResult } from '../../src/domain/types';
import { diffFindings, findingsOf, groupByKey, type Finding, type FindingSubject } from '../../src/watch/findings';

const KEY = 'https://kv-prod.vault.azure.net/keys/cmk-app';
const OTHER_KEY = 'https://kv-prod.vault.azure.net/keys/cmk-other/0123456789abcdef0123456789abcdef';

function subject(name: string, over: Partial<FindingSubject> = {}): FindingSubject {
  return {
    resourceId: `/subscriptions/s1/resourceGroups/rg/providers/Microsoft.FluidRelay/fluidRelayServers/${name}`,
    resourceName: name,
    keyUrl: KEY,
    identityId: '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app',
    ...over,
  };
}

function result(id: string, status: CheckResult['status'], finding = `${id} ${status}`, evidence: CheckResult['evidence'] = {}): CheckResult {
  return { id, title: `Title of ${id}`, status, finding, evidence, ...(status === 'pass' || status === 'info' ? {} : { remedy: `fix ${id}` }) };
}

const disabled = (name: string) => findingsOf(subject(name), [result('key.enabled', 'fail', 'The key of cmk-app is disabled; the service could not wrap or unwrap with it.')]);
const expiring = (name: string, daysLeft: number, keyUrl = KEY) => findingsOf(subject(name, { keyUrl }), [result('key.not-expired', 'warn', 'Key expires soon.', { daysLeft, exp: '2027-01-01T00:00:00.000Z' })]);

describe('findingsOf', () => {
  it('makes failures and warnings findings; passes, infos and errors are not', () => {
    const fs = findingsOf(subject('fr-1'), [
      result('key.enabled', 'pass'),
      result('key.not-expired', 'warn', 'Key expires on …', { daysLeft: 9 }),
      result('vault.purge-protection', 'fail'),
      result('identity.key-permissions', 'error'),
      result('vault.rotation-policy', 'info', 'has a rotation policy', { rotationPolicy: 'rotate' }),
    ]);
    expect(fs.map((f) => [f.checkId, f.severity])).toEqual([
      ['key.not-expired', 'warning'],
      ['vault.purge-protection', 'warning'],
    ]);
    expect(fs[0]).toMatchObject({ key: `${subject('fr-1').resourceId.toLowerCase()}|key.not-expired`, remedy: 'fix key.not-expired', keyUrl: KEY, vaultName: 'kv-prod' });
    expect(fs[0]!.dependsOn).toEqual(expect.arrayContaining([KEY, 'kv-prod', subject('fr-1').identityId!.toLowerCase()]));
  });

  it('marks urgent what would make the resource unusable now: key disabled or expired, vault gone, access lost', () => {
    for (const id of ['key.enabled', 'key.not-expired', 'key.vault-found', 'identity.exists', 'identity.assigned-to-resource', 'identity.key-permissions', 'storage.key-access', 'vault.firewall']) {
      expect(findingsOf(subject('fr-1'), [result(id, 'fail')])[0]?.severity).toBe('urgent');
    }
    for (const id of ['vault.soft-delete', 'vault.purge-protection']) expect(findingsOf(subject('fr-1'), [result(id, 'fail')])[0]?.severity).toBe('warning');
  });

  it('a key with neither rotation policy nor expiry is a warning with a remedy naming the key', () => {
    const [f] = findingsOf(subject('fr-1'), [result('vault.rotation-policy', 'info', 'neither', { rotationPolicy: 'none' })]);
    expect(f).toMatchObject({ severity: 'warning' });
    expect(f!.remedy).toContain('--vault-name kv-prod --name cmk-app');
    expect(findingsOf(subject('fr-1'), [result('vault.rotation-policy', 'info', 'expiry only', { rotationPolicy: 'none', exp: '2027-01-01T00:00:00.000Z' })])).toEqual([]);
  });
});

describe('diffFindings', () => {
  it('tells new, worsened, resolved and unchanged apart by finding key', () => {
    const prev: Finding[] = [...expiring('fr-1', 9), ...expiring('fr-2', 9), ...expiring('fr-3', 9)];
    const next: Finding[] = [
      ...expiring('fr-1', 8), // same finding, a day later: unchanged, not news
      ...findingsOf(subject('fr-2'), [result('key.not-expired', 'fail', 'expired')]), // warning → urgent
      ...disabled('fr-4'),
    ];
    const d = diffFindings(prev, next);
    expect(d.new.map((f) => f.resourceName)).toEqual(['fr-4']);
    expect(d.worsened.map((f) => [f.resourceName, f.severity])).toEqual([['fr-2', 'urgent']]);
    expect(d.resolved.map((f) => f.resourceName)).toEqual(['fr-3']);
    expect(d.unchanged.map((f) => [f.resourceName, f.evidence['daysLeft']])).toEqual([['fr-1', 8]]);
  });

  it('an improvement (urgent → warning) is not news', () => {
    const d = diffFindings(findingsOf(subject('fr-1'), [result('key.not-expired', 'fail')]), expiring('fr-1', 20));
    expect(d.unchanged).toHaveLength(1);
    expect([...d.new, ...d.worsened, ...d.resolved]).toEqual([]);
  });

  it('a finding the scan could not judge stands: neither resolved nor new', () => {
    const prev = [...disabled('fr-1'), ...disabled('fr-2')];
    const d = diffFindings(prev, [], { notJudged: (f) => f.resourceName === 'fr-1' });
    expect(d.resolved.map((f) => f.resourceName)).toEqual(['fr-2']);
    expect(d.unchanged.map((f) => f.resourceName)).toEqual(['fr-1']);
  });

  it('nothing changed → nothing new, worsened or resolved', () => {
    const fs = [...disabled('fr-1'), ...expiring('fr-2', 5, OTHER_KEY)];
    const d = diffFindings(fs, structuredClone(fs));
    expect([d.new.length, d.worsened.length, d.resolved.length, d.unchanged.length]).toEqual([0, 0, 0, 2]);
  });
});

describe('groupByKey', () => {
  it('one alert per key: "key K expires in 9 days — 14 resources depend on it", with every resource named', () => {
    const names = Array.from({ length: 14 }, (_, i) => `fr-${String(i).padStart(2, '0')}`);
    const alerts = groupByKey(names.flatMap((n, i) => expiring(n, 9 + (i % 3))));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.headline).toBe('key cmk-app (vault kv-prod) expires in 9 days — 14 resources depend on it');
    expect(alerts[0]!.resources.map((r) => r.name)).toEqual(names);
    expect(alerts[0]).toMatchObject({ severity: 'warning', keyName: 'cmk-app', vaultName: 'kv-prod' });
  });

  it('versions of one key are one key; urgent alerts come first and lead with the urgent issue', () => {
    const alerts = groupByKey([...expiring('fr-1', 3, OTHER_KEY), ...expiring('fr-2', 30, KEY), ...disabled('fr-3'), ...expiring('fr-4', 3, 'https://kv-prod.vault.azure.net/keys/cmk-other')]);
    expect(alerts.map((a) => a.headline)).toEqual(['key cmk-app (vault kv-prod) is disabled — 2 resources depend on it', 'key cmk-other (vault kv-prod) expires in 3 days — 2 resources depend on it']);
    expect(alerts[0]!.issues.map((i) => [i.checkId, i.severity, i.resources])).toEqual([
      ['key.enabled', 'urgent', ['fr-3']],
      ['key.not-expired', 'warning', ['fr-2']],
    ]);
  });

  it('a resource whose key is unknown is its own alert', () => {
    const fs = findingsOf(subject('chaos-1', { keyUrl: undefined }), [result('storage.exists', 'fail', 'The storage account was not found.')]);
    const [a] = groupByKey(fs);
    expect(a).toMatchObject({ severity: 'urgent', groupKey: `resource:${subject('chaos-1').resourceId.toLowerCase()}` });
    expect(a!.headline).toContain('chaos-1');
    expect(a!.headline).not.toContain('depend');
  });
});
