// The watchdog's commands and who may use them: `watch`, `unwatch`, `watch list`, `scan now`
// parse to canonical scopes; the policy lets watchers, auditors and the approvers of rules that
// cover a scope watch it — nobody else.
import { parseCommand, watchScope } from '../../src/chat/commands';
import { parsePolicy } from '../../src/workflow/policy';

const SUB = '0b1f6471-1bf0-4dda-aec3-111111111111';
const OTHER = '0b1f6471-1bf0-4dda-aec3-222222222222';

describe('watch commands', () => {
  it.each([
    ['watch all', { kind: 'watch', scope: 'all' }],
    ['watch ALL', { kind: 'watch', scope: 'all' }],
    [`watch ${SUB.toUpperCase()}`, { kind: 'watch', scope: `/subscriptions/${SUB}` }],
    [`watch /subscriptions/${SUB}/`, { kind: 'watch', scope: `/subscriptions/${SUB}` }],
    [`watch /subscriptions/${SUB}/resourceGroups/rg-app`, { kind: 'watch', scope: `/subscriptions/${SUB}/resourceGroups/rg-app` }],
    ['watch list', { kind: 'watch-list' }],
    [`unwatch ${SUB}`, { kind: 'unwatch', scope: `/subscriptions/${SUB}` }],
    ['scan now', { kind: 'scan-now' }],
  ])('%s', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each([
    ['watch', /`watch` needs a scope/],
    ['watch everything', /"everything" is not a scope to watch/],
    [`watch /subscriptions/${SUB}/resourceGroups/rg.`, /is not a scope to watch/],
    ['watch /subscriptions/not-a-guid', /is not a scope to watch/],
    ['scan', /`scan` takes `now`/],
    ['unwatch', /`unwatch` needs the scope/],
  ])('%s is refused in one line that names the fix', (text, problem) => {
    const c = parseCommand(text);
    expect(c.kind).toBe('usage');
    if (c.kind === 'usage') expect(c.problem).toMatch(problem);
  });

  it('a scope is canonical: one watch per scope however it was typed', () => {
    expect(watchScope(`/SUBSCRIPTIONS/${SUB.toUpperCase()}`)).toBe(`/subscriptions/${SUB}`);
    expect(watchScope(' all ')).toBe('all');
    expect(watchScope('')).toBeUndefined();
  });
});

describe('who may watch', () => {
  const policy = parsePolicy(
    [
      'version: 2',
      'tenants: { teams: ["*"], slack: ["*"] }',
      'people:',
      '  wendy: { teams: ["t/wendy"] }',
      '  aud: { teams: ["t/aud"] }',
      'watchers: ["person:wendy"]',
      'auditors: ["person:aud"]',
      'rules:',
      '  - name: app',
      `    match: { subscriptions: ["${SUB}"], resourceGroups: ["rg-app"] }`,
      '    requesters: ["*"]',
      '    approvers: ["teams:t/appro", "teams:t/other"]',
      '    irreversibleExtraApprovals: 0',
      '  - name: everywhere',
      '    requesters: ["*"]',
      '    approvers: ["teams:t/global", "teams:t/other"]',
      '    irreversibleExtraApprovals: 0',
    ].join('\n'),
    'inline',
  );
  const who = (id: string) => ({ platform: 'teams' as const, tenant: 't', id });

  it('watchers and auditors may watch anything', () => {
    for (const id of ['wendy', 'aud']) {
      expect(policy.mayWatch(who(id), {})).toBe(true);
      expect(policy.mayWatch(who(id), { subscriptionId: OTHER })).toBe(true);
    }
  });

  it('an approver may watch what a rule naming them covers, and `all` only through a rule for every subscription', () => {
    expect(policy.mayWatch(who('appro'), { subscriptionId: SUB, resourceGroup: 'rg-app' })).toBe(true);
    expect(policy.mayWatch(who('appro'), { subscriptionId: SUB })).toBe(false);
    expect(policy.mayWatch(who('appro'), { subscriptionId: OTHER, resourceGroup: 'rg-app' })).toBe(false);
    expect(policy.mayWatch(who('appro'), {})).toBe(false);
    expect(policy.mayWatch(who('global'), {})).toBe(true);
    expect(policy.mayWatch(who('global'), { subscriptionId: OTHER })).toBe(true);
  });

  it('anyone else may not', () => {
    expect(policy.mayWatch(who('mallory'), { subscriptionId: SUB, resourceGroup: 'rg-app' })).toBe(false);
    expect(policy.mayWatch(who('mallory'), {})).toBe(false);
  });
});
