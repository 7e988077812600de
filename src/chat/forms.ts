// A target's form as a channel-neutral view: every field with its label, hint, choices, value and
// error. Teams renders it as an Adaptive Card (teams/form-card.ts), Slack as a modal
// (slack/form-modal.ts); validation and its wording are here, once, for both.
import type { Choice, FormField } from '../targets/form';
import { fillHeading } from '../targets/form';
import { type AnyTarget, type FormTarget as Target, isFleet, type ParseOutcome, parseForm } from '../targets/types';
import { choicesOf, type FormChoices } from '../workflow/catalog';

/** What a form carries besides its fields (FormView.carry). `fromDigest`: the fixed values `from` gave when the form was drawn. */
export type FormCarry = { unblocks?: string; from?: string; fromDigest?: string };

export type FieldError = { field: string; label: string; message: string };

export interface FieldView {
  name: string;
  label: string;
  kind: 'text' | 'choice' | 'fixed';
  required: boolean;
  /** Said when the field is left empty (client and server alike). */
  requiredMessage: string;
  hint: string;
  placeholder: string;
  multiline: boolean;
  maxLength?: number;
  pattern?: string;
  patternMessage?: string;
  options: Choice[];
  value: string;
  /** The value as a form shows it: a long list (a retry's resources) in part, with how many more it holds. */
  shown: string;
  /** The field whose value decides this one's choices. */
  dependsOn?: string;
  /** Fields whose choices depend on this one (they start over when it changes). */
  dependents: string[];
  /** Changing it draws the form again: its dependents' choices, or (a subscription) every picker's. */
  redraws: boolean;
  /** Whether the choices come from Azure (a picker) or are fixed by the form. */
  fromAzure: boolean;
  error?: string;
}

export interface FormView {
  targetType: string;
  title: string;
  heading: string;
  intro: string;
  /** A line about where the form starts from (e.g. the experiment it copies, the key in use now). */
  note: string;
  submitLabel: string;
  fields: FieldView[];
  /** Problems of the last submission, field by field (also on each field as `error`). */
  errors: FieldError[];
  /** The subscription the pickers were read from. */
  subscriptionId: string;
  /**
   * Carried with the submission but not a field: a fix's `unblocks` (the request it unblocks) and
   * `from` (the request's check whose values filled the form in, "CR-…#fleet.members": a card
   * carries that instead of the fixed values, which are read from it again on submission).
   */
  carry?: FormCarry;
}

/** The note on a fix's form: the request it unblocks. */
export function fixNote(blockedBy: string): string {
  return `This fixes what ${blockedBy} needs: when it is done, ${blockedBy} is checked again by itself and goes on.`;
}

/** A form's fixed values (carried, never edited) out of `values`: every fixed field, '' when absent. */
export function fixedOf(target: Target, values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(target.fields.filter((f) => f.kind === 'fixed').map((f) => [f.name, typeof values[f.name] === 'string' ? (values[f.name] as string) : '']));
}

/** The lines of a fixed value a form shows; the rest are counted ("… and 240 more"). */
const FIXED_LINES_SHOWN = 10;

function shownValue(value: string): string {
  const lines = value.split('\n');
  return lines.length <= FIXED_LINES_SHOWN ? value : `${lines.slice(0, FIXED_LINES_SHOWN).join('\n')}\n… and ${lines.length - FIXED_LINES_SHOWN} more`;
}

/** Said when a required field is empty, in every channel and by the server. */
export function requiredMessage(label: string): string {
  return `${label} is required`;
}

/** The choices a field offers for these values (a dependent picker: those of the value it depends on). */
export function optionsOf(field: FormField, choices: FormChoices, values: Record<string, unknown>): Choice[] {
  if (field.kind === 'options') return field.options;
  if (field.kind !== 'picker') return [];
  const azure = choicesOf(choices, field.source, field.dependsOn ? String(values[field.dependsOn] ?? '') : undefined);
  return [...(field.extra ?? []), ...azure];
}

/**
 * The choices that answer what a person typed into a picker that searches (a Teams Data.Query, a
 * Slack external_select), as indexes into `all`: those whose title holds the text first, then those
 * whose value alone does (an id holds its resource group's name, so typing a group lists everything
 * in it — after what is named so), each in list order; case aside. Nothing typed: all of them.
 */
export function matchingChoices(all: Choice[], query: string): number[] {
  const q = query.trim().toLowerCase();
  if (!q) return all.map((_c, i) => i);
  const byTitle: number[] = [];
  const byValue: number[] = [];
  all.forEach((c, i) => {
    if (c.title.toLowerCase().includes(q)) byTitle.push(i);
    else if (c.value.toLowerCase().includes(q)) byValue.push(i);
  });
  return [...byTitle, ...byValue];
}

/** Values as the form shows them: the defaults, then what was given; every value a string. */
export function formValues(target: Target, choices: FormChoices, given: Record<string, unknown> = {}): Record<string, string> {
  const defaults: Record<string, string> = {};
  for (const f of target.fields) if (f.default !== undefined) defaults[f.name] = f.default;
  if (target.fields.some((f) => f.name === 'subscriptionId')) defaults.subscriptionId = choices.subscriptionId;
  if (target.fields.some((f) => f.name === 'resourceGroup') && choices.resourceGroups[0]) defaults.resourceGroup = choices.resourceGroups[0].value;
  const out: Record<string, string> = { ...defaults };
  for (const [k, v] of Object.entries(given)) if (v !== undefined && v !== null && typeof v !== 'object') out[k] = String(v);
  return out;
}

