// Rotating a Chaos Studio experiment's CMK side: the only CMK property PATCH may change is the
// experiment's identity (experimentUpdate = {identity}); the key itself lives on the storage account.
import { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import { botCanWrite, providerRegistered } from '../checks/catalogue/bot.checks';
import { CHAOS_CMK_API, chaosIdentityMatch, storageBlobWrite, storageExists } from '../checks/catalogue/chaos.checks';
import { identityExists, identityGrantAge, identityKeyPermissions, identitySameTenant, identityUserAssigned } from '../checks/catalogue/identity.checks';
import { keyEnabled, keyNotExpired, keyOps, keyType, keyVaultFound } from '../checks/catalogue/key.checks';
import { keyFromStorageAccount, type CmkSubject } from '../checks/facts';
import { reading } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { resourceIdPattern } from '../domain/resource-id';
import { FIELD, identityField, resourceIdField } from './fields';
import type { Target } from './types';
import { scopesOf, vaultScope } from './scopes';

/** Group 1 is the subscription. */
const experimentId = resourceIdPattern('Microsoft\\.Chaos', 'experiments');

export const chaosIdentitySchema = z.object({
  resourceId: resourceIdField('Experiment', experimentId, 'Experiment must be the resource id of a Chaos Studio experiment'),
  identityId: identityField(),
  storageAccountId: z.string().optional(),
  blobContainerName: z.string().optional(),
});
export type ChaosIdentityParams = z.infer<typeof chaosIdentitySchema>;

/** The key is the one the experiment's storage account encrypts with (these checks do not read the experiment itself). */
const CHECKS = reading({ key: keyFromStorageAccount() }, [
  keyVaultFound,
  keyType,
  keyEnabled,
  keyNotExpired,
  keyOps,
  identityExists,
  identityUserAssigned({ targetType: 'chaos-identity' }),
  identityKeyPermissions,
  identityGrantAge,
  identitySameTenant,
  botCanWrite({ action: 'Microsoft.Chaos/experiments/write' }),
  providerRegistered,
  chaosIdentityMatch,
  storageExists,
  storageBlobWrite,
]);

export const chaosIdentityTarget: Target<ChaosIdentityParams> = {
  type: 'chaos-identity',
  displayName: 'Chaos Studio experiment identity change',
  entry: { help: 'change the user-assigned identity of a Chaos Studio experiment (its key lives on its storage account: rotate that)', rotates: 'Microsoft.Chaos/experiments' },
  form: {
    title: 'Experiment identity',
    heading: 'Rotate CMK for Chaos Studio experiment {experimentName}',
    intro:
      "An experiment's data is encrypted with the key of its storage account, so key rotation happens on the storage account: `rotate <storage account id>`. On the experiment itself the only CMK property that can change is its user-assigned identity, which must have key access and blob write on that account.",
  },
  prefill: { read: false, values: (resourceId) => ({ values: { resourceId, experimentName: resourceId.split('/').pop() ?? '' } }) },
  resourceType: 'Microsoft.Chaos/experiments',
  apiVersion: CHAOS_CMK_API,
  schema: chaosIdentitySchema,
  fields: [
    { name: 'resourceId', label: 'Experiment', kind: 'fixed', required: true },
    FIELD.identity('The new user-assigned identity of the experiment: it needs the key (get, wrap, unwrap) and blob write on the experiment’s storage account.'),
  ],
  resourceId: (p) => p.resourceId,
  async prepare(p: ChaosIdentityParams, arm: ArmGateway): Promise<ChaosIdentityParams> {
    const exp = await arm.getOrNull<ArmResource>(p.resourceId, CHAOS_CMK_API);
    const cds = (exp?.properties as { customerDataStorage?: { storageAccountResourceId?: string; blobContainerName?: string } } | undefined)?.customerDataStorage;
    return { ...p, storageAccountId: cds?.storageAccountResourceId, blobContainerName: cds?.blobContainerName };
  },
  // experimentUpdate: identity only; long-running (202 + Azure-AsyncOperation and Location), final-state-via location.
  plan: (p): ArmWritePlan => ({ method: 'PATCH', resourceId: p.resourceId, apiVersion: CHAOS_CMK_API, finalStateVia: 'location', body: { identity: { type: 'UserAssigned', userAssignedIdentities: { [p.identityId]: {} } } } }),
  scopes: (p, checks) => scopesOf({ role: 'resource', id: p.resourceId }, { role: 'identity', id: p.identityId }, vaultScope(checks)),
  subject: (p): CmkSubject => ({
    resourceId: p.resourceId,
    subscriptionId: experimentId.exec(p.resourceId)?.[1] ?? '',
    location: '',
    keyUrl: '',
    identityId: p.identityId,
    cmkIdentityType: 'UserAssigned',
    payload: chaosIdentityTarget.plan(p).body,
    storageAccountId: p.storageAccountId,
    blobContainerName: p.blobContainerName,
  }),
  reviewSubject: () => {
    throw new Error('use chaos-experiment for reviews');
  },
  checks: CHECKS,
  summary: (p) => [
    { title: 'Experiment', value: p.resourceId.split('/').pop() ?? '' },
    { title: 'New identity', value: p.identityId.split('/').pop() ?? '' },
    { title: 'Customer data', value: `${(p.storageAccountId ?? '?').split('/').pop()} / ${p.blobContainerName ?? '?'}` },
  ],
  irreversible: () => [],
  verify: (plan, actual): CheckResult => {
    const want = Object.keys((plan.body.identity as { userAssignedIdentities: Record<string, unknown> }).userAssignedIdentities)[0]!.toLowerCase();
    const got = Object.keys(actual.identity?.userAssignedIdentities ?? {}).map((k) => k.toLowerCase());
    const ok = got.includes(want) && actual.identity?.type === 'UserAssigned';
    const base = { id: 'chaos.verify', title: 'Experiment reports the new identity' };
    return ok
      ? { ...base, status: 'pass', finding: 'GET shows the experiment with the new user-assigned identity.', evidence: { identity: want.split('/').pop() ?? '' } }
      : { ...base, status: 'fail', finding: `The experiment reports identity ${actual.identity?.type ?? 'none'} ${got.join(', ')}.`, evidence: {}, remedy: 'Compare the experiment’s identity in the portal with the request.' };
  },
  verifyCheckId: 'chaos.verify',
  doneMessage: () => 'Identity changed and verified.',
  digestEvidence: (checks) => {
    const pick = (id: string) => checks.find((c) => c.id === id)?.evidence ?? {};
    return { principalId: pick('identity.exists').principalId ?? null };
  },
};
