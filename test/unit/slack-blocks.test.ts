// Block Kit output stays inside Slack's limits for the largest request, checked with the same
// rules the local stand-in enforces (blocks per message, section text, modal title, options,
// private_metadata).
import { SLACK_LIMITS, slackBlockErrors, slackViewErrors } from '../../src/dev';
import { esc, requestBlocks } from '../../src/chat/slack/blocks';
import { formModalOf, readModal, suggestOptions } from '../../src/chat/slack/form-modal';
import { formView } from '../../src/chat/forms';
import { DEFAULT_TARGETS } from '../../src/targets';
import { requestView } from '../../src/chat/presenter';
import type { ChangeRequest, CheckResult } from '../../src/domain/types';
import type { FormChoices } from '../../src/workflow/catalog';
import { changeRequest } from '../fixtures/requests';

const big = (i: number, status: CheckResult['status']): CheckResult => ({
  id: `demo.check-${i}`,
  title: 't',
  status,
  finding: `Finding <!channel> ${i} ${'x'.repeat(900)}`,
  evidence: { a: 'e'.repeat(800) },
  remedy: `az fix ${'y'.repeat(900)}`,
});

function largest(): ChangeRequest {
  const now = new Date().toISOString();
  return changeRequest({
    resourceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.FluidRelay/fluidRelayServers/${'n'.repeat(50)}`,
    params: { subscriptionId: 's', resourceGroup: 'r'.repeat(90), location: 'eastus', identityId: `/x/${'i'.repeat(128)}`, keyUrl: 'https://v.vault.azure.net/keys/k' },
    plan: { method: 'PUT', resourceId: '/x', apiVersion: '2022-06-01', body: { properties: { blob: 'p'.repeat(20000) } } },
    requester: { platform: 'slack', id: 'U1', name: '<!channel> Alex' },
    conversation: { platform: 'slack', ref: { channel: 'C1' } },
    digest: 'f'.repeat(64),
    checks: Array.from({ length: 120 }, (_, i) => big(i, i % 3 === 0 ? 'fail' : i % 3 === 1 ? 'warn' : 'pass')),
    approvals: Array.from({ length: 10 }, (_, i) => ({ approver: { platform: 'slack' as const, id: `U${i}`, name: `user ${i}` }, decision: 'approved' as const, digest: 'f'.repeat(64), reason: 'r'.repeat(400), at: now })),
    requiredApprovals: 12,
    approvers: Array.from({ length: 30 }, (_, i) => `slack:U${i}`),
    expiresAt: now,
  });
}

describe('Slack Block Kit limits', () => {
  it('the largest request message is valid Block Kit within 50 blocks and 3000-character sections', () => {
    const blocks = requestBlocks(requestView(largest()));
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(slackBlockErrors(blocks, 'message')).toEqual([]);
    expect(JSON.stringify(blocks)).toContain('more problems');
  });

  it('user text is escaped everywhere in the message', () => {
    const json = JSON.stringify(requestBlocks(requestView(largest())));
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('&lt;!channel&gt;');
  });

  it('the form modal stays valid with 200 choices per picker and long resource ids', () => {
    const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => ({ title: f(i), value: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${'i'.repeat(120)}${i}` }));
    const choices: FormChoices = {
      subscriptionId: 's',
      subscriptions: many(3, (i) => `sub ${i}`),
      resourceGroups: many(200, (i) => `rg-${i} ${'x'.repeat(100)}`),
      locations: many(60, (i) => `region ${i}`),
      identities: many(200, (i) => `identity ${i}`),
      keys: many(200, (i) => `vault / key ${i}`),
      keyVersions: { 'https://kv.vault.azure.net/keys/k': many(200, (i) => `version ${i}`) },
      storageAccounts: many(10, (i) => `st${i}`),
      virtualMachines: many(200, (i) => `vm ${i}`),
    };
    // Every target's form, with a key chosen so its versions are drawn too.
    for (const target of DEFAULT_TARGETS.all) {
      const view = formModalOf(formView(target, choices, { keyUrl: 'https://kv.vault.azure.net/keys/k', resourceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.FluidRelay/fluidRelayServers/${'n'.repeat(60)}` }), 'form-id');
      expect(slackViewErrors(view)).toEqual([]);
    }
  });

  it('a picker with more choices than Slack lists searches them all (external_select), keeping the chosen one; one within the limit lists them', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ title: `id-${i}`, value: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}` }));
    const choices: FormChoices = {
      subscriptionId: 's',
      subscriptions: [{ title: 'sub', value: 's' }],
      resourceGroups: [{ title: 'rg', value: 'rg' }],
      locations: [{ title: 'eastus', value: 'eastus' }],
      identities: ids(240),
      keys: [],
      keyVersions: {},
      storageAccounts: [],
      virtualMachines: [],
    };
    const target = DEFAULT_TARGETS.find('fluid-relay')!;
    const view = formModalOf(formView(target, choices, { identityId: choices.identities[180]!.value }), 'form-id');
    const identity = view.blocks.find((b) => b.block_id === 'identityId') as { hint?: { text: string }; element: { type: string; options?: unknown[]; initial_option?: { text: { text: string }; value: string } } };
    expect(identity.element.type).toBe('external_select');
    expect(identity.element.options).toBeUndefined();
    expect(identity.hint?.text).toMatch(/^Type to search all 240\./);
    // The chosen one is shown, by its index in the whole list (what the submission is read by).
    expect(identity.element.initial_option).toEqual({ text: { type: 'plain_text', text: 'id-180', emoji: true }, value: '180' });
    const read = readModal(target, { identityId: { value: { type: 'external_select', selected_option: { value: '180' } } } }, choices);
    expect(read.identityId).toBe(choices.identities[180]!.value);
    // What the person types finds the rest: the matches, at most as many as Slack shows.
    expect(suggestOptions(choices.identities, 'ID-23').map((o) => o.value)).toEqual(['23', ...Array.from({ length: 10 }, (_, i) => String(230 + i))]);
    expect(suggestOptions(choices.identities, '')).toHaveLength(SLACK_LIMITS.selectOptions);
    // What the person reads comes first: typing a resource group's name (in every id of it) still
    // finds the one named so before the rest.
    const mixed = [
      { title: 'alpha', value: '/subscriptions/s/resourceGroups/team-a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/alpha' },
      { title: 'team-a-bot', value: '/subscriptions/s/resourceGroups/other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/team-a-bot' },
    ];
    expect(suggestOptions(mixed, 'TEAM-A')).toEqual([
      { text: { type: 'plain_text', text: 'team-a-bot', emoji: true }, value: '1' },
      { text: { type: 'plain_text', text: 'alpha', emoji: true }, value: '0' },
    ]);
    // A picker within the limit stays a static_select with every choice.
    const region = view.blocks.find((b) => b.block_id === 'location') as { hint?: { text: string }; element: { type: string } };
    expect(region.element.type).toBe('static_select');
    expect(region.hint?.text ?? '').not.toMatch(/Type to search/);
    expect(slackViewErrors(view)).toEqual([]);
  });

  it('escapes the three mrkdwn control characters', () => {
    expect(esc('<@U123> & <https://x|y>')).toBe('&lt;@U123&gt; &amp; &lt;https://x|y&gt;');
  });
});
