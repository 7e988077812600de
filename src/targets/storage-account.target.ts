// Switch an existing storage account to a customer-managed key (the remedy for Chaos Studio's
// storage.cmk-enabled). PATCH StorageAccounts_Update (2025-01-01), synchronous, shaped like
// StorageAccountUpdateUserAssignedEncryptionIdentityWithCMK.json.
import { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import { botCanWrite, providerRegistered } from '../checks/catalogue/bot.checks';
import { storageCmkEnabled, storageExists } from '../checks/catalogue/chaos.checks';
import { identityAssignedToResource, identityExists, identityGrantAge, identityKeyPermissions, identitySameTenant, identityUserAssigned } from '../checks/catalogue/identity.checks';
import { keyEnabled, keyNotExpired, keyOps, keyType, keyUrlFormat, keyVaultFound, keyVersionPolicy } from '../checks/catalogue/key.checks';
import { vaultFirewall, vaultPurgeProtection, vaultRotationPolicy, vaultSoftDelete } from '../checks/catalogue/vault.checks';
import { type CmkSubject, type FactReads, keyFromStorageAccount, keyFromUrl, STORAGE_API } from '../checks/facts';
import { parseKeyUrl } from '../checks/key-url';
import { defineCheck, fail, pass, reading, type Change, type Check } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { effectiveKeyUrl } from './fluid-relay.target';
import { FIELD, identityField, keyUrlField, keyVersionField, resourceIdField, STORAGE_ACCOUNT_ID } from './fields';
import type { Target } from './types';
import { scopesOf, vaultScope } from './scopes';

const storageIdPattern = STORAGE_ACCOUNT_ID;

export const storageSchema = z.object({
  storageAccountId: resourceIdField('Storage account', storageIdPattern, 'Storage account must be the resource id of a storage account'),
  identityId: identityField(),
  keyUrl: keyUrlField(),
  keyVersion: keyVersionField(),
  /** Read from the account before planning: a system-assigned identity must be kept. */
  currentIdentityType: z.string().optional(),
});
export type StorageParams = z.infer<typeof storageSchema>;

const subscriptionOf = (id: string) => storageIdPattern.exec(id)?.[1] ?? '';
const encryptionIdentityOf = (r: ArmResource) => (r.properties as { encryption?: { identity?: { userAssignedIdentity?: string | null } } } | undefined)?.encryption?.identity?.userAssignedIdentity ?? '';
const hasCmk = (r: ArmResource) => ((r.properties as { encryption?: { keySource?: string } } | undefined)?.encryption?.keySource ?? '').toLowerCase() === 'microsoft.keyvault';

const storageIdentity = defineCheck({
  id: 'storage.identity',
  title: 'The account carries the encryption identity',
  needs: ['storageAccount'],
  evaluate: ({ storageAccount }, { subject }) => {
    if (!storageAccount) return fail('Cannot inspect the account: it was not found.', 'Fix storage.exists first.');
    const current = Object.keys(storageAccount.identity?.userAssignedIdentities ?? {});
    const other = current.find((i) => i.toLowerCase() !== subject.identityId.toLowerCase());
    if (other) {
      return fail(
        `${storageAccount.name} already has user-assigned identity ${other.split('/').pop()}, and a storage account may carry only one; this change would replace it.`,
        `Use ${other.split('/').pop()} as the encryption identity instead (grant it key access), or remove it from the account first if nothing uses it.`,
        { currentIdentity: other.split('/').pop() ?? '' },
      );
    }
    return pass(current.length ? 'The account already carries the identity.' : 'The identity is added to the account in the same PATCH.', { identity: subject.identityId.split('/').pop() ?? '' });
  },
});

/** storage.key-access: the catalogue's name for identity.key-permissions on the storage account's identity. */
const storageKeyAccess: Check = { ...identityKeyPermissions, id: 'storage.key-access', title: 'The encryption identity can get, wrap and unwrap with the key' } as Check;

/**
 * The shared CMK checks but placement (a storage account may use a vault in another region) and
 * identity.key-permissions (storage.key-access says the same of the encryption identity), and the
 * account's own. Purge protection is required: the data is in Azure Storage.
 */
function storageChecks(change: Change, reads: FactReads): Check[] {
  return reading(reads, [
    keyUrlFormat,
    keyVaultFound,
    keyType,
    keyEnabled,
    keyNotExpired,
    keyOps,
    keyVersionPolicy({ change }),
    vaultSoftDelete,
    vaultPurgeProtection({ required: true }),
    vaultFirewall,
    vaultRotationPolicy,
    identityExists,
    identityUserAssigned({ targetType: 'storage-cmk' }),
    identityAssignedToResource({ change }),
    identityGrantAge,
    identitySameTenant,
    ...(change === 'review' ? [] : [botCanWrite({ action: 'Microsoft.Storage/storageAccounts/write' })]),
    providerRegistered,
    storageExists,
    storageIdentity,
    storageKeyAccess,
  ]);
}

// The account is read with the storage api-version (ARM has no storageAccounts at 2021-04-01).
const ACCOUNT_READ = { apiVersion: STORAGE_API };
const CHECKS = storageChecks('update', { key: keyFromUrl(), resource: ACCOUNT_READ });
// A review judges the key the account encrypts with.
const REVIEW_CHECKS = storageChecks('review', { key: keyFromStorageAccount(), resource: ACCOUNT_READ });

const kvp = z.object({ keyname: z.string().optional(), keyversion: z.string().nullish(), keyvaulturi: z.string().optional() }).partial();

export const storageTarget: Target<StorageParams> = {
  type: 'storage-cmk',
  displayName: 'Storage account',
  entry: {
    command: 'storage-cmk',
    help: 'switch an existing storage account to a customer-managed key (`new storage-cmk <storage account id>` starts with that account)',
    startsFrom: { resourceType: 'Microsoft.Storage/storageAccounts', usage: '`new storage-cmk` takes the resource id of a storage account (or nothing, to pick one).' },
    // Rotating a storage account's key is the same change: the account's key settings, set anew.
    rotates: 'Microsoft.Storage/storageAccounts',
  },
  form: {
    title: 'Storage account CMK',
    heading: 'Switch a storage account to a customer-managed key',
    intro: 'Azure Storage needs the vault to have soft delete and purge protection, and a user-assigned identity with get, wrap and unwrap on the key. A storage account can carry one user-assigned identity.',
  },
  prefill: { read: false, values: (resourceId) => ({ values: { storageAccountId: resourceId } }) },
  resourceType: 'Microsoft.Storage/storageAccounts',
  apiVersion: STORAGE_API,
  schema: storageSchema,
  fields: [{ name: 'storageAccountId', label: 'Storage account', kind: 'picker', source: 'storageAccounts', required: true }, FIELD.identity(), FIELD.key, FIELD.keyVersion],
  resourceId: (p) => p.storageAccountId,
  async prepare(p: StorageParams, arm: ArmGateway): Promise<StorageParams> {
    const account = await arm.getOrNull<ArmResource>(p.storageAccountId, STORAGE_API);
    return { ...p, currentIdentityType: account?.identity?.type ?? 'None' };
  },
  plan: (p): ArmWritePlan => {
    // The key the card and the checks show (a URL pasted with a version stays pinned to it).
    const ref = parseKeyUrl(effectiveKeyUrl(p));
    const keyvaulturi = ref.ok ? `https://${ref.ref.host}` : p.keyUrl.replace(/\/keys\/.*$/, '');
    const keepSystem = /systemassigned/i.test(p.currentIdentityType ?? '');
    return {
      method: 'PATCH',
      resourceId: p.storageAccountId,
      apiVersion: STORAGE_API,
      body: {
        // Storage spells the combined type without a space; a system-assigned identity is kept.
        identity: { type: keepSystem ? 'SystemAssigned,UserAssigned' : 'UserAssigned', userAssignedIdentities: { [p.identityId]: {} } },
        properties: {
          encryption: {
            keySource: 'Microsoft.Keyvault',
            keyvaultproperties: { keyvaulturi, keyname: ref.ok ? ref.ref.keyName : '', keyversion: ref.ok ? (ref.ref.version ?? '') : '' },
            identity: { userAssignedIdentity: p.identityId },
          },
        },
      },
    };
  },
  scopes: (p, checks) => scopesOf({ role: 'resource', id: p.storageAccountId }, { role: 'identity', id: p.identityId }, vaultScope(checks)),
  subject: (p): CmkSubject => ({
    resourceId: p.storageAccountId,
    subscriptionId: subscriptionOf(p.storageAccountId),
    location: '',
    keyUrl: effectiveKeyUrl(p),
    identityId: p.identityId,
    cmkIdentityType: 'UserAssigned',
    assignedIdentityIds: [p.identityId],
    payload: storageTarget.plan(p).body,
    storageAccountId: p.storageAccountId,
  }),
  reviewSubject: (r: ArmResource): CmkSubject => ({
    resourceId: r.id,
    subscriptionId: subscriptionOf(r.id),
    location: r.location ?? '',
    keyUrl: '',
    identityId: encryptionIdentityOf(r),
    cmkIdentityType: encryptionIdentityOf(r) ? 'UserAssigned' : 'SystemAssigned',
    assignedIdentityIds: Object.keys(r.identity?.userAssignedIdentities ?? {}),
    storageAccountId: r.id,
  }),
  checks: CHECKS,
  // An account without CMK has no key to review: the one finding is that, with the way to switch.
  reviewChecks: (r) => (hasCmk(r) ? [storageCmkEnabled as Check, ...REVIEW_CHECKS] : [storageCmkEnabled as Check]),
  summary: (p) => [
    { title: 'Storage account', value: p.storageAccountId.split('/').pop() ?? '' },
    { title: 'Key', value: effectiveKeyUrl(p) },
    { title: 'Identity', value: p.identityId.split('/').pop() ?? '' },
  ],
  irreversible: () => [],
  verify: (plan, actual): CheckResult => {
    const want = kvp.parse((plan.body.properties as { encryption: { keyvaultproperties: unknown } }).encryption.keyvaultproperties);
    const enc = ((actual.properties ?? {}) as { encryption?: { keySource?: string; keyvaultproperties?: unknown } }).encryption ?? {};
    const got = kvp.safeParse(enc.keyvaultproperties ?? {});
    const problems: string[] = [];
    if ((enc.keySource ?? '').toLowerCase() !== 'microsoft.keyvault') problems.push(`keySource is ${enc.keySource ?? 'missing'}`);
    if (!got.success || (got.data.keyname ?? '') !== want.keyname) problems.push(`key name is ${got.success ? got.data.keyname : '?'}`);
    if (got.success && (got.data.keyvaulturi ?? '').replace(/\/+$/, '').toLowerCase() !== (want.keyvaulturi ?? '').toLowerCase()) problems.push(`vault is ${got.data.keyvaulturi}`);
    if (got.success && (got.data.keyversion ?? '') !== (want.keyversion ?? '')) problems.push(`key version is ${got.data.keyversion || 'latest'}`);
    const evidence = { keySource: enc.keySource ?? null, keyname: got.success ? (got.data.keyname ?? null) : null, keyversion: got.success ? (got.data.keyversion ?? null) : null };
    const base = { id: 'storage.verify', title: 'Account reports the approved key' };
    return problems.length
      ? { ...base, status: 'fail', finding: `Verification failed: ${problems.join('; ')}.`, evidence, remedy: 'Open the account’s Encryption blade and compare with the request.' }
      : { ...base, status: 'pass', finding: 'GET shows keySource Microsoft.Keyvault with the approved key.', evidence };
  },
  verifyCheckId: 'storage.verify',
  doneMessage: () => 'Switched to the customer-managed key and verified.',
  digestEvidence: (checks) => {
    const pick = (id: string) => checks.find((c) => c.id === id)?.evidence ?? {};
    return { principalId: pick('identity.exists').principalId ?? null, keyVersion: pick('key.enabled').keyVersion ?? null };
  },
};
