import { parsePolicy, PolicyError } from '../../src/workflow/policy';
import { readFileSync } from 'node:fs';

const doc = `
version: 1
groups:
  sec: ["teams:aad-bob", "slack:U1"]
rules:
  - name: prod
    match: { subscriptions: ["sub-prod"], resourceGroups: ["rg-prod-*"] }
    requesters: ["*"]
    approvers: ["group:sec"]
    approvalsRequired: 2
  - name: rest
    requesters: ["teams:aad-alice"]
    approvers: ["group:sec"]
`;

describe('policy file', () => {
  const p = parsePolicy(doc, 'inline.yaml');

  it('first matching rule wins, with globs on resource groups', () => {
    expect(p.ruleFor({ subscriptionId: 'sub-prod', resourceGroup: 'rg-prod-eu', targetType: 'fluid-relay' })?.name).toBe('prod');
    expect(p.ruleFor({ subscriptionId: 'sub-prod', resourceGroup: 'rg-dev', targetType: 'fluid-relay' })?.name).toBe('rest');
  });

  it('expands groups and matches principals by platform and id', () => {
    const rule = p.ruleFor({ subscriptionId: 'x', resourceGroup: 'y', targetType: 'fluid-relay' })!;
    expect(p.includes(rule.approvers, { platform: 'teams', id: 'aad-bob' })).toBe(true);
    expect(p.includes(rule.approvers, { platform: 'slack', id: 'aad-bob' })).toBe(false);
    expect(p.includes(rule.requesters, { platform: 'teams', id: 'aad-mallory' })).toBe(false);
  });

  it.each([
    ['version: 2\nrules: []', /version/],
    ['version: 1\nrules: []', /rules: /],
    ['version: 1\nrules:\n  - name: r\n    requesters: ["bob"]\n    approvers: ["*"]', /rules\.0\.requesters\.0: a principal is/],
    ['version: 1\nrules:\n  - name: r\n    requesters: ["*"]\n    approvers: ["group:nope"]', /group "nope" is not defined/],
    ['version: 1\nrules: [', /not valid YAML/],
  ])('a bad file names the path and the key: %s', (text, message) => {
    expect(() => parsePolicy(text, 'policy/bad.yaml')).toThrow(PolicyError);
    expect(() => parsePolicy(text, 'policy/bad.yaml')).toThrow(/policy\/bad\.yaml/);
    expect(() => parsePolicy(text, 'policy/bad.yaml')).toThrow(message);
  });

  it.each(['policy/local.policy.yaml', 'policy/sample.policy.yaml'])('the shipped %s is valid', (file) => {
    expect(() => parsePolicy(readFileSync(file, 'utf8'), file)).not.toThrow();
  });
});
