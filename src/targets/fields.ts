// Form fields shared by the targets' zod schemas: one wording of each refusal, everywhere.
import { z } from 'zod';
import { MAX_RESOURCE_ID_LENGTH, resourceIdPattern } from '../domain/resource-id';

export const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const required = (label: string) => z.string({ error: `${label} is required` }).trim().min(1, `${label} is required`);

export const subscriptionField = () => required('Subscription').regex(GUID, 'Subscription must be a subscription id (a GUID)');

export const resourceGroupField = () =>
  required('Resource group')
    .regex(/^[-\w.()]{1,90}$/, 'Resource group may use letters, digits, -, _, ., ( ) and be at most 90 characters')
    .refine((v) => !v.endsWith('.'), 'Resource group cannot end with a period');

export const regionField = () => required('Region').regex(/^[a-zA-Z0-9 -]{2,40}$/, 'Region must be a region name such as eastus');

/** A resource id field: within the length limit, and each segment something a URL leaves alone (domain/resource-id.ts). */
export const resourceIdField = (label: string, pattern: RegExp, message: string) =>
  required(label).max(MAX_RESOURCE_ID_LENGTH, `${label} is too long to be a resource id`).regex(pattern, message);

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
