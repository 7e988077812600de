// Form fields shared by the targets' zod schemas: one wording of each refusal, everywhere.
import { z } from 'zod';
import { GUID, MAX_RESOURCE_ID_LENGTH, resourceIdPattern } from '../domain/resource-id';
import type { FormField } from './form';

/** A required text: empty, it says only that (not also every rule an empty value breaks). */
export const required = (label: string) =>
  z
    .string({ error: `${label} is required` })
    .trim()
    .min(1, { error: `${label} is required`, abort: true });

export const subscriptionField = () => required('Subscription').regex(GUID, 'Subscription must be a subscription id (a GUID)');

export const resourceGroupField = () =>
  required('Resource group')
    .regex(/^[-\w.()]{1,90}$/, 'Resource group may use letters, digits, -, _, ., ( ) and be at most 90 characters')
    .refine((v) => !v.endsWith('.'), 'Resource group cannot end with a period');

export const regionField = () => required('Region').regex(/^[a-zA-Z0-9 -]{2,40}$/, 'Region must be a region name such as eastus');

/** A resource id field: within the length limit, and each segment something a URL leaves alone (domain/resource-id.ts). */
export const resourceIdField = (label: string, pattern: RegExp, message: string) => required(label).max(MAX_RESOURCE_ID_LENGTH, `${label} is too long to be a resource id`).regex(pattern, message);

export const IDENTITY_ID = resourceIdPattern('Microsoft\\.ManagedIdentity', 'userAssignedIdentities');
/** Group 1 is the subscription. */
export const STORAGE_ACCOUNT_ID = resourceIdPattern('Microsoft\\.Storage', 'storageAccounts', '[a-z0-9]{3,24}');

export const identityField = () => resourceIdField('Identity', IDENTITY_ID, 'Identity must be the resource id of a user-assigned managed identity');

// What the key URL is made of is a check (key.url-format); here only that it is one piece of text
// starting with https:// — no whitespace, control characters or unpaired surrogates, which could
// neither be a key identifier nor be stored.
export const keyUrlField = () =>
  required('Key')
    .max(2048, 'Key is too long to be a key identifier')
    // eslint-disable-next-line no-control-regex -- control characters are what this refuses
    .regex(/^https:\/\/(?:[^\s\u0000-\u001f\u007f-\u009f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/, 'Key must be a key identifier starting with https:// (no spaces or control characters)');

/** "latest" (versionless URL: auto-rotation) or a 32-hex version. */
export const keyVersionField = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? 'latest' : v))
    .refine((v) => v === 'latest' || /^[a-fA-F0-9]{32}$/.test(v), 'Key version must be "latest" or a 32-character hexadecimal version');

// The form fields most targets share: one label and hint for each, everywhere.
export const FIELD = {
  subscription: { name: 'subscriptionId', label: 'Subscription', kind: 'picker', source: 'subscriptions', required: true },
  resourceGroup: { name: 'resourceGroup', label: 'Resource group', kind: 'picker', source: 'resourceGroups', required: true },
  region: (hint?: string): FormField => ({ name: 'location', label: 'Region', kind: 'picker', source: 'locations', required: true, ...(hint ? { hint } : {}) }),
  /** The label is the one the schema's refusals use ("Identity must be…"): the person reads one name for the field. */
  identity: (hint = 'A user-assigned managed identity that reads the key: it needs get, wrap key and unwrap key on it.'): FormField => ({ name: 'identityId', label: 'Identity', hint, kind: 'picker', source: 'identities', required: true }),
  key: { name: 'keyUrl', label: 'Key', hint: 'An RSA key (2048 bits or more) in a vault with soft delete and purge protection.', kind: 'picker', source: 'keys', required: true },
  keyVersion: {
    name: 'keyVersion',
    label: 'Key version',
    hint: 'Versions of the chosen key. "latest" follows the key as it rotates.',
    kind: 'picker',
    source: 'keyVersions',
    dependsOn: 'keyUrl',
    default: 'latest',
    extra: [{ title: 'latest (versionless: auto-rotation)', value: 'latest' }],
  },
} as const satisfies Record<string, FormField | ((...a: never[]) => FormField)>;

/** A name field whose rule is said the same way on the form, by the client's validation and in the refusal. */
export function nameField(label: string, rule: { pattern: RegExp; message: string; clientPattern?: boolean }, placeholder: string): { field: FormField; schema: z.ZodString } {
  const message = `${label} must be ${rule.message}`;
  return {
    field: {
      name: 'name',
      label,
      kind: 'text',
      required: true,
      placeholder,
      hint: `${rule.message[0]!.toUpperCase()}${rule.message.slice(1)}.`,
      // A pattern the client checks too (Teams), when it is a plain one every client reads alike.
      ...(rule.clientPattern === false ? {} : { pattern: rule.pattern.source }),
      patternMessage: message,
    },
    schema: required(label).regex(rule.pattern, message),
  };
}
