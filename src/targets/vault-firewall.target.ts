// Let trusted Azure services through a key vault's firewall (the remedy for vault.firewall). PATCH
// Vaults_Update (2024-11-01) with properties.networkAcls, shaped like the spec's updateVault.json.
// A PATCH replaces the vault's whole rule set, so prepare() reads it and the plan keeps the default
// action, IP rules and virtual network rules as they are; only bypass becomes AzureServices.
import { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import type { CmkSubject } from '../checks/facts';
import { defineCheck, fail, pass, reading } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { botMayWrite, KEY_VAULT_API, nameOf, resourceExists, vaultField, vaultProps } from './remediation';
import { subscriptionOf } from '../domain/resource-id';
import { scopesOf } from './scopes';
import type { Target } from './types';

const aclSchema = z.object({
  defaultAction: z.enum(['Allow', 'Deny']),
  bypass: z.string(),
  ipRules: z.array(z.object({ value: z.string() })),
  virtualNetworkRules: z.array(z.object({ id: z.string(), ignoreMissingVnetServiceEndpoint: z.boolean().optional() })),
});
const schema = z.object({
  vaultId: vaultField(),
  /** Read from the vault before planning: the rules the PATCH must keep. */
  currentAcls: aclSchema.optional(),
});
type Params = z.infer<typeof schema>;

const trusted = (bypass: string | undefined) => (bypass ?? 'AzureServices').split(',').some((b) => b.trim().toLowerCase() === 'azureservices');

function aclsOf(vault: ArmResource | null | undefined): z.infer<typeof aclSchema> {
  const a = vaultProps(vault).networkAcls ?? {};
  return {
    defaultAction: (a.defaultAction ?? 'Allow').toLowerCase() === 'deny' ? 'Deny' : 'Allow',
    bypass: a.bypass ?? 'AzureServices',
    ipRules: (a.ipRules ?? []).map((r) => ({ value: r.value })),
    virtualNetworkRules: (a.virtualNetworkRules ?? []).map((r) => ({ id: r.id, ...(r.ignoreMissingVnetServiceEndpoint === undefined ? {} : { ignoreMissingVnetServiceEndpoint: r.ignoreMissingVnetServiceEndpoint }) })),
  };
}

const bypassMissing = defineCheck({
  id: 'vault.firewall-bypass',
  title: 'Trusted Azure services are not allowed through yet',
  needs: ['existing'],
  evaluate: ({ existing }) => {
    if (!existing) return fail('Cannot inspect the vault: it was not found.', 'Fix vault.exists first.');
    const acls = aclsOf(existing);
    // The rules the approvers see kept: bound to the digest, so a firewall changed meanwhile voids the approvals.
    const evidence = { defaultAction: acls.defaultAction, bypass: acls.bypass, ipRules: acls.ipRules.map((r) => r.value).join(', '), virtualNetworkRules: acls.virtualNetworkRules.map((r) => r.id).join(', ') };
    return trusted(acls.bypass)
      ? fail(`Vault ${existing.name} already lets trusted Azure services through (bypass ${acls.bypass}): there is nothing to change.`, 'Nothing to do; cancel this request.', evidence)
      : pass(`Bypass is ${acls.bypass}; this change sets AzureServices and keeps default action ${acls.defaultAction}, ${acls.ipRules.length} IP rule(s) and ${acls.virtualNetworkRules.length} network rule(s).`, evidence);
  },
});

const CHECKS = reading({ resource: { apiVersion: KEY_VAULT_API } }, [resourceExists('vault.exists', 'key vault'), bypassMissing, botMayWrite('Microsoft.KeyVault/vaults/write')]);

export const vaultFirewallTarget: Target<Params> = {
  type: 'vault-firewall-bypass',
  displayName: 'Key vault firewall: trusted Azure services',
  cardTitle: 'Key vault firewall: trusted Azure services allowed',
  entry: {
    command: 'vault-firewall-bypass',
    help: 'let trusted Azure services through a key vault’s firewall',
    startsFrom: { resourceType: 'Microsoft.KeyVault/vaults', usage: '`new vault-firewall-bypass` takes the resource id of a key vault (or nothing, to pick one).' },
  },
  form: {
    title: 'Vault firewall bypass',
    heading: 'Let trusted Azure services through a key vault’s firewall',
    intro: 'Services that use your key (Storage, Fluid Relay, Chaos Studio) reach the vault as trusted Microsoft services. The default action, IP rules and network rules stay as they are.',
  },
  prefill: {
    read: true,
    values: (vaultId, vault) => (trusted(aclsOf(vault).bypass) ? { refusal: `Vault ${nameOf(vaultId)} already lets trusted Azure services through: there is nothing to change.` } : { values: { vaultId } }),
  },
  resourceType: 'Microsoft.KeyVault/vaults',
  apiVersion: KEY_VAULT_API,
  schema,
  fields: [{ name: 'vaultId', label: 'Key vault', kind: 'picker', source: 'vaults', required: true, hint: 'The vault whose firewall keeps out the service that uses your key.' }],
  resourceId: (p) => p.vaultId,
  async prepare(p: Params, arm: ArmGateway): Promise<Params> {
    return { ...p, currentAcls: aclsOf(await arm.getOrNull<ArmResource>(p.vaultId, KEY_VAULT_API)) };
  },
  plan: (p): ArmWritePlan => {
    const acls = p.currentAcls ?? aclsOf(null);
    return {
      method: 'PATCH',
      resourceId: p.vaultId,
      apiVersion: KEY_VAULT_API,
      body: { properties: { networkAcls: { bypass: 'AzureServices', defaultAction: acls.defaultAction, ipRules: acls.ipRules, virtualNetworkRules: acls.virtualNetworkRules } } },
    };
  },
  scopes: (p) => scopesOf({ role: 'key vault', id: p.vaultId }),
  subject: (p): CmkSubject => ({ resourceId: p.vaultId, subscriptionId: subscriptionOf(p.vaultId), location: '', keyUrl: '', identityId: '' }),
  reviewSubject: (r: ArmResource): CmkSubject => ({ resourceId: r.id, subscriptionId: subscriptionOf(r.id), location: r.location ?? '', keyUrl: '', identityId: '' }),
  checks: CHECKS,
  // A remediation changes one setting: `check <id>` of this type is not its to answer.
  reviews: false,
  summary: (p) => {
    const acls = p.currentAcls;
    return [
      { title: 'Key vault', value: nameOf(p.vaultId) },
      { title: 'Changes', value: `Firewall bypass: ${acls?.bypass ?? '(read at submission)'} → AzureServices (trusted Microsoft services)` },
      ...(acls ? [{ title: 'Kept as they are', value: `default action ${acls.defaultAction}; IP rules: ${acls.ipRules.map((r) => r.value).join(', ') || 'none'}; network rules: ${acls.virtualNetworkRules.length}` }] : []),
    ];
  },
  irreversible: () => [],
  verify: (plan, actual): CheckResult => {
    const want = (plan.body as { properties: { networkAcls: z.infer<typeof aclSchema> } }).properties.networkAcls;
    const got = aclsOf(actual);
    const problems = [
      !trusted(got.bypass) ? `bypass is ${got.bypass}` : null,
      got.defaultAction !== want.defaultAction ? `default action is ${got.defaultAction}` : null,
      JSON.stringify(got.ipRules.map((r) => r.value)) !== JSON.stringify(want.ipRules.map((r) => r.value)) ? 'the IP rules changed' : null,
      JSON.stringify(got.virtualNetworkRules.map((r) => r.id.toLowerCase())) !== JSON.stringify(want.virtualNetworkRules.map((r) => r.id.toLowerCase())) ? 'the network rules changed' : null,
    ].filter(Boolean);
    const base = { id: 'vault.firewall.verify', title: 'The vault lets trusted services through, its rules kept' };
    const evidence = { bypass: got.bypass, defaultAction: got.defaultAction, ipRules: got.ipRules.length, virtualNetworkRules: got.virtualNetworkRules.length };
    return problems.length
      ? { ...base, status: 'fail', finding: `Verification failed: ${problems.join('; ')}.`, evidence, remedy: 'Open the vault’s Networking blade and compare with the request.' }
      : { ...base, status: 'pass', finding: `GET shows bypass AzureServices, default action ${got.defaultAction} and the same IP and network rules.`, evidence };
  },
  verifyCheckId: 'vault.firewall.verify',
  doneMessage: () => 'Trusted Azure services are allowed through the vault firewall, its rules kept, and verified.',
  digestEvidence: (checks) => ({ firewall: checks.find((c) => c.id === 'vault.firewall-bypass')?.evidence ?? null }),
};
