// A form's fixed fields (carried unchanged, shown as text) are shown only when they hold a value:
// every `rotate-key` form used to show "Only in:" and "Only these resources:" with nothing after
// them. Their values are carried either way.
import { formCardOf } from '../../src/chat/teams/form-card';
import { formModalOf } from '../../src/chat/slack/form-modal';
import { formView } from '../../src/chat/forms';
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

describe("the rotation form's Only in", () => {
  it('holds a scope as azureScope writes it (the fleet compares it as written), and refuses what is no subscription or resource group', () => {
    const sub = '00000000-0000-4000-8000-00000000ABCD';
    const parsed = (scope: string) => parseForm(rotateKeyTarget, { keyUrl: 'https://kv-cmk.vault.azure.net/keys/cmk', keyVersion: 'latest', scope });
    expect(parsed(sub)).toMatchObject({ ok: true, params: { scope: `/subscriptions/${sub.toLowerCase()}` } });
    expect(parsed(`/SUBSCRIPTIONS/${sub}/resourceGroups/rg-a/`)).toMatchObject({ ok: true, params: { scope: `/subscriptions/${sub.toLowerCase()}/resourceGroups/rg-a` } });
    expect(parsed('')).toMatchObject({ ok: true, params: { scope: '' } });
    expect(parsed(`/subscriptions/${sub}/resourceGroups/rg-a/providers/Microsoft.Storage/storageAccounts/x`)).toMatchObject({ ok: false });
  });
});
