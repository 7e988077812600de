// A target's form (chat/forms.ts FormView) as a Block Kit modal, typed with @slack/types.
// Option values are capped at 150 characters and resource ids are longer, so an option carries its
// index into the field's choice list, which the server rebuilds from the stored choices. A picker
// longer than a static_select may list (100) is an external_select, whose options the bot serves
// from those stored choices as the person types. A field others depend on dispatches its changes
// (dispatch_action): the modal is drawn again with their choices for the new value (views.update),
// and they start over — their block id names the value they were drawn for, so Slack keeps no stale
// selection.
import type { InputBlock, KnownBlock, ModalView, PlainTextOption, SectionBlock } from '@slack/types';
import { createHash } from 'node:crypto';
import { matchingChoices, optionsOf, type FieldView, type FormView } from '../forms';
import type { Choice } from '../../targets/form';
import type { FormTarget as Target } from '../../targets/types';
import type { FormChoices } from '../../workflow/catalog';
import { clip, esc, LIMITS } from './blocks';

export const FORM_CALLBACK = 'cmk_form';
/** Slack shows the submit button's text in at most 24 characters. */
const SUBMIT_TEXT = 'Run checks';
/** plain_text_input max_length: at most 3000 (Block Kit reference). */
const SLACK_INPUT_MAX = 3000;

const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: clip(text, max), emoji: true });
const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } });

/** The block id of a field: a dependent field's names the value it was drawn for. */
export function blockIdOf(f: Pick<FieldView, 'name' | 'dependsOn'>, values: Record<string, unknown>): string {
  if (!f.dependsOn) return f.name;
  return `${f.name}:${createHash('sha256')
    .update(String(values[f.dependsOn] ?? ''))
    .digest('hex')
    .slice(0, 12)}`;
}

/** The field a block id belongs to. */
export function fieldOfBlock(blockId: string): string {
  return blockId.split(':')[0]!;
}

function field(f: FieldView, values: Record<string, unknown>): KnownBlock | undefined {
  // Shown when it holds something; carried in the form's session either way.
  if (f.kind === 'fixed') return f.value ? section(`*${esc(f.label)}:* ${esc(f.shown)}`) : undefined;
  const base = {
    type: 'input' as const,
    block_id: blockIdOf(f, values),
    optional: !f.required,
    label: plain(f.label, 2000),
    ...(f.hint ? { hint: plain(f.hint, 2000) } : {}),
    ...(f.redraws ? { dispatch_action: true } : {}),
  };
  if (f.kind === 'text') {
    const block: InputBlock = {
      ...base,
      element: {
        type: 'plain_text_input',
        action_id: 'value',
        ...(f.value ? { initial_value: f.value } : {}),
        ...(f.multiline ? { multiline: true } : {}),
        // Slack takes at most 3,000 characters in one input (a longer Chaos definition is pasted in Teams).
        ...(f.maxLength ? { max_length: Math.min(f.maxLength, SLACK_INPUT_MAX) } : {}),
        ...(f.placeholder ? { placeholder: plain(f.placeholder, 150) } : {}),
      },
    };
    return block;
  }
  if (!f.options.length) {
    // Slack refuses a select without options: say what is missing instead.
    return section(`*${esc(f.label)}:* nothing to choose from${f.dependsOn ? ' for the value chosen above' : ' in this subscription'}.`);
  }
  const options = f.options.map(optionOf);
  const initial = options.find((_o, i) => f.options[i]!.value === f.value);
  if (f.options.length > LIMITS.options) {
    // More than a static_select may list: the person types, and Slack asks the bot for the options
    // that match (block_suggestion; suggestOptions below) — every choice can be reached.
    const search = `Type to search all ${f.options.length}.`;
    const block: InputBlock = {
      ...base,
      hint: plain(f.hint ? `${search} ${f.hint}` : search, 2000),
      element: { type: 'external_select', action_id: 'value', min_query_length: 0, placeholder: plain(`Type to search ${f.label.toLowerCase()}`, 150), ...(initial ? { initial_option: initial } : {}) },
    };
    return block;
  }
  const block: InputBlock = {
    ...base,
    element: { type: 'static_select', action_id: 'value', options, placeholder: plain(`Choose ${f.label.toLowerCase()}`, 150), ...(initial ? { initial_option: initial } : {}) },
  };
  return block;
}

/** A choice as a Slack option: its value is its index in the field's list (an id is longer than Slack's 150 characters). */
const optionOf = (c: Choice, index: number): PlainTextOption => ({ text: plain(c.title || '(none)', LIMITS.optionText), value: String(index) });

/**
 * The options of a long picker that answer what the person typed (a block_suggestion), at most as
 * many as Slack shows, each carrying its index in the whole list, which the submission is read by.
 */
export function suggestOptions(all: Choice[], query: string): PlainTextOption[] {
  return matchingChoices(all, query)
    .slice(0, LIMITS.options)
    .map((i) => optionOf(all[i]!, i));
}

