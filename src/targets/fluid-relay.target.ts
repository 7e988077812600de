// Azure Fluid Relay server with a customer-managed key (seed doc: fluid-relay-customer-managed-keys.md).
// CMK can only be set when the server is created and can never be turned off afterwards.
import { z } from 'zod';
import type { ArmResource } from '../azure/port';
import { cmkChecks } from '../checks/catalogue';
import { cmkOf, fluidRelayCreateOnly, fluidRelayNoDisable, fluidRelayPreviousKeyAlive } from '../checks/catalogue/fluid-relay.checks';
import { keyFromUrl, type CmkSubject, type ResourceRead } from '../checks/facts';
import { reading, type Change, type Check } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { FIELD, identityField, keyUrlField, keyVersionField, nameField, regionField, resourceGroupField, subscriptionField } from './fields';
import type { Target } from './types';
import { scopesOf, vaultScope } from './scopes';
import { subscriptionOf } from '../domain/resource-id';

export const FLUID_RELAY_API_VERSION = '2022-06-01';

/** The server name rule, said the same way on the form, by the client and in a refusal. */
const SERVER_NAME = nameField('Server name', { pattern: /^[a-zA-Z0-9][a-zA-Z0-9-]{1,48}[a-zA-Z0-9]$/, message: '3-50 letters, digits or hyphens, starting and ending with a letter or digit' }, 'e.g. fr-contoso-prod');

export const fluidRelaySchema = z.object({
  subscriptionId: subscriptionField(),
  resourceGroup: resourceGroupField(),
  name: SERVER_NAME.schema,
  location: regionField(),
  identityId: identityField(),
  keyUrl: keyUrlField(),
  keyVersion: keyVersionField(),
  storagesku: z.enum(['basic', 'standard'], { error: 'Storage SKU must be basic or standard' }).optional().default('basic'),
});

export type FluidRelayParams = z.infer<typeof fluidRelaySchema>;

/** The key URL the server will use: versionless for auto-rotation, else pinned to the chosen version. */
export function effectiveKeyUrl(p: Pick<FluidRelayParams, 'keyUrl' | 'keyVersion'>): string {
  const base = p.keyUrl.trim().replace(/\/+$/, '');
  if (p.keyVersion === 'latest') return base;
  // A URL that already names a version is replaced, not appended to.
  const m = base.match(/^(https:\/\/[^/]+\/keys\/[^/]+)(\/[a-fA-F0-9]{32})?$/);
  return `${m ? m[1] : base}/${p.keyVersion}`;
}

function resourceId(p: FluidRelayParams): string {
  return `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.FluidRelay/fluidRelayServers/${p.name}`;
}

const cmkBlock = z.object({
  keyEncryptionKeyIdentity: z.object({ identityType: z.string().optional(), userAssignedIdentityResourceId: z.string().optional() }).partial().optional(),
  keyEncryptionKeyUrl: z.string().optional(),
});

/** Servers are read at the api-version the bot writes; their CMK names the key they use now. */
const SERVER_READ: ResourceRead = { apiVersion: FLUID_RELAY_API_VERSION, currentKeyUrlOf: cmkOf };

/** The checks of a Fluid Relay server change: creating one (`fluid-relay`), changing its key (`fluid-relay-rotate`), or a review. */
export function fluidRelayChecks(change: Change, targetType: string): Check[] {
  return [
    ...cmkChecks({
      targetType,
      change,
      key: keyFromUrl(),
      resource: SERVER_READ,
      writeAction: change === 'review' ? null : 'Microsoft.FluidRelay/fluidRelayServers/write',
      purgeProtectionRequired: false,
      sameRegion: true,
    }),
    ...reading({ resource: SERVER_READ }, [fluidRelayCreateOnly({ change }), fluidRelayNoDisable({ change }), fluidRelayPreviousKeyAlive({ change })]),
  ];
}

const CHECKS = fluidRelayChecks('create', 'fluid-relay');
const REVIEW_CHECKS = fluidRelayChecks('review', 'fluid-relay');

