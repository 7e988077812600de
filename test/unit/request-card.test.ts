// The request card as a new user reads it (issue 14): the state and what is wrong come first, the
// passed checks fold away behind their count, the ARM payload is readable JSON, and only the
// buttons that can do something in this state are offered — in Teams and in Slack alike.
import { requestBlocks } from '../../src/chat/slack/blocks';
import { requestView, type Viewer } from '../../src/chat/presenter';
import { requestCard } from '../../src/chat/teams/cards';
import type { ChangeRequest, CheckResult } from '../../src/domain/types';
import { cardText } from '../helpers/connector';
import { changeRequest } from '../fixtures/requests';

type Node = Record<string, unknown>;
/** Block Kit blocks as plain JSON nodes, to walk. */
const slackBlocks = (v: Parameters<typeof requestBlocks>[0]) => requestBlocks(v) as unknown as Node[];

const check = (id: string, status: CheckResult['status'], remedy = ''): CheckResult => ({
  id,
  title: id,
  status,
  finding: `finding of ${id}`,
  evidence: {},
  ...(remedy ? { remedy } : {}),
});

const PASSED = Array.from({ length: 19 }, (_, i) => check(`demo.pass-${i}`, 'pass'));
const BODY = { location: 'eastus', identity: { type: 'UserAssigned' }, properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: 'https://v.vault.azure.net/keys/k' } } } };

function req(over: Partial<ChangeRequest> = {}): ChangeRequest {
  return changeRequest({
    params: { subscriptionId: 's', resourceGroup: 'rg-demo', location: 'eastus', identityId: '/x/id1', keyUrl: 'https://v.vault.azure.net/keys/k', name: 'fr' },
    plan: { method: 'PUT', resourceId: '/x', apiVersion: '2022-06-01', body: BODY },
    digest: 'f'.repeat(64),
    checks: [...PASSED, check('demo.warn', 'warn', 'rotate the key yearly')],
    ...over,
  });
}

const blocked = () => req({ state: 'checked', checks: [...PASSED, check('demo.broken', 'fail', 'az keyvault update --enable-purge-protection')] });

/** Every node of the card, in document order. */
function nodes(card: unknown): Node[] {
  const out: Node[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      out.push(n as Node);
      Object.values(n).forEach(walk);
    }
  };
  walk(card);
  return out;
}

const teamsButtons = (card: Node) => ((card.actions ?? []) as Node[]).map((a) => a.title);
const slackButtons = (blocks: Node[]) => blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements as Node[]).map((e) => e.action_id));
const slackText = (blocks: Node[]) =>
  nodes(blocks)
    .filter((n) => typeof n.text === 'string')
    .map((n) => n.text as string)
    .join('\n');

/** Positions of each pattern in the text; fails on a missing one. */
function positions(text: string, patterns: RegExp[]): number[] {
  return patterns.map((p) => {
    const i = text.search(p);
    if (i < 0) throw new Error(`${p} not found in:\n${text}`);
    return i;
  });
}
const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

describe('which buttons a request card offers', () => {
  it('a blocked request offers no Cancel and no Approve: nothing can run (Teams and Slack, every viewer)', () => {
    for (const viewer of ['all', 'requester', 'approver'] as Viewer[]) {
      expect(teamsButtons(requestCard(blocked(), viewer))).toEqual(['Refresh']);
      expect(slackButtons(slackBlocks(requestView(blocked(), viewer)))).toEqual(['request.refresh']);
    }
  });

  it.each(['succeeded', 'failed', 'rejected', 'cancelled', 'expired'] as const)('a %s request offers no button at all', (state) => {
    for (const viewer of ['all', 'requester', 'approver'] as Viewer[]) {
      expect(teamsButtons(requestCard(req({ state }), viewer))).toEqual([]);
      expect(slackButtons(slackBlocks(requestView(req({ state }), viewer)))).toEqual([]);
    }
  });

  it('while pending, approvers see Approve/Reject, the requester Cancel, anyone else only Refresh', () => {
    expect(teamsButtons(requestCard(req(), 'approver'))).toEqual(['Approve', 'Reject', 'Refresh']);
    expect(teamsButtons(requestCard(req(), 'requester'))).toEqual(['Cancel request', 'Refresh']);
    expect(teamsButtons(requestCard(req(), 'other'))).toEqual(['Refresh']);
    expect(slackButtons(slackBlocks(requestView(req(), 'approver')))).toEqual(['request.approve', 'request.reject', 'request.refresh']);
    expect(slackButtons(slackBlocks(requestView(req(), 'requester')))).toEqual(['request.cancel', 'request.refresh']);
    expect(slackButtons(slackBlocks(requestView(req(), 'other')))).toEqual(['request.refresh']);
  });

  it('an approved request can still be cancelled by its requester until it runs, and not once it runs', () => {
    expect(teamsButtons(requestCard(req({ state: 'approved' }), 'requester'))).toEqual(['Cancel request', 'Refresh']);
    expect(teamsButtons(requestCard(req({ state: 'executing' }), 'requester'))).toEqual(['Refresh']);
    expect(slackButtons(slackBlocks(requestView(req({ state: 'verifying' }), 'requester')))).toEqual(['request.refresh']);
  });
});

