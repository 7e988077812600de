import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePolicy, PolicyError } from '../../src/workflow/policy';

const T = '72f988bf-0000-4000-8000-000000000001';
const doc = `
version: 2
tenants: { teams: ["${T}"], slack: ["T1"] }
people:
  bob: { teams: "${T}/AAD-BOB", slack: "T1/U1" }
  carol: { teams: "${T}/aad-carol" }
  alice: { teams: "${T}/aad-alice", slack: "T1/UALICE" }
groups:
  sec: [bob, carol]
rules:
  - name: prod
    match: { subscriptions: ["sub-prod"], resourceGroups: ["rg-prod-*"] }
    requesters: ["*"]
    approvers: ["group:sec"]
    approvalsRequired: 1
    irreversibleExtraApprovals: 0
  - name: rest
    requesters: ["person:alice"]
    approvers: ["group:sec"]
    irreversibleExtraApprovals: 0
`;

describe('policy file (version 2: people, not accounts)', () => {
  const p = parsePolicy(doc, 'inline.yaml');
  const bobTeams = { platform: 'teams' as const, tenant: T, id: 'aad-bob' };
  const bobSlack = { platform: 'slack' as const, tenant: 'T1', id: 'U1' };

  it('every rule whose match fits applies, with globs on resource groups; a subscription-wide scope matches every group of it', () => {
    expect(p.rulesFor({ subscriptionId: 'sub-prod', resourceGroup: 'rg-prod-eu', targetType: 'fluid-relay' }).map((r) => r.name)).toEqual(['prod', 'rest']);
    expect(p.rulesFor({ subscriptionId: 'sub-prod', resourceGroup: 'rg-dev', targetType: 'fluid-relay' }).map((r) => r.name)).toEqual(['rest']);
    expect(p.rulesFor({ subscriptionId: 'sub-prod', resourceGroup: '', targetType: 'fluid-relay' }).map((r) => r.name)).toEqual(['prod', 'rest']);
  });

  it('one person is one key across accounts and platforms, compared case-insensitively', () => {
    expect(p.personOf(bobTeams)).toBe('person:bob');
    expect(p.personOf({ ...bobTeams, id: 'AAD-BOB', tenant: T.toUpperCase() })).toBe('person:bob');
    expect(p.personOf(bobSlack)).toBe('person:bob');
    // The same object id in another tenant is somebody else.
    expect(p.personOf({ ...bobTeams, tenant: 'other-tenant' })).not.toBe('person:bob');
    const rest = p.rule('rest')!;
    expect(p.includes(rest.approvers, bobSlack)).toBe(true);
    expect(p.includes(rest.approvers, { platform: 'teams', tenant: 'other-tenant', id: 'aad-bob' })).toBe(false);
    expect(p.includes(rest.requesters, { platform: 'slack', tenant: 'T1', id: 'UALICE' })).toBe(true);
  });

  it('admits only the tenants it lists', () => {
    expect(p.admitsTenant('teams', T.toUpperCase())).toBe(true);
    expect(p.admitsTenant('teams', 'another')).toBe(false);
    expect(p.admitsTenant('slack', '')).toBe(false);
  });

  it('counts a person once, whichever accounts approved, and never the requester', () => {
    const alice = { platform: 'teams' as const, tenant: T, id: 'aad-alice' };
    const s = p.standing(['prod'], false, alice, [{ approver: bobTeams }, { approver: bobSlack }]);
    expect(s.rules[0]!.counted).toEqual(['person:bob']);
    const self = p.standing(['prod'], false, bobTeams, [{ approver: bobSlack }]);
    expect(self.rules[0]!.counted).toEqual([]);
    expect(self.satisfied).toBe(false);
  });

  it.each([
    ['version: 1\nrules: []', /version must be 2/],
    ['version: 2\nrules: []', /rules: /],
    ['version: 2\nrules:\n  - name: r\n    requesters: ["bob"]\n    approvers: ["*"]', /rules\.0\.requesters\.0: a principal is/],
    ['version: 2\nrules:\n  - name: r\n    requesters: ["teams:aad-bob"]\n    approvers: ["*"]', /rules\.0\.requesters\.0: a principal is/],
    ['version: 2\nrules:\n  - name: r\n    requesters: ["*"]\n    approvers: ["group:nope"]', /group "nope" is not defined/],
    ['version: 2\nrules:\n  - name: r\n    requesters: ["*"]\n    approvers: ["person:nope"]', /person "nope" is not defined/],
    ['version: 2\nrules:\n  - name: r\n    requesters: ["*"]\n    approvers: ["*"]\n  - name: R\n    requesters: ["*"]\n    approvers: ["*"]', /rules\.1\.name: rule name "R" is already used by rules\.0/],
    ['version: 2\npeople:\n  a: { teams: "t/x" }\n  b: { teams: "T/X" }\nrules:\n  - name: r\n    requesters: ["*"]\n    approvers: ["*"]', /also listed under a/],
    ['version: 2\nrules: [', /not valid YAML/],
  ])('a bad file names the path and the key: %s', (text, message) => {
    expect(() => parsePolicy(text, 'policy/bad.yaml')).toThrow(PolicyError);
    expect(() => parsePolicy(text, 'policy/bad.yaml')).toThrow(/policy\/bad\.yaml/);
    expect(() => parsePolicy(text, 'policy/bad.yaml')).toThrow(message);
  });

  it.each([
    // Two approvers, one of whom may be the requester: one left, two needed.
    [
      'two approvers, the requester among them',
      `version: 2\npeople:\n  a: { slack: "T/A" }\n  b: { slack: "T/B" }\nrules:\n  - name: tight\n    requesters: ["*"]\n    approvers: ["person:a", "person:b"]\n    approvalsRequired: 2\n    irreversibleExtraApprovals: 0`,
      /rule "tight" can never be satisfied: it needs 2 distinct approvers, but only 1 people it names can approve/,
    ],
    // The irreversible extra approval counts too.
    [
      'irreversible extra',
      `version: 2\ngroups:\n  g: ["slack:T/A", "slack:T/B"]\nrules:\n  - name: extra\n    requesters: ["slack:T/C"]\n    approvers: ["group:g"]\n    approvalsRequired: 2`,
      /rule "extra" can never be satisfied: it needs 3 distinct approvers for an irreversible change \(2 \+ 1\), but only 2/,
    ],
    // One person with two accounts is one approver.
    [
      'one person, two accounts',
      `version: 2\npeople:\n  a: { teams: "t/a", slack: "T/A" }\nrules:\n  - name: same\n    requesters: ["slack:T/C"]\n    approvers: ["teams:t/a", "slack:T/A"]\n    approvalsRequired: 2\n    irreversibleExtraApprovals: 0`,
      /rule "same" can never be satisfied: it needs 2 distinct approvers, but only 1/,
    ],
  ])('a rule that can never gather enough distinct approvers is refused: %s', (_name, text, message) => {
    expect(() => parsePolicy(text, 'policy/bad.yaml')).toThrow(message);
  });

  it.each(['policy/local.policy.yaml', 'policy/sample.policy.yaml'])('the shipped %s is valid', (file) => {
    expect(() => parsePolicy(readFileSync(file, 'utf8'), file)).not.toThrow();
  });
});

