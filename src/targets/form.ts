// What a target's form is made of, channel-neutral: Teams renders it as an Adaptive Card, Slack as
// a Block Kit modal, from this one description (src/chat/forms.ts builds the view both render).

/** Where a picker's choices come from: lists read from Azure with the bot's identity (workflow/catalog.ts). */
export type ChoiceSource = 'subscriptions' | 'resourceGroups' | 'locations' | 'identities' | 'keys' | 'keyVersions' | 'storageAccounts' | 'virtualMachines' | 'vaults';

export interface Choice {
  title: string;
  value: string;
}

interface FieldBase {
  /** Key in the submitted data (and of the zod schema). */
  name: string;
  label: string;
  /** One line under the field: what to enter, or why it matters. */
  hint?: string;
  /** Required fields are marked on the form; empty, they are named in the refusal. */
  required?: boolean;
  /** The value a fresh form starts with. */
  default?: string;
  /** Show the field only when another field has one of these values (e.g. the VM picker only for a template). */
  showWhen?: { field: string; values: string[] };
}

export type FormField =
  | (FieldBase & {
      kind: 'text';
      placeholder?: string;
      multiline?: boolean;
      maxLength?: number;
      /** A client-side pattern (the schema is what decides); its message is `patternMessage`. */
      pattern?: string;
      patternMessage?: string;
    })
  | (FieldBase & {
      kind: 'picker';
      source: ChoiceSource;
      /**
       * The field whose value decides this picker's choices (a key version belongs to the chosen
       * key). When that field changes the choices are read again and this field starts over; a value
       * that is not among the choices for the other field's value is refused at submission.
       */
      dependsOn?: string;
      /** Choices before the Azure ones (e.g. "latest"). */
      extra?: Choice[];
    })
  | (FieldBase & { kind: 'options'; options: Choice[] })
  /** Carried unchanged (e.g. the resource a key change is for) and shown as text. */
  | (FieldBase & { kind: 'fixed' });

/** `{field}` placeholders in a heading replaced by the form's values. */
export function fillHeading(heading: string, values: Record<string, unknown>): string {
  return heading.replace(/\{(\w+)\}/g, (_m, k: string) => String(values[k] ?? ''));
}
