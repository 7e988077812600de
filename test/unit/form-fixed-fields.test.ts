// A form's fixed fields (carried unchanged, shown as text) are shown only when they hold a value:
// every `rotate-key` form used to show "Only in:" and "Only these resources:" with nothing after
// them. Their values are carried either way.
import { formCardOf } from '../../src/chat/teams/form-card';
import { formModalOf } from '../../src/chat/slack/form-modal';
import { formView } from '../../src/chat/forms';
import { CARD_BUDGET_BYTES } from '../../src/chat/teams/cards';
import { rotateKeyTarget } from '../../src/targets/rotate-key.target';
import { parseForm } from '../../src/targets/types';
import type { FormChoices } from '../../src/workflow/catalog';

const choices: FormChoices = { subscriptionId: 's', subscriptions: [], resourceGroups: [], locations: [], identities: [], keys: [], keyVersions: {}, storageAccounts: [], virtualMachines: [] };
const KEY = 'https://kv.vault.azure.net/keys/k';
const SCOPE = '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-a';

describe('fixed fields on a form', () => {
  it('are left out of the Teams card and the Slack modal while empty, and still carried', () => {
    const view = formView(rotateKeyTarget, choices, { keyUrl: KEY, keyVersion: 'latest' });
    const card = JSON.stringify(formCardOf(view));
    const modal = JSON.stringify(formModalOf(view, 'form-id'));
    for (const shown of [card, modal]) {
      expect(shown).not.toContain('Only in');
      expect(shown).not.toContain('Only these resources');
    }
    // The Teams submit action carries them (empty), as it always did.
    expect(card).toContain('"scope":""');
  });

  it('are shown with their value when they hold one', () => {
    const view = formView(rotateKeyTarget, choices, { keyUrl: KEY, keyVersion: 'latest', scope: SCOPE });
    expect(JSON.stringify(formCardOf(view))).toMatch(/Only in:\*\* \/subscriptions\/00000000-0000-4000-8000-000000000001\/resourceGroups\/rg-a/);
    expect(JSON.stringify(formModalOf(view, 'form-id'))).toContain(`*Only in:* ${SCOPE}`);
    expect(JSON.stringify(formModalOf(view, 'form-id'))).not.toContain('Only these resources');
  });
});

describe('a long fixed value: a retry of many resources', () => {
  const ids = Array.from({ length: 250 }, (_, i) => `/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-fleet/providers/Microsoft.FluidRelay/fluidRelayServers/fr-${String(i).padStart(3, '0')}`);
  const FROM = 'CR-ABC123#fleet.members';

  it('is shown in part, and a form that names where its values came from carries that name instead of the list: the Teams card stays within its budget', () => {
    const view = { ...formView(rotateKeyTarget, choices, { keyUrl: KEY, keyVersion: 'latest', resources: ids.join('\n') }), carry: { from: FROM } };
    const card = formCardOf(view) as { actions: Array<{ verb?: string; data: Record<string, unknown>; fallback: { data: Record<string, unknown> } }> };
    const text = JSON.stringify(card);
    // 250 ids are 35 KB; the card carried them five times (180 KB against Teams' ~100 KB a message).
    expect(Buffer.byteLength(text)).toBeLessThan(CARD_BUDGET_BYTES);
    expect(text).toContain('fr-000');
    expect(text).toContain('… and 240 more');
    expect(text).not.toContain('fr-249');
    for (const a of card.actions) {
      for (const data of [a.data, a.fallback.data]) {
        expect(data).toMatchObject({ from: FROM, targetType: 'rotate-key' });
        expect(data).not.toHaveProperty('resources');
      }
    }
    // The form keeps the whole value (Slack keeps it in the form's session).
    expect(view.fields.find((f) => f.name === 'resources')?.value.split('\n')).toHaveLength(250);
    const modal = JSON.stringify(formModalOf(view, 'form-id'));
    expect(modal).toContain('… and 240 more');
  });

  it('a short one is shown whole and carried as it is', () => {
    const view = formView(rotateKeyTarget, choices, { keyUrl: KEY, keyVersion: 'latest', resources: ids.slice(0, 3).join('\n') });
    const text = JSON.stringify(formCardOf(view));
    expect(text).not.toContain('… and');
    expect(text.split('fr-002').length - 1).toBe(1 + 4);
  });
});

describe("the rotation form's Only in", () => {
  it('is kept by Retry the failed ones: a retry of a rotation in parts stays in its part', () => {
    const key = 'https://kv-cmk.vault.azure.net/keys/cmk';
    const p = parseForm(rotateKeyTarget, { keyUrl: key, keyVersion: 'latest', scope: SCOPE });
    if (!p.ok) throw new Error('the form did not parse');
    expect(rotateKeyTarget.retry(p.params, ['/a', '/b'])).toEqual({ keyUrl: key, keyVersion: 'latest', scope: SCOPE, resources: '/a\n/b' });
  });

  it('holds a scope as azureScope writes it (the fleet compares it as written), and refuses what is no subscription or resource group', () => {
    const sub = '00000000-0000-4000-8000-00000000ABCD';
    const parsed = (scope: string) => parseForm(rotateKeyTarget, { keyUrl: 'https://kv-cmk.vault.azure.net/keys/cmk', keyVersion: 'latest', scope });
    expect(parsed(sub)).toMatchObject({ ok: true, params: { scope: `/subscriptions/${sub.toLowerCase()}` } });
    expect(parsed(`/SUBSCRIPTIONS/${sub}/resourceGroups/rg-a/`)).toMatchObject({ ok: true, params: { scope: `/subscriptions/${sub.toLowerCase()}/resourceGroups/rg-a` } });
    expect(parsed('')).toMatchObject({ ok: true, params: { scope: '' } });
    expect(parsed(`/subscriptions/${sub}/resourceGroups/rg-a/providers/Microsoft.Storage/storageAccounts/x`)).toMatchObject({ ok: false });
  });
});