/**
 * `note`: a line about where the form starts from; `carry`: what it carries besides its fields. A
 * fix's form (`carry.unblocks`) says what it unblocks unless given another note, however often it is drawn.
 */
export function formView(target: Target, choices: FormChoices, given: Record<string, unknown> = {}, errors: FieldError[] = [], opts: { note?: string; carry?: FormCarry } = {}): FormView {
  const values = formValues(target, choices, given);
  const errorOf = new Map(errors.map((e) => [e.field, e.message]));
  const { carry } = opts;
  return {
    targetType: target.type,
    title: target.form.title,
    heading: fillHeading(target.form.heading, values),
    intro: target.form.intro,
    note: opts.note || (carry?.unblocks ? fixNote(carry.unblocks) : ''),
    ...(carry && Object.keys(carry).length ? { carry } : {}),
    submitLabel: target.form.submitLabel ?? 'Run checks and request approval',
    subscriptionId: choices.subscriptionId,
    errors,
    fields: target.fields.map((f): FieldView => ({
      name: f.name,
      label: f.label,
      kind: f.kind === 'text' ? 'text' : f.kind === 'fixed' ? 'fixed' : 'choice',
      required: !!f.required,
      requiredMessage: requiredMessage(f.label),
      hint: f.hint ?? '',
      placeholder: f.kind === 'text' ? (f.placeholder ?? '') : '',
      multiline: f.kind === 'text' && !!f.multiline,
      maxLength: f.kind === 'text' ? f.maxLength : undefined,
      pattern: f.kind === 'text' ? f.pattern : undefined,
      patternMessage: f.kind === 'text' ? f.patternMessage : undefined,
      options: optionsOf(f, choices, values),
      value: values[f.name] ?? '',
      shown: shownValue(values[f.name] ?? ''),
      dependsOn: f.kind === 'picker' ? f.dependsOn : undefined,
      dependents: target.fields.filter((d) => d.kind === 'picker' && d.dependsOn === f.name).map((d) => d.name),
      redraws: (f.kind === 'picker' && f.source === 'subscriptions') || target.fields.some((d) => d.kind === 'picker' && d.dependsOn === f.name),
      fromAzure: f.kind === 'picker',
      error: errorOf.get(f.name),
    })),
  };
}

/**
 * A changed field: the form again with the other values kept and every field that depends on it
 * started over (a key version of another key must not survive a change of key).
 */
export function afterChange(target: Target, values: Record<string, unknown>, changed: string): Record<string, unknown> {
  const out = { ...values };
  const reset = (name: string) => {
    for (const d of target.fields) {
      if (d.kind === 'picker' && d.dependsOn === name) {
        if (d.default !== undefined) out[d.name] = d.default;
        else delete out[d.name];
        reset(d.name);
      }
    }
  };
  reset(changed);
  return out;
}

/**
 * A submission checked the same way in every channel: the target's schema (each required field named
 * when empty), then every dependent picker against the choices of the value it depends on.
 */
export function checkForm<P extends Record<string, unknown>>(target: Target<P>, data: Record<string, unknown>, choices?: FormChoices): ParseOutcome<P> {
  const parsed = parseForm(target, data);
  const errors: FieldError[] = parsed.ok ? [] : [...parsed.errors];
  if (choices) {
    for (const f of target.fields) {
      if (f.kind !== 'picker' || !f.dependsOn || errors.some((e) => e.field === f.name || e.field === f.dependsOn)) continue;
      const value = String(data[f.name] ?? '');
      const parent = String(data[f.dependsOn] ?? '');
      if (!value || !parent) continue;
      const known = optionsOf(f, choices, data);
      // Only what the bot can list is judged here; the checks read Azure again at submission.
      if (choicesOf(choices, f.source, parent).length && !known.some((c) => c.value.toLowerCase() === value.toLowerCase())) {
        const parentLabel = target.fields.find((p) => p.name === f.dependsOn)?.label ?? f.dependsOn;
        errors.push({ field: f.name, label: f.label, message: `${f.label} ${value} does not belong to the chosen ${parentLabel.toLowerCase()}; pick one the form lists for it` });
      }
    }
  }
  if (errors.length) return { ok: false, errors };
  return parsed;
}

/**
 * Whether judging the dependent pickers needs the Azure choices: only when one holds a value that
 * is not one of the choices every value shares (such as "latest") — so the usual submission reads nothing.
 */
export function needsChoices(target: Target, data: Record<string, unknown>): boolean {
  return target.fields.some((f) => {
    if (f.kind !== 'picker' || !f.dependsOn) return false;
    const v = String(data[f.name] ?? '');
    return v !== '' && !(f.extra ?? []).some((c) => c.value.toLowerCase() === v.toLowerCase());
  });
}

/** The refusal line of a form, the same in every channel. */
export function formProblems(errors: FieldError[]): string {
  return `Please fix: ${errors.map((e) => `${e.label} — ${e.message}`).join('; ')}.`;
}

/** What a submitted form's card says while its checks run (a fleet first finds its resources). */
export function checkingNotice(target: AnyTarget, values: Record<string, unknown>): { title: string; text: string } {
  if (isFleet(target)) return { title: '⏳ Finding every resource that uses the key…', text: `Then each one’s prerequisite checks run. This card updates when they finish.` };
  return { title: `⏳ Running ${target.checks.length} prerequisite checks…`, text: `Checking key, identity and region for ${target.displayName} ${typeof values.name === 'string' ? values.name : ''}. This card updates when they finish.` };
}
