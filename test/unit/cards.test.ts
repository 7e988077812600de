// Card size: Teams refuses large messages, so however many findings there are the request card
// stays inside the budget, and the failing checks stay visible first.
import { CARD_BUDGET_BYTES, fitCard, requestCard } from '../../src/chat/teams/cards';
import { requestView } from '../../src/chat/presenter';
import type { ChangeRequest, CheckResult } from '../../src/domain/types';
import { cardText } from '../helpers/connector';
import { changeRequest } from '../fixtures/requests';

function req(checks: CheckResult[]): ChangeRequest {
  return changeRequest({
    resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.FluidRelay/fluidRelayServers/fr1',
    params: { subscriptionId: 's', resourceGroup: 'rg', location: 'eastus', identityId: '/x/id1', keyUrl: 'https://v.vault.azure.net/keys/k' },
    plan: { method: 'PUT', resourceId: '/x', apiVersion: '2022-06-01', body: { location: 'eastus', properties: { note: 'x'.repeat(5000) } } },
    requester: { platform: 'teams', id: 'a', name: 'Alice' },
    conversation: { platform: 'teams', ref: {} },
    digest: 'f'.repeat(64),
    state: 'checked',
    checks,
    expiresAt: new Date().toISOString(),
  });
}

const check = (i: number, status: CheckResult['status']): CheckResult => ({
  id: `demo.check-${i}`,
  title: 'A check',
  status,
  finding: `Finding ${i}: ${'word '.repeat(70)}`,
  evidence: { a: 'e'.repeat(150), b: 'f'.repeat(150) },
  remedy: `Remedy ${i}: ${'az something '.repeat(30)}`,
});

describe('request card size', () => {
  it('a normal request renders in full', () => {
    const card = requestCard(req([check(1, 'fail'), check(2, 'pass')]));
    expect(cardText(card)).toContain('Finding 2');
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThan(CARD_BUDGET_BYTES);
  });

  it.each([30, 120, 600])('%i findings still fit, failing ones first', (n) => {
    const checks = Array.from({ length: n }, (_, i) => check(i, i % 3 === 0 ? 'fail' : i % 3 === 1 ? 'warn' : 'pass'));
    const card = fitCard(requestView(req(checks)));
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
    const text = cardText(card);
    expect(text).toContain('**demo.check-0** — Finding 0');
    if (n > 100) expect(text).toMatch(/more problems not shown: use `check CR-ABCDEF`/);
  });
});

describe('the ARM payload on a card near its budget', () => {
  it('the largest payload a request may carry is shown whole and on separate lines, within the budget', () => {
    // Many short lines: one TextBlock per line would not fit, so the lines become paragraphs of one block.
    const steps = Array.from({ length: 180 }, (_, i) => ({ name: `step-${i}`, d: 'PT5M' }));
    const body = { location: 'eastus', properties: { steps } };
    const pretty = JSON.stringify(body, null, 2);
    expect(pretty.length).toBeGreaterThan(11_000);
    expect(pretty.length).toBeLessThanOrEqual(12_000); // MAX_SHOWN_PAYLOAD_CHARS
    const card = requestCard({ ...req([check(1, 'fail'), check(2, 'warn'), ...Array.from({ length: 20 }, (_, i) => check(i + 3, 'pass'))]), plan: { method: 'PUT', resourceId: '/x', apiVersion: '2022-06-01', body } });
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
    // Indented one no-break space per level; markdown characters escaped, as Teams shows them.
    const shown = cardText(card)
      .replace(/\u00a0/g, '  ')
      .replace(/\\([\\*_~[\]<>#|])/g, '$1');
    expect(shown).toContain(pretty.split('\n').join('\n\n'));
    // The problems keep their fixes.
    expect(cardText(card)).toContain('Fix: Remedy 1');
  });
});
