// A Teams form card lists at most CARD_CHOICES of a picker's choices and searches the rest: a long
// list keeps the one chosen in view, and choices the form itself fixes are all listed.
import type { FieldView, FormView } from '../../src/chat/forms';
import { CARD_CHOICES, datasetOf, formCardOf, parseDataset } from '../../src/chat/teams/form-card';

const SUB = '0b1f6471-1bf0-4dda-aec3-111111111111';
const options = (n: number) => Array.from({ length: n }, (_, i) => ({ title: `choice ${i}`, value: `/subscriptions/${SUB}/resourceGroups/rg/providers/P/t/c-${i}` }));

function field(over: Partial<FieldView>): FieldView {
  return {
    name: 'identityId',
    label: 'Identity',
    kind: 'choice',
    required: true,
    requiredMessage: '',
    hint: '',
    placeholder: '',
    multiline: false,
    options: [],
    value: '',
    shown: '',
    dependents: [],
    redraws: false,
    fromAzure: true,
    ...over,
  };
}
function card(f: FieldView) {
  const form: FormView = { targetType: 'fluid-relay', title: 't', heading: 'h', intro: 'i', note: '', submitLabel: 's', fields: [f], errors: [], subscriptionId: SUB };
  const body = formCardOf(form).body as Array<{ id?: string; style?: string; choices?: Array<{ value: string }>; placeholder?: string; 'choices.data'?: { dataset: string } }>;
  return body.find((b) => b.id === f.name)!;
}

describe('a Teams picker and its choices', () => {
  it('lists every choice up to CARD_CHOICES, and asks nothing of the bot', () => {
    const input = card(field({ options: options(CARD_CHOICES) }));
    expect(input.choices).toHaveLength(CARD_CHOICES);
    expect(input.style).toBe('compact');
    expect(input['choices.data']).toBeUndefined();
  });

  it('past CARD_CHOICES lists that many, keeps the chosen one among them (whatever its case), and searches the rest', () => {
    const all = options(CARD_CHOICES * 3);
    const chosen = all.at(-1)!.value;
    const input = card(field({ options: all, value: chosen.toUpperCase() }));
    expect(input.choices).toHaveLength(CARD_CHOICES);
    expect(input.choices!.map((c) => c.value)).toContain(chosen);
    expect(input.style).toBe('filtered');
    expect(input.placeholder).toBe(`Type to search all ${CARD_CHOICES * 3}`);
    expect(parseDataset(input['choices.data']!.dataset)).toEqual({ targetType: 'fluid-relay', field: 'identityId', subscriptionId: SUB });
  });

  it('lists all of a long list the form itself fixes (nothing for the bot to search)', () => {
    const input = card(field({ name: 'tier', options: options(CARD_CHOICES + 5), fromAzure: false }));
    expect(input.choices).toHaveLength(CARD_CHOICES + 5);
    expect(input['choices.data']).toBeUndefined();
  });

  it('reads back only datasets of its own shape', () => {
    expect(parseDataset(datasetOf('fluid-relay-rotate', 'keyVersion', SUB))).toEqual({ targetType: 'fluid-relay-rotate', field: 'keyVersion', subscriptionId: SUB });
    expect(parseDataset('fluid-relay.keyVersion')).toEqual({ targetType: 'fluid-relay', field: 'keyVersion' });
    for (const bad of ['fluid-relay', 'fluid-relay.keyVersion@x', 'a.b.c', '../x.y', `fluid-relay.key Version@${SUB}`]) expect(parseDataset(bad)).toBeUndefined();
  });
});
