// Form fields shared by the targets' zod schemas: one wording of each refusal, everywhere.
import { z } from 'zod';

export const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const required = (label: string) => z.string({ error: `${label} is required` }).trim().min(1, `${label} is required`);

export const subscriptionField = () => required('Subscription').regex(GUID, 'Subscription must be a subscription id (a GUID)');

export const resourceGroupField = () =>
  required('Resource group')
    .regex(/^[-\w.()]{1,90}$/, 'Resource group may use letters, digits, -, _, ., ( ) and be at most 90 characters')
    .refine((v) => !v.endsWith('.'), 'Resource group cannot end with a period');

export const regionField = () => required('Region').regex(/^[a-zA-Z0-9 -]{2,40}$/, 'Region must be a region name such as eastus');

export const identityField = () =>
  required('Identity').regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i, 'Identity must be the resource id of a user-assigned managed identity');

export const keyUrlField = () => required('Key').regex(/^https:\/\//, 'Key must be a key identifier starting with https://');

/** "latest" (versionless URL: auto-rotation) or a 32-hex version. */
export const keyVersionField = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? 'latest' : v))
    .refine((v) => v === 'latest' || /^[a-fA-F0-9]{32}$/.test(v), 'Key version must be "latest" or a 32-character hexadecimal version');
