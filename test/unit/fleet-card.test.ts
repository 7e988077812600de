// A fleet request as the channels show it, at the largest size one request may have (250
// members): the Teams card within its budget, the Slack message within Slack's limits, and every
// member named — or, where a card cannot hold them all, the first ones and where the rest are.
import { LIMITS, requestBlocks } from '../../src/chat/slack/blocks';
import { requestView } from '../../src/chat/presenter';
import { CARD_BUDGET_BYTES, requestCard } from '../../src/chat/teams/cards';
import type { FleetMember } from '../../src/domain/types';
import { MAX_FLEET_MEMBERS } from '../../src/targets/rotate-key.target';
import { changeRequest } from '../fixtures/requests';

const OLD = '9a8b7c6d5e4f40312a1b2c3d4e5f6a7b';
const NEW = '0f0e0d0c0b0a49988776655443322110';
const KEY = 'https://kv-cmk-rbac.vault.azure.net/keys/fluid-cmk';

function member(i: number): FleetMember {
  const sub = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333'][i % 3]!;
  const resourceId = `/subscriptions/${sub}/resourceGroups/rg-team-${i % 7}/providers/Microsoft.FluidRelay/fluidRelayServers/fluid-relay-server-${String(i).padStart(3, '0')}`;
  return {
    resourceId,
    targetType: 'fluid-relay-rotate',
    params: { resourceId },
    plan: { method: 'PATCH', resourceId, apiVersion: '2022-06-01', body: { properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: `${KEY}/${NEW}` } } } } },
    changes: [{ path: 'properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl', from: `${KEY}/${OLD}`, to: `${KEY}/${NEW}` }],
    evidence: {},
  };
}

const fleet = (n: number) =>
  changeRequest({ targetType: 'rotate-key', resourceId: KEY, params: { keyUrl: KEY, keyVersion: NEW, resources: '' }, plan: undefined, fleet: { members: Array.from({ length: n }, (_, i) => member(i)), skipped: [] } });

describe('a fleet request on a card', () => {
  it('25 members: every one listed with its change, and every write shown in full', () => {
    const v = requestView(fleet(25), 'approver');
    expect(v.membersLabel).toBe('25 resources in 3 subscriptions');
    expect(v.members).toHaveLength(25);
    expect(v.members[0]).toBe(`fluid-relay-server-000 (fluidRelayServers in rg-team-0, subscription 11111111-1111-4111-8111-111111111111) · keyEncryptionKeyUrl: ${KEY}/${OLD} → ${KEY}/${NEW}`);
    expect(v.payload).toContain('"PATCH /subscriptions/');
    expect(v.facts).toContainEqual({ title: 'Operation', value: 'PATCH 2022-06-01 × 25' });
    const card = JSON.stringify(requestCard(fleet(25), 'approver'));
    expect(Buffer.byteLength(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
    for (let i = 0; i < 25; i++) expect(card).toContain(`fluid-relay-server-${String(i).padStart(3, '0')}`);
  });

  it(`${MAX_FLEET_MEMBERS} members: the Teams card keeps its budget and says where the rest are; Slack stays within its limits`, () => {
    const req = fleet(MAX_FLEET_MEMBERS);
    const v = requestView(req, 'approver');
    expect(v.payload).toBe('');
    expect(v.membersLabel).toBe(`${MAX_FLEET_MEMBERS} resources in 3 subscriptions — every write in full: \`evidence CR-ABCDEF\``);
    const card = JSON.stringify(requestCard(req, 'approver'));
    expect(Buffer.byteLength(card)).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
    expect(card).toContain('fluid-relay-server-000');
    expect(card).toContain('more: `evidence CR-ABCDEF` lists every one.');
    // The approve button is still there.
    expect(card).toContain('"verb":"request.approve"');
    const blocks = requestBlocks(v);
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    for (const b of blocks) if (b.type === 'section' && 'text' in b && b.text) expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(JSON.stringify(blocks)).toContain('request.approve');
    expect(JSON.stringify(blocks)).toMatch(/…and \d+ more: `evidence CR-ABCDEF` lists every one\./);
    // 25 members: Slack lists them all.
    const small = JSON.stringify(requestBlocks(requestView(fleet(25), 'approver')));
    for (let i = 0; i < 25; i++) expect(small).toContain(`fluid-relay-server-${String(i).padStart(3, '0')}`);
    expect(small).not.toContain('more: `evidence');
  });
});
