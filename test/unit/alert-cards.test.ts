// A watchdog alert as each channel shows it: the headline, the fix, every dependent resource,
// Acknowledge and Snooze while it is open, and *Fix this* when the finding names its remediation.
import { alertBlocks } from '../../src/chat/slack/blocks';
import { alertCard } from '../../src/chat/teams/cards';
import type { AlertView } from '../../src/workflow/alert';

const alert = (over: Partial<AlertView> = {}): AlertView => ({
  watchId: 'W-0123ABCD',
  groupKey: 'https://kv.vault.azure.net/keys/k',
  kind: 'new',
  severity: 'urgent',
  title: '🔴 Urgent: Key k (vault kv) is disabled — 2 resources depend on it',
  finding: 'Key k is disabled.',
  remedy: 'Enable it.',
  resources: [
    { name: 'fr-a', id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.FluidRelay/fluidRelayServers/fr-a' },
    { name: 'st_b', id: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stb' },
  ],
  scope: 'all',
  ...over,
});

const teamsActions = (card: Record<string, unknown>) => (card.actions as Array<{ title: string; verb?: string; data?: unknown }>).map((a) => [a.title, a.verb, a.data]);
const slackButtons = (blocks: unknown[]) =>
  JSON.parse(JSON.stringify(blocks)).flatMap((b: { type: string; elements?: Array<{ action_id: string; value?: string }> }) => (b.type === 'actions' ? b.elements!.map((e) => [e.action_id, e.value]) : []));

describe('alert cards', () => {
  it('an open alert names every resource and offers Acknowledge and Snooze; a resolved one offers nothing', () => {
    const card = alertCard(alert());
    expect(JSON.stringify(card)).toContain('fr-a, st\\\\_b');
    expect(teamsActions(card).map((a) => a[0])).toEqual(['Acknowledge', 'Snooze…']);
    expect(teamsActions(alertCard(alert({ kind: 'resolved' })))).toEqual([]);
    expect(slackButtons(alertBlocks(alert())).map((b: string[]) => b[0])).toEqual(['finding.ack', 'finding.snooze']);
    expect(slackButtons(alertBlocks(alert({ kind: 'resolved' })))).toEqual([]);
  });

  it('a finding that names its remediation offers Fix this with the form values, in both channels', () => {
    const fix = { command: 'storage-cmk', values: { storageAccountId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st_b' } };
    const card = alertCard(alert({ fix }));
    expect(teamsActions(card)[0]).toEqual(['Fix this (new storage-cmk)', 'request.fix', fix]);
    const [first] = slackButtons(alertBlocks(alert({ fix })));
    expect(first[0]).toBe('request.fix.0');
    expect(JSON.parse(first[1])).toEqual({ ...fix, blockedBy: '' });
  });
});