describe('the Teams request card reads top-down', () => {
  it('status, then the failure with its fix, then what cannot be undone, then the facts, payload and approvals', () => {
    const card = requestCard({ ...blocked(), approvals: [{ approver: { platform: 'teams', id: 'b', name: 'Bob' }, decision: 'rejected', digest: 'f'.repeat(64), reason: 'no', at: new Date().toISOString() }] });
    const text = cardText(card);
    expect(ascending(positions(text, [/Blocked: fix the failing checks/, /❌ \*\*demo\.broken\*\*/, /Fix: az keyvault update/, /Cannot be undone/, /Resource group: rg-demo/, /"location": "eastus"/, /Bob rejected/]))).toBe(true);
  });

  it('the passed checks are hidden behind a toggle that names their count first', () => {
    const card = requestCard(req());
    const all = nodes(card);
    const hidden = all.find((n) => n.type === 'Container' && n.isVisible === false)!;
    expect(hidden).toBeDefined();
    expect(cardText(hidden).split('\n')).toHaveLength(19);
    expect(cardText(hidden)).toContain('✅ **demo.pass-0** — finding of demo.pass-0');
    const toggle = all.find((n) => n.type === 'Action.ToggleVisibility')!;
    expect(toggle.title).toMatch(/^✅ 19 passed — show/);
    expect(toggle.targetElements).toEqual([hidden.id]);
    // The warning stays in sight, above the fold.
    expect(nodes(all.filter((n) => n.isVisible !== false && n.type === 'Container' && n.style === 'warning')).some((n) => n.text === '⚠️ **demo.warn** — finding of demo.warn')).toBe(true);
  });

  it('information-only checks are counted with the passed ones, by name', () => {
    const card = requestCard(req({ checks: [...PASSED, check('demo.info', 'info')] }));
    expect(nodes(card).find((n) => n.type === 'Action.ToggleVisibility')?.title).toMatch(/^✅ 19 passed, 1 for information — show/);
  });

  it('the ARM payload shows as indented JSON, one line per line', () => {
    const card = requestCard(req());
    const show = nodes(card).find((n) => n.type === 'Action.ShowCard' && /ARM payload/.test(String(n.title)))!;
    const lines = nodes(show.card)
      .filter((n) => n.type === 'TextBlock' && n.fontType === 'Monospace')
      .map((n) => String(n.text));
    const want = JSON.stringify(BODY, null, 2).split('\n');
    expect(lines).toHaveLength(want.length);
    // Leading spaces would be dropped by the markdown renderer: indentation is kept as no-break spaces.
    expect(lines.map((l) => l.replace(/\u00a0/g, ' '))).toEqual(want);
    expect(lines.find((l) => l.includes('keyEncryptionKeyUrl'))).toMatch(/^\u00a0{8}"keyEncryptionKeyUrl"/);
  });
});

describe('the Slack request message reads top-down', () => {
  it('status, then the failure with its fix, then what cannot be undone, then the facts, payload and approvals', () => {
    const blocks = slackBlocks(requestView({ ...blocked(), approvals: [{ approver: { platform: 'slack', id: 'U2', name: 'Bob' }, decision: 'rejected', digest: 'f'.repeat(64), reason: 'no', at: new Date().toISOString() }] }));
    expect(ascending(positions(slackText(blocks), [/Blocked: fix the failing checks/, /❌ \*demo\.broken\*/, /\*Fix:\* az keyvault update/, /Cannot be undone/, /\*Resource group\*\nrg-demo/, /ARM payload/, /Bob rejected/]))).toBe(true);
  });

  it('the passed checks are one compact line that says the count first', () => {
    const blocks = slackBlocks(requestView(req()));
    const context = blocks
      .filter((b) => b.type === 'context')
      .map((b) => slackText([b]))
      .find((t) => /passed/.test(t))!;
    expect(context).toMatch(/^✅ 19 passed: demo\.pass-0 · demo\.pass-1 · /);
    expect(context).not.toMatch(/finding of/);
  });

  it('the ARM payload is a fenced block of indented JSON', () => {
    const text = slackText(slackBlocks(requestView(req())));
    const fenced = /```\n([\s\S]*?)\n```/.exec(text)?.[1];
    expect(fenced).toBe(JSON.stringify(BODY, null, 2));
  });
});