describe('npm run policy:check', () => {
  const run = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'cmk-policy-check-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, text);
    return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/policy-check.ts', file], { encoding: 'utf8', timeout: 60_000 });
  };

  it('refuses duplicate rule names and a rule that can never be satisfied, naming the rule, exit 1', () => {
    const dup = run('version: 2\nrules:\n  - name: prod\n    requesters: ["*"]\n    approvers: ["*"]\n  - name: prod\n    requesters: ["*"]\n    approvers: ["*"]\n');
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/rules\.1\.name: rule name "prod" is already used by rules\.0/);
    const never = run('version: 2\npeople:\n  a: { teams: "t/a" }\nrules:\n  - name: lonely\n    requesters: ["*"]\n    approvers: ["person:a"]\n');
    expect(never.status).toBe(1);
    expect(never.stderr).toMatch(/rule "lonely" can never be satisfied: it needs 2 distinct approvers/);
  });

  it('passes the shipped sample and says what each rule means', () => {
    const ok = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/policy-check.ts', 'policy/sample.policy.yaml'], { encoding: 'utf8', timeout: 60_000 });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/valid, 2 rule\(s\), 5 people/);
    expect(ok.stdout).toMatch(/- production: 2 approval\(s\) \(\+1 when irreversible\)/);
  });
});
