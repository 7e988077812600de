// Open a storage account to public networks the way Chaos Studio's customer data storage needs
// (the remedy for storage.public-access: publicNetworkAccess Enabled and networkAcls.defaultAction
// Allow). PATCH StorageAccounts_Update (2025-01-01), shaped like the spec's StorageAccountUpdate.json.
// It WIDENS access — said in the summary and by a warning on the card — but can be narrowed again,
// so it is not irreversible. networkAcls is replaced whole by a PATCH: prepare() reads the account
// and the plan keeps its bypass, IP, network and resource access rules.
import { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import { type CmkSubject, STORAGE_API } from '../checks/facts';
import { defineCheck, fail, pass, reading, warn } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { resourceIdField, STORAGE_ACCOUNT_ID } from './fields';
import { botMayWrite, nameOf, resourceExists } from './remediation';
import { subscriptionOf } from '../domain/resource-id';
import { scopesOf } from './scopes';
import type { Target } from './types';

const rules = z.array(z.record(z.string(), z.unknown()));
const current = z.object({ publicNetworkAccess: z.string(), defaultAction: z.string(), bypass: z.string(), ipRules: rules, virtualNetworkRules: rules, resourceAccessRules: rules });
const schema = z.object({
  storageAccountId: resourceIdField('Storage account', STORAGE_ACCOUNT_ID, 'Storage account must be the resource id of a storage account'),
  /** Read from the account before planning: what the PATCH keeps, and what the card says changes. */
  current: current.optional(),
});
type Params = z.infer<typeof schema>;
type Current = z.infer<typeof current>;

type StorageNet = { publicNetworkAccess?: string; networkAcls?: { defaultAction?: string; bypass?: string; ipRules?: unknown[]; virtualNetworkRules?: unknown[]; resourceAccessRules?: unknown[] } };
function currentOf(account: ArmResource | null | undefined): Current {
  const p = (account?.properties ?? {}) as StorageNet;
  const a = p.networkAcls ?? {};
  const list = (v: unknown[] | undefined) => (v ?? []) as Array<Record<string, unknown>>;
  return {
    publicNetworkAccess: p.publicNetworkAccess ?? 'Enabled',
    defaultAction: a.defaultAction ?? 'Allow',
    bypass: a.bypass ?? 'AzureServices',
    ipRules: list(a.ipRules),
    virtualNetworkRules: list(a.virtualNetworkRules),
    resourceAccessRules: list(a.resourceAccessRules),
  };
}
/** What storage.public-access (chaos.checks.ts) requires. */
const open = (c: Current) => c.publicNetworkAccess.toLowerCase() === 'enabled' && c.defaultAction.toLowerCase() === 'allow';

const WIDENS =
  'This WIDENS network access: the account’s endpoints will accept connections from all networks, the internet included (requests still need authorization). Narrow it again with `az storage account update --default-action Deny` when Chaos Studio no longer needs it.';

const notOpenYet = defineCheck({
  id: 'storage.network-closed',
  title: 'The account is not yet open to all networks',
  needs: ['existing'],
  evaluate: ({ existing }) => {
    if (!existing) return fail('Cannot inspect the account: it was not found.', 'Fix storage.exists first.');
    const c = currentOf(existing);
    const evidence = { publicNetworkAccess: c.publicNetworkAccess, defaultAction: c.defaultAction, bypass: c.bypass, ipRules: c.ipRules.length, virtualNetworkRules: c.virtualNetworkRules.length };
    return open(c)
      ? fail(`${existing.name} already allows public access from all networks: there is nothing to change.`, 'Nothing to do; cancel this request.', evidence)
      : pass(`${existing.name} has publicNetworkAccess ${c.publicNetworkAccess} and default action ${c.defaultAction}; Chaos Studio needs Enabled and Allow.`, evidence);
  },
});

/** Not a blocker: the warning approvers must read before they widen access. */
const widensAccess = defineCheck({
  id: 'storage.widens-access',
  title: 'This change widens network access',
  needs: ['existing'],
  evaluate: ({ existing }) => (existing && open(currentOf(existing)) ? pass('Nothing would widen.') : warn(WIDENS, 'Approve only if Chaos Studio needs this account for experiment data.', { widens: true })),
});

const CHECKS = reading({ resource: { apiVersion: STORAGE_API } }, [resourceExists('storage.exists', 'storage account'), notOpenYet, widensAccess, botMayWrite('Microsoft.Storage/storageAccounts/write')]);

export const storageNetworkAccessTarget: Target<Params> = {
  type: 'storage-network-access',
  displayName: 'Storage account network access for Chaos Studio (widens access)',
  cardTitle: 'Storage account: open to all networks for Chaos Studio — WIDENS access',
  entry: {
    command: 'storage-network-access',
    help: 'open a storage account to all networks for Chaos Studio (widens access)',
    startsFrom: { resourceType: 'Microsoft.Storage/storageAccounts', usage: '`new storage-network-access` takes the resource id of a storage account (or nothing, to pick one).' },
  },
  form: {
    title: 'Storage network access',
    heading: 'Open a storage account to all networks for Chaos Studio',
    intro: 'Chaos Studio writes experiment data to a storage account with a customer-managed key only when the account allows public access from all networks. This WIDENS access; its other network rules are kept.',
  },
  prefill: {
    read: true,
    values: (id, account) => (open(currentOf(account)) ? { refusal: `${nameOf(id)} already allows public access from all networks: there is nothing to change.` } : { values: { storageAccountId: id } }),
  },
  resourceType: 'Microsoft.Storage/storageAccounts',
  apiVersion: STORAGE_API,
  schema,
  fields: [{ name: 'storageAccountId', label: 'Storage account', kind: 'picker', source: 'storageAccounts', required: true, hint: 'The account Chaos Studio keeps experiment data in.' }],
  resourceId: (p) => p.storageAccountId,
  async prepare(p: Params, arm: ArmGateway): Promise<Params> {
    return { ...p, current: currentOf(await arm.getOrNull<ArmResource>(p.storageAccountId, STORAGE_API)) };
  },
  plan: (p): ArmWritePlan => {
    const c = p.current ?? currentOf(null);
    return {
      method: 'PATCH',
      resourceId: p.storageAccountId,
      apiVersion: STORAGE_API,
      body: {
        properties: {
          publicNetworkAccess: 'Enabled',
          networkAcls: { bypass: c.bypass, virtualNetworkRules: c.virtualNetworkRules, ipRules: c.ipRules, resourceAccessRules: c.resourceAccessRules, defaultAction: 'Allow' },
        },
      },
    };
  },
  scopes: (p) => scopesOf({ role: 'storage account', id: p.storageAccountId }),
  subject: (p): CmkSubject => ({ resourceId: p.storageAccountId, subscriptionId: subscriptionOf(p.storageAccountId), location: '', keyUrl: '', identityId: '', storageAccountId: p.storageAccountId }),
  reviewSubject: (r: ArmResource): CmkSubject => ({ resourceId: r.id, subscriptionId: subscriptionOf(r.id), location: r.location ?? '', keyUrl: '', identityId: '', storageAccountId: r.id }),
  checks: CHECKS,
  // A remediation changes one setting: `check <id>` of this type is not its to answer.
  reviews: false,
  summary: (p) => [
    { title: 'Storage account', value: nameOf(p.storageAccountId) },
    { title: '⚠️ WIDENS access', value: `public network access ${p.current?.publicNetworkAccess ?? '?'} → Enabled, default action ${p.current?.defaultAction ?? '?'} → Allow (all networks)` },
  ],
  irreversible: () => [],
  verify: (_plan, actual): CheckResult => {
    const c = currentOf(actual);
    const base = { id: 'storage.network-access.verify', title: 'The account allows public access from all networks' };
    const evidence = { publicNetworkAccess: c.publicNetworkAccess, defaultAction: c.defaultAction };
    return open(c)
      ? { ...base, status: 'pass', finding: 'GET shows publicNetworkAccess Enabled and default action Allow.', evidence }
      : { ...base, status: 'fail', finding: `Verification failed: publicNetworkAccess ${c.publicNetworkAccess}, default action ${c.defaultAction}.`, evidence, remedy: 'Open the account’s Networking blade and compare with the request.' };
  },
  verifyCheckId: 'storage.network-access.verify',
  doneMessage: () => 'Open to all networks (access widened) and verified.',
  digestEvidence: (checks) => ({ network: checks.find((c) => c.id === 'storage.network-closed')?.evidence ?? null }),
};
