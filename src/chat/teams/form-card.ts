// A target's form (chat/forms.ts FormView) as an Adaptive Card. Dependent pickers: the field they
// depend on resets them when it changes (Action.ResetInputs), and their choices come from the bot
// for the value chosen (Data.Query with associated inputs → `application/search`); so do the
// choices of a picker too long to list in the card. "Reload pickers" draws the card again for
// another subscription.
import type { FieldView, FormView } from '../forms';
import { teamsText } from './cards';

export const FORM_VERBS = { submit: 'form.submit', reload: 'form.reload' } as const;

/**
 * Choices a picker lists in the card itself: as many as Teams' typeahead dropdown shows ("the number
 * of options in the dropdown is limited to 15", learn.microsoft.com/microsoftteams/platform/
 * task-modules-and-cards/cards/dynamic-search). A longer list is searched instead (Data.Query, the
 * same `application/search` a dependent picker uses): every resource id of a large tenant in the
 * card would take it past what Teams accepts (~28 KB; cards.ts CARD_BUDGET_BYTES).
 */
export const CARD_CHOICES = 15;

/**
 * The dataset a picker asks the bot for: `<target type>.<field>@<subscription>`, the subscription
 * the card's pickers were read from — a form without a subscription picker (a resource's key change)
 * has no input that would tell the search.
 */
export function datasetOf(targetType: string, field: string, subscriptionId: string): string {
  return `${targetType}.${field}@${subscriptionId}`;
}

/** A dataset's parts; undefined when it is not one of ours. */
export function parseDataset(dataset: string): { targetType: string; field: string; subscriptionId?: string } | undefined {
  const m = /^([a-z0-9-]{1,64})\.([A-Za-z0-9]{1,64})(?:@([0-9a-fA-F-]{36}))?$/.exec(dataset);
  return m ? { targetType: m[1]!, field: m[2]!, ...(m[3] ? { subscriptionId: m[3] } : {}) } : undefined;
}

type Element = Record<string, unknown>;

function input(f: FieldView, targetType: string, subscriptionId: string): Element[] {
  if (f.kind === 'fixed') {
    // Shown when it holds something; carried in the actions' data either way (formCardOf).
    return f.value ? [{ type: 'TextBlock', text: `**${teamsText(f.label)}:** ${teamsText(f.shown)}`, wrap: true, size: 'Small', spacing: 'Small' }] : [];
  }
  const common = {
    id: f.name,
    label: f.label,
    isRequired: f.required,
    // Shown by the client when a required field is empty or does not match: the server says the same.
    errorMessage: f.patternMessage ?? f.requiredMessage,
    value: f.value,
  };
  const element: Element =
    f.kind === 'text'
      ? {
          type: 'Input.Text',
          ...common,
          ...(f.placeholder ? { placeholder: f.placeholder } : {}),
          ...(f.multiline ? { isMultiline: true } : {}),
          ...(f.maxLength ? { maxLength: f.maxLength } : {}),
          ...(f.pattern ? { regex: f.pattern } : {}),
        }
      : choiceSet(f, targetType, subscriptionId, common);
  const out: Element[] = [element];
  if (f.hint) out.push({ type: 'TextBlock', text: teamsText(f.hint), isSubtle: true, size: 'Small', wrap: true, spacing: 'None' });
  if (f.error) out.push({ type: 'TextBlock', text: teamsText(f.error), color: 'Attention', size: 'Small', wrap: true, spacing: 'None' });
  return out;
}

/**
 * A choice: all of them in the card; or, for a picker that depends on another or has more than
 * CARD_CHOICES, at most CARD_CHOICES of them (the chosen one among them) and the rest from the bot
 * as the person types. Choices the form fixes (not from Azure) are always few, and all listed.
 */
function choiceSet(f: FieldView, targetType: string, subscriptionId: string, common: Element): Element {
  const long = f.fromAzure && f.options.length > CARD_CHOICES;
  const searched = f.fromAzure && (!!f.dependsOn || long);
  let listed = f.options;
  if (long) {
    const chosen = f.value ? f.options.find((o) => o.value.toLowerCase() === f.value.toLowerCase()) : undefined;
    listed = f.options.slice(0, CARD_CHOICES);
    if (chosen && !listed.includes(chosen)) listed = [...listed.slice(0, CARD_CHOICES - 1), chosen];
  }
  return {
    type: 'Input.ChoiceSet',
    ...common,
    style: searched ? 'filtered' : 'compact',
    choices: listed.map((o) => ({ title: o.title, value: o.value })),
    ...(long ? { placeholder: `Type to search all ${f.options.length}` } : {}),
    ...(f.dependents.length ? { valueChangedAction: { type: 'Action.ResetInputs', targetInputIds: f.dependents } } : {}),
    ...(searched ? { 'choices.data': { type: 'Data.Query', dataset: datasetOf(targetType, f.name, subscriptionId), associatedInputs: 'auto' } } : {}),
  };
}

export function formCardOf(form: FormView): Record<string, unknown> {
  // What the form carries but does not let anyone change (the resource a key change is for). A form
  // filled in from a request's check carries the check's name instead: a retry's resource list is
  // too long to ride in every action's data (and again in each fallback), and is read from the check
  // again when the form comes back.
  const fixed = form.carry?.from ? {} : Object.fromEntries(form.fields.filter((f) => f.kind === 'fixed').map((f) => [f.name, f.value]));
  const data = { targetType: form.targetType, ...fixed, ...form.carry };
  const action = (verb: string, title: string, extra: Element = {}) => ({
    type: 'Action.Execute',
    title,
    verb,
    data,
    associatedInputs: 'auto',
    ...extra,
    fallback: { type: 'Action.Submit', title, data: { verb, ...data } },
  });
  const hasPickers = form.fields.some((f) => f.fromAzure);
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: teamsText(form.heading), weight: 'Bolder', size: 'Medium', wrap: true },
      { type: 'TextBlock', text: teamsText(form.intro), wrap: true, isSubtle: true, spacing: 'Small' },
      ...(form.note ? [{ type: 'TextBlock', text: teamsText(form.note), wrap: true, color: 'Accent' }] : []),
      ...(form.errors.length
        ? [
            { type: 'TextBlock', text: 'Please fix the highlighted fields:', color: 'Attention', weight: 'Bolder', wrap: true },
            ...form.errors.map((e) => ({ type: 'TextBlock', text: teamsText(`• ${e.label}: ${e.message}`), color: 'Attention', wrap: true, spacing: 'None' })),
          ]
        : []),
      ...form.fields.flatMap((f) => input(f, form.targetType, form.subscriptionId)),
    ],
    actions: [action(FORM_VERBS.submit, form.submitLabel, { style: 'positive' }), ...(hasPickers ? [action(FORM_VERBS.reload, 'Reload pickers (after changing subscription or key)')] : [])],
  };
}
