// `npm run audit:export -- <id>` writes one request's evidence record from the database, and
// `npm run audit:verify -- --bundle <file>` verifies it with no database at all.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChangeRequest, CheckResult } from '../../src/domain/types';
import { Store } from '../../src/store/store';
import { findTarget } from '../../src/targets';
import type { EvidenceRecord } from '../../src/workflow/evidence';
import { computeDigest } from '../../src/workflow/service';
import { changeRequest } from '../fixtures/requests';
import { runCli } from '../helpers/cli';

const dataDir = mkdtempSync(join(tmpdir(), 'cmk-export-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const BOB = { platform: 'teams' as const, id: 'aad-bob', name: 'Bob' };
const checks: CheckResult[] = [
  { id: 'identity.exists', title: 'Identity', status: 'pass', finding: 'found', evidence: { principalId: 'p-1' } },
  { id: 'key.enabled', title: 'Key', status: 'pass', finding: 'enabled', evidence: { keyVersion: 'v-1' } },
];

async function succeededRequest(store: Store, id: string): Promise<ChangeRequest> {
  const plan = { method: 'PUT' as const, resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.FluidRelay/fluidRelayServers/fr', apiVersion: '2022-06-01', body: { location: 'eastus' } };
  const digest = computeDigest(findTarget('fluid-relay')!, { targetType: 'fluid-relay', resourceId: plan.resourceId, plan }, checks);
  const req = changeRequest({ id, resourceId: plan.resourceId, plan, digest, checks });
  await store.createRequest(req, [{ actor: req.requester, event: 'requested', data: { targetType: 'fluid-relay', resourceId: plan.resourceId, digest, payload: plan.body } }]);
  await store.mutate(id, (cur) => ({
    next: { ...cur, state: 'approved', approvals: [{ approver: BOB, decision: 'approved', digest, at: new Date().toISOString() }] },
    audit: [{ actor: BOB, event: 'approved', data: { digest, counted: 1, required: 1 } }],
  }));
  await store.mutate(id, (cur) => ({ next: { ...cur, state: 'executing' }, audit: [{ actor: { system: 'executor' }, event: 'executing', data: { digest } }] }));
  await store.mutate(id, (cur) => ({
    next: { ...cur, state: 'verifying' },
    audit: [
      {
        actor: { system: 'executor' },
        event: 'arm_call',
        data: { method: 'PUT', ok: true, status: 200, correlationId: 'corr-write', calls: [{ method: 'PUT', path: plan.resourceId, apiVersion: '2022-06-01', status: 200, correlationId: 'corr-write', durationMs: 5 }] },
      },
    ],
  }));
  return store.mutate(id, (cur) => ({ next: { ...cur, state: 'succeeded', result: { status: 'succeeded', message: 'done' } }, audit: [{ actor: { system: 'verifier' }, event: 'verified', data: { ok: true } }] }));
}

describe('npm run audit:export and audit:verify --bundle', () => {
  it('exports a request and the bundle verifies offline; an edited row fails, naming it', async () => {
    const store = await Store.open({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
    await store.audit({ event: 'unrelated' });
    const done = await succeededRequest(store, 'CR-EXPRT2');
    await store.close();

    const file = join(dataDir, 'CR-EXPRT2.json');
    const exported = await runCli('src/cli/audit-export.ts', ['cr-exprt2', '--out', file], { DATA_DIR: dataDir });
    expect(exported).toMatchObject({ code: 0, err: expect.stringMatching(/^evidence of CR-EXPRT2 written to .* \(5 audit rows; chain head 6:[0-9a-f]{64}\)\n$/) });
    const record = JSON.parse(readFileSync(file, 'utf8')) as EvidenceRecord;
    expect(record.request.auditHead).toEqual(done.auditHead);
    expect(record.chainHead).toEqual(done.auditHead);
    expect(record.auditRows.map((r) => r.event)).toEqual(['requested', 'approved', 'executing', 'arm_call', 'verified']);
    expect(record.approvals).toEqual([expect.objectContaining({ who: 'Bob', platform: 'teams', id: 'aad-bob', decision: 'approved', digest: done.digest })]);
    expect(record.armCalls).toEqual([{ seq: 5, event: 'arm_call', method: 'PUT', path: done.plan!.resourceId, apiVersion: '2022-06-01', status: 200, correlationId: 'corr-write' }]);

    // No database: the bundle alone (DATA_DIR points nowhere useful).
    const offline = { DATA_DIR: join(dataDir, 'nothing-here') };
    expect(await runCli('src/cli/audit-verify.ts', ['--bundle', file], offline)).toMatchObject({ code: 0, out: 'evidence bundle CR-EXPRT2 verified: 5 audit rows, their hashes, the payload, the digest and the approvals hold\n' });

    const tampered = structuredClone(record);
    tampered.auditRows[3]!.data.correlationId = 'corr-other';
    writeFileSync(file, JSON.stringify(tampered));
    expect(await runCli('src/cli/audit-verify.ts', ['--bundle', file], offline)).toMatchObject({ code: 1, out: 'evidence bundle CR-EXPRT2 FAILS verification:\n  - audit row 5 (arm_call): content does not match its hash\n' });

    expect(await runCli('src/cli/audit-export.ts', ['CR-ZZZZZZ'], { DATA_DIR: dataDir })).toMatchObject({ code: 1, err: 'there is no request CR-ZZZZZZ\n' });
    // A command that cannot run (here: a configuration it cannot read) says so and exits 2, for both commands.
    for (const [script, name, args] of [
      ['src/cli/audit-export.ts', 'audit:export', ['CR-EXPRT2']],
      ['src/cli/audit-verify.ts', 'audit:verify', []],
    ] as const) {
      expect(await runCli(script, [...args], { DATA_DIR: dataDir, LOG_LEVEL: 'loud' })).toMatchObject({ code: 2, out: '', err: expect.stringMatching(new RegExp(`^${name} could not run: [^]*LOG_LEVEL`)) });
    }
  }, 120_000);
});
