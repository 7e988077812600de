// Changing the key of an existing Fluid Relay server (seed doc: "Update CMK settings"): PATCH the
// key URL, version or CMK identity; never remove CMK, and only while the configured key works.
import { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import type { CmkSubject } from '../checks/facts';
import { defineCheck, fail, pass } from '../checks/types';
import type { ArmWritePlan } from '../domain/types';
import { effectiveKeyUrl, FLUID_RELAY_API_VERSION, fluidRelayChecks, fluidRelayTarget } from './fluid-relay.target';
import { resourceIdPattern } from '../domain/resource-id';
import { FIELD, identityField, keyUrlField, keyVersionField, resourceIdField } from './fields';
import type { Target } from './types';
import { scopesOf, vaultScope } from './scopes';

/** Group 1 is the subscription. */
/**
 * Fluid Relay CMK needs the server's identity type to be exactly UserAssigned (Fluid Relay CMK doc:
 * "Identity.type must be UserAssigned"), and Azure refuses a PATCH that keeps a system-assigned
 * identity. The bot never drops an identity the server has without saying so: a server that also
 * carries a system-assigned identity is stopped at the checks, before anyone approves.
 */
export const fluidRelayIdentityType = defineCheck({
  id: 'fluidrelay.identity-type',
  title: 'The server’s identity type is UserAssigned, as Fluid Relay CMK requires',
  needs: ['existing'],
  evaluate: ({ existing }) => {
    const type = existing?.identity?.type ?? 'None';
    if (/systemassigned/i.test(type)) {
      return fail(
        `${existing?.name ?? 'The server'} has identity type "${type}". Fluid Relay CMK requires UserAssigned only, so Azure refuses this change while the system-assigned identity is there — and the bot will not remove it without anyone seeing.`,
        'If nothing uses the server’s system-assigned identity, turn it off (Azure portal → the Fluid Relay server → Identity → System assigned → Off), then request the key change again.',
        { identityType: type },
      );
    }
    return pass(`Identity type ${type}; every user-assigned identity the server has is kept.`, { identityType: type });
  },
});

const serverId = resourceIdPattern('Microsoft\\.FluidRelay', 'fluidRelayServers');

export const rotateSchema = z.object({
  resourceId: resourceIdField('Server', serverId, 'Server must be the resource id of a Fluid Relay server'),
  identityId: identityField(),
  keyUrl: keyUrlField(),
  keyVersion: keyVersionField(),
  /** A request to turn CMK off. Fluid Relay does not allow it; the checks refuse it with the reason. */
  disableCmk: z.enum(['true', 'false']).optional().default('false'),
  // Read from the server before planning:
  location: z.string().optional(),
  currentKeyUrl: z.string().optional(),
  currentIdentityIds: z.array(z.string()).optional(),
  /** The server's identity type now (e.g. "SystemAssigned, UserAssigned"): the PATCH keeps it. */
  currentIdentityType: z.string().optional(),
});
export type RotateParams = z.infer<typeof rotateSchema>;

const currentKeyUrlOf = (r: ArmResource) => (r.properties as { encryption?: { customerManagedKeyEncryption?: { keyEncryptionKeyUrl?: string } } } | undefined)?.encryption?.customerManagedKeyEncryption?.keyEncryptionKeyUrl || undefined;

export const fluidRelayRotateTarget: Target<RotateParams> = {
  type: 'fluid-relay-rotate',
  displayName: 'Fluid Relay server key change',
  entry: { help: 'change the key, key version or CMK identity of a Fluid Relay server (never removes CMK)', rotates: 'Microsoft.FluidRelay/fluidRelayServers' },
  form: {
    title: 'Change the key',
    heading: 'Change the customer-managed key of {serverName}',
    intro: 'You can change the key, its version, or the identity that reads it. CMK itself can never be turned off. The key version in use now must still be enabled and unexpired, or Fluid Relay refuses the change.',
  },
  // The form starts from the server's key settings now; a server without CMK cannot get one (creation only).
  prefill: {
    read: true,
    values: (resourceId, r) => {
      const cmk = ((r?.properties ?? {}) as { encryption?: { customerManagedKeyEncryption?: { keyEncryptionKeyUrl?: string; keyEncryptionKeyIdentity?: { userAssignedIdentityResourceId?: string } } } }).encryption
        ?.customerManagedKeyEncryption;
      if (!cmk?.keyEncryptionKeyUrl) return { refusal: `${r?.name ?? resourceId} has no customer-managed key, and Fluid Relay can only enable CMK when a server is created: use \`new fluid-relay\` for a new server.` };
      const m = /^(https:\/\/[^/]+\/keys\/[^/]+)(?:\/([0-9a-fA-F]{32}))?$/.exec(cmk.keyEncryptionKeyUrl);
      return {
        values: { resourceId, serverName: r?.name ?? '', currentKeyUrl: cmk.keyEncryptionKeyUrl, keyUrl: m?.[1] ?? '', keyVersion: m?.[2] ?? 'latest', identityId: cmk.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId ?? '' },
        note: `Key now: ${cmk.keyEncryptionKeyUrl}`,
      };
    },
  },
  resourceType: 'Microsoft.FluidRelay/fluidRelayServers',
  apiVersion: FLUID_RELAY_API_VERSION,
  schema: rotateSchema,
  fields: [{ name: 'resourceId', label: 'Server', kind: 'fixed', required: true }, FIELD.key, FIELD.keyVersion, FIELD.identity()],
  resourceId: (p) => p.resourceId,
  async prepare(p: RotateParams, arm: ArmGateway): Promise<RotateParams> {
    const server = await arm.getOrNull<ArmResource>(p.resourceId, FLUID_RELAY_API_VERSION);
    return {
      ...p,
      location: server?.location ?? '',
      currentKeyUrl: server ? currentKeyUrlOf(server) : undefined,
      currentIdentityIds: Object.keys(server?.identity?.userAssignedIdentities ?? {}),
      currentIdentityType: server?.identity?.type,
    };
  },
  // PATCH FluidRelayServerUpdate: properties.encryption and identity only (FluidRelayServers_Update).
  plan: (p): ArmWritePlan => ({
    method: 'PATCH',
    resourceId: p.resourceId,
    apiVersion: FLUID_RELAY_API_VERSION,
    body:
      p.disableCmk === 'true'
        ? { properties: { encryption: {} } }
        : {
            // Every identity the server has is kept: a system-assigned one too (its type as the server spells it).
            identity: {
              type: /systemassigned/i.test(p.currentIdentityType ?? '') ? p.currentIdentityType! : 'UserAssigned',
              userAssignedIdentities: Object.fromEntries([...new Set([...(p.currentIdentityIds ?? []), p.identityId])].map((i) => [i, {}])),
            },
            properties: {
              encryption: {
                customerManagedKeyEncryption: {
                  keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: p.identityId },
                  keyEncryptionKeyUrl: effectiveKeyUrl(p),
                },
              },
            },
          },
  }),
  scopes: (p, checks) => scopesOf({ role: 'resource', id: p.resourceId }, { role: 'identity', id: p.identityId }, vaultScope(checks)),
  subject: (p): CmkSubject => ({
    resourceId: p.resourceId,
    subscriptionId: serverId.exec(p.resourceId)?.[1] ?? '',
    location: p.location ?? '',
    keyUrl: effectiveKeyUrl(p),
    identityId: p.identityId,
    cmkIdentityType: 'UserAssigned',
    assignedIdentityIds: [...(p.currentIdentityIds ?? []), p.identityId],
    // A request to turn CMK off writes a payload without it; fluidrelay.no-disable refuses that.
    payload: fluidRelayRotateTarget.plan(p).body,
  }),
  reviewSubject: (r) => fluidRelayTarget.reviewSubject(r),
  checks: [...fluidRelayChecks('update', 'fluid-relay-rotate'), fluidRelayIdentityType],
  reviewChecks: (r) => fluidRelayTarget.reviewChecks!(r),
  summary: (p) => [
    { title: 'Server', value: p.resourceId.split('/').pop() ?? '' },
    { title: 'Key now', value: p.currentKeyUrl ?? '(none)' },
    { title: 'Key after', value: p.disableCmk === 'true' ? '(CMK removed — not allowed)' : effectiveKeyUrl(p) },
    { title: 'Identity', value: p.identityId.split('/').pop() ?? '' },
  ],
  irreversible: () => [],
  verify: (plan, actual) => ({ ...fluidRelayTarget.verify(plan, actual), title: 'Server reports the new key' }),
  verifyCheckId: 'fluidrelay.verify',
  doneMessage: () => 'Key changed and verified.',
  digestEvidence: (checks) => fluidRelayTarget.digestEvidence(checks),
};