export const fluidRelayTarget: Target<FluidRelayParams> = {
  type: 'fluid-relay',
  displayName: 'Fluid Relay server',
  entry: { command: 'fluid-relay', help: 'request a new Azure Fluid Relay server encrypted with your key (a form opens)' },
  form: {
    title: 'Fluid Relay with CMK',
    heading: 'New Azure Fluid Relay server with a customer-managed key',
    intro: 'CMK can only be enabled when the server is created, and can never be turned off afterwards. The bot checks the key, identity and region before anyone approves.',
  },
  resourceType: 'Microsoft.FluidRelay/fluidRelayServers',
  apiVersion: FLUID_RELAY_API_VERSION,
  schema: fluidRelaySchema,
  fields: [
    FIELD.subscription,
    FIELD.resourceGroup,
    SERVER_NAME.field,
    FIELD.region('The vault, the identity and the server must all be in it.'),
    FIELD.identity(),
    FIELD.key,
    FIELD.keyVersion,
    {
      name: 'storagesku',
      label: 'Storage SKU',
      kind: 'options',
      default: 'basic',
      options: [
        { title: 'basic', value: 'basic' },
        { title: 'standard', value: 'standard' },
      ],
    },
  ],
  resourceId,
  // Exactly the shape of the reference example FluidRelayServers_CreateWithCmk.json (2022-06-01).
  plan: (p): ArmWritePlan => ({
    method: 'PUT',
    resourceId: resourceId(p),
    apiVersion: FLUID_RELAY_API_VERSION,
    body: {
      location: p.location,
      identity: { type: 'UserAssigned', userAssignedIdentities: { [p.identityId]: {} } },
      properties: {
        storagesku: p.storagesku,
        encryption: {
          customerManagedKeyEncryption: {
            keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: p.identityId },
            keyEncryptionKeyUrl: effectiveKeyUrl(p),
          },
        },
      },
    },
  }),
  scopes: (p, checks) => scopesOf({ role: 'resource', id: resourceId(p) }, { role: 'identity', id: p.identityId }, vaultScope(checks)),
  subject: (p): CmkSubject => ({
    resourceId: resourceId(p),
    subscriptionId: p.subscriptionId,
    location: p.location,
    keyUrl: effectiveKeyUrl(p),
    identityId: p.identityId,
    cmkIdentityType: 'UserAssigned',
    assignedIdentityIds: [p.identityId],
    payload: fluidRelayTarget.plan(p).body,
  }),
  reviewSubject: (r: ArmResource): CmkSubject => {
    const cmk = cmkBlock.safeParse((r.properties as { encryption?: { customerManagedKeyEncryption?: unknown } } | undefined)?.encryption?.customerManagedKeyEncryption ?? {});
    return {
      resourceId: r.id,
      subscriptionId: subscriptionOf(r.id),
      location: r.location ?? '',
      keyUrl: (cmk.success && cmk.data.keyEncryptionKeyUrl) || '',
      identityId: (cmk.success && cmk.data.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId) || '',
      cmkIdentityType: cmk.success ? cmk.data.keyEncryptionKeyIdentity?.identityType : undefined,
    };
  },
  checks: CHECKS,
  reviewChecks: () => REVIEW_CHECKS,
  summary: (p) => [
    { title: 'Region', value: p.location },
    { title: 'Key', value: effectiveKeyUrl(p) },
    { title: 'Identity', value: p.identityId.split('/').pop() ?? '' },
  ],
  irreversible: () => [
    'Customer-managed key encryption can never be turned off on this server once it is created.',
    'The key vault and key must stay enabled for the server’s whole life; deleting or disabling them makes the server unusable.',
  ],
  verify: (plan, actual: ArmResource): CheckResult => {
    const want = (plan.body.properties as { encryption?: { customerManagedKeyEncryption?: z.infer<typeof cmkBlock> } }).encryption?.customerManagedKeyEncryption ?? {};
    const props = (actual.properties ?? {}) as { provisioningState?: string; encryption?: { customerManagedKeyEncryption?: unknown } };
    const got = cmkBlock.safeParse(props.encryption?.customerManagedKeyEncryption ?? null);
    const evidence = {
      provisioningState: props.provisioningState ?? null,
      keyEncryptionKeyUrl: got.success ? (got.data.keyEncryptionKeyUrl ?? null) : null,
      identity: got.success ? (got.data.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId ?? null) : null,
    };
    const base = { id: 'fluidrelay.verify', title: 'Server reports the approved customer-managed key' };
    const problems: string[] = [];
    if (props.provisioningState !== 'Succeeded') problems.push(`provisioningState is ${props.provisioningState ?? 'missing'}`);
    if (!got.success || !got.data.keyEncryptionKeyUrl) problems.push('encryption.customerManagedKeyEncryption is empty');
    else {
      if (got.data.keyEncryptionKeyUrl !== want.keyEncryptionKeyUrl) problems.push(`key URL is ${got.data.keyEncryptionKeyUrl}`);
      const gotId = got.data.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId ?? '';
      if (gotId.toLowerCase() !== (want.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId ?? '').toLowerCase()) problems.push(`CMK identity is ${gotId || 'missing'}`);
      if (got.data.keyEncryptionKeyIdentity?.identityType !== 'UserAssigned') problems.push('CMK identity type is not UserAssigned');
    }
    return problems.length
      ? { ...base, status: 'fail', finding: `Verification failed: ${problems.join('; ')}.`, evidence, remedy: 'Open the server in the portal (JSON view) and compare with the request; contact the platform team before retrying.' }
      : { ...base, status: 'pass', finding: 'GET shows the approved key and identity; provisioning Succeeded.', evidence };
  },
  verifyCheckId: 'fluidrelay.verify',
  doneMessage: () => 'Created and verified.',
  digestEvidence: (checks) => {
    const pick = (id: string) => checks.find((c) => c.id === id)?.evidence ?? {};
    return { principalId: pick('identity.exists').principalId ?? null, keyVersion: pick('key.enabled').keyVersion ?? pick('key.url-format').version ?? null };
  },
};