export function formModalOf(form: FormView, formId: string): ModalView {
  const values = Object.fromEntries(form.fields.map((f) => [f.name, f.value]));
  const intro = [`*${esc(form.heading)}.* ${esc(form.intro)}`, ...(form.note ? [`_${esc(form.note)}_`] : [])].join('\n');
  const blocks: KnownBlock[] = [section(intro), ...form.fields.map((f) => field(f, values)).filter((b): b is KnownBlock => !!b)];
  return {
    type: 'modal',
    callback_id: FORM_CALLBACK,
    private_metadata: JSON.stringify({ formId }),
    title: plain(form.title, LIMITS.modalTitle),
    submit: plain(SUBMIT_TEXT, 24),
    close: plain('Cancel', 24),
    blocks: blocks.slice(0, LIMITS.modalBlocks),
  };
}

type StateValues = Record<string, Record<string, { type?: string; value?: string | null; selected_option?: { value?: string } | null }>>;

/**
 * A view's state read back into form data, field by field in form order (a dependent picker's
 * options are those of the value chosen before it), through the stored choices. Outside input:
 * a block that is not the shape Slack documents is skipped.
 */
export function readModal(target: Target, stateValues: StateValues | undefined, choices: FormChoices, fixed: Record<string, string> = {}): Record<string, string> {
  return readModalState(target, stateValues, choices, fixed).values;
}

/**
 * As readModal, and which dependent pickers were answered in a block drawn for another value of the
 * field they depend on (a version picked before the key changed): those answers are not taken.
 */
export function readModalState(target: Target, stateValues: StateValues | undefined, choices: FormChoices, fixed: Record<string, string> = {}): { values: Record<string, string>; stale: string[] } {
  const stale: string[] = [];
  const byField = new Map<string, { blockId: string; v: { type?: string; value?: string | null; selected_option?: { value?: string } | null } }>();
  for (const [blockId, actions] of Object.entries(stateValues ?? {})) {
    const v = actions && typeof actions === 'object' ? actions.value : undefined;
    if (v && typeof v === 'object') byField.set(fieldOfBlock(blockId), { blockId, v });
  }
  const out: Record<string, string> = { ...fixed };
  for (const f of target.fields) {
    if (f.kind === 'fixed') continue;
    const got = byField.get(f.name);
    if (!got) continue;
    const { blockId, v } = got;
    if (f.kind === 'text') {
      if (typeof v.value === 'string') out[f.name] = v.value;
      continue;
    }
    // A picker's answer is one of its options, by index into the list it was drawn with — for a
    // dependent picker, drawn for the value chosen before it (its block id says which); a selection
    // made for another value is stale and not taken.
    if (f.kind === 'picker' && f.dependsOn && blockId !== blockIdOf({ name: f.name, dependsOn: f.dependsOn }, out)) {
      // Choices every value shares (such as "latest") stand; a specific one belonged to the old value.
      const index = v.selected_option && typeof v.selected_option === 'object' ? Number(v.selected_option.value) : NaN;
      const shared = f.extra ?? [];
      if (Number.isInteger(index) && index >= 0 && index < shared.length) out[f.name] = shared[index]!.value;
      else if (v.selected_option || typeof v.value === 'string') stale.push(f.name);
      continue;
    }
    if (v.selected_option && typeof v.selected_option === 'object') {
      const index = v.selected_option.value;
      if (typeof index !== 'string' || !/^\d{1,6}$/.test(index)) continue;
      const choice = optionsOf(f, choices, out)[Number(index)];
      if (choice) out[f.name] = choice.value;
    } else if (typeof v.value === 'string') {
      // Not what a select sends: taken as typed, for the schema to judge (and refuse, naming the field).
      out[f.name] = v.value;
    }
  }
  return { values: out, stale };
}

/**
 * Modal errors go on blocks of the view that was submitted: each field's error on its block there;
 * an error of a field the view shows no input for, on its first input.
 */
export function errorBlocks(viewBlocks: unknown, errors: Array<{ field: string; message: string }>): Record<string, string> {
  const inputs = (Array.isArray(viewBlocks) ? viewBlocks : [])
    .filter((b): b is { type: string; block_id: string } => !!b && typeof b === 'object' && (b as { type?: unknown }).type === 'input' && typeof (b as { block_id?: unknown }).block_id === 'string')
    .map((b) => b.block_id);
  const out: Record<string, string> = {};
  for (const e of errors) {
    const id = inputs.find((i) => fieldOfBlock(i) === e.field) ?? inputs[0];
    if (!id) continue;
    out[id] = clip(out[id] ? `${out[id]}; ${e.message}` : e.message, 2000);
  }
  return out;
}

/** A modal that only says something (a form that could not be opened, and why). */
export function noticeModal(title: string, text: string): ModalView {
  return { type: 'modal', title: plain(title, LIMITS.modalTitle), close: plain('Close', 24), blocks: [section(esc(text))] };
}
