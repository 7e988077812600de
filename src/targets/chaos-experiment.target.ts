// Azure Chaos Studio experiment with customer data in a CMK storage account (seed doc:
// chaos-studio-customer-managed-keys.md). Only 2023-10-27-preview carries customerDataStorage,
// the PUT is long-running, and CMK can only be set when the experiment is created.
import { z } from 'zod';
import type { ArmResource } from '../azure/port';
import { CMK_CHECKS } from '../checks/catalogue';
import {
  CHAOS_PREVIEW_API,
  chaosApiVersion,
  chaosCreateOnly,
  chaosIdentityMatch,
  storageBlobWrite,
  storageCmkEnabled,
  storageContainerName,
  storageExists,
  storagePublicAccess,
} from '../checks/catalogue/chaos.checks';
import type { CmkSubject } from '../checks/facts';
import type { Check } from '../checks/types';
import type { ArmWritePlan, CheckResult } from '../domain/types';
import { identityField, regionField, required, resourceGroupField, subscriptionField } from './fields';
import type { Target } from './types';


const action = z.object({ type: z.enum(['delay', 'discrete', 'continuous']), name: z.string().min(1).max(2048) }).passthrough();
const definitionSchema = z.object({
  steps: z.array(z.object({ name: z.string().min(1), branches: z.array(z.object({ name: z.string().min(1), actions: z.array(action).min(1) }).passthrough()).min(1) }).passthrough()).min(1),
  selectors: z.array(z.object({ type: z.enum(['List', 'Query']), id: z.string().min(1) }).passthrough()).min(1),
});
export type ExperimentDefinition = z.infer<typeof definitionSchema>;

/** Built-in templates: a definition from a few fields, so nobody has to paste JSON for the common case. */
export const TEMPLATES: Record<string, { title: string; build: (targetId: string) => ExperimentDefinition }> = {
  'vm-shutdown': {
    title: 'Shut down a virtual machine for 10 minutes',
    build: (target) => ({
      steps: [{ name: 'step1', branches: [{ name: 'branch1', actions: [{ type: 'continuous', name: 'urn:csci:microsoft:virtualMachine:shutdown/1.0', selectorId: 'selector1', duration: 'PT10M', parameters: [{ key: 'abruptShutdown', value: 'false' }] }] }] }],
      // A VM id, or the VM's Chaos target id (…/providers/Microsoft.Chaos/targets/Microsoft-VirtualMachine).
      selectors: [{ type: 'List', id: 'selector1', targets: [{ type: 'ChaosTarget', id: /\/providers\/Microsoft\.Chaos\/targets\//i.test(target) ? target : `${target}/providers/Microsoft.Chaos/targets/Microsoft-VirtualMachine` }] }],
    }),
  },
};

export const chaosSchema = z
  .object({
    subscriptionId: subscriptionField(),
    resourceGroup: resourceGroupField(),
    name: required('Experiment name').regex(/^[^<>%&:?#/\\\s]{1,63}$/, 'Experiment name must be 1-63 characters without spaces or < > % & : ? # / \\'),
    location: regionField(),
    identityId: identityField(),
    storageAccountId: required('Storage account').regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/[a-z0-9]{3,24}$/i, 'Storage account must be the resource id of a storage account'),
    blobContainerName: required('Blob container'),
    template: z.string().trim().optional(),
    targetResourceId: z.string().trim().optional(),
    definition: z.string().trim().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.definition) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v.definition);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['definition'], message: 'Definition must be JSON: {"steps": [...], "selectors": [...]}' });
        return;
      }
      const r = definitionSchema.safeParse(parsed);
      if (!r.success) ctx.addIssue({ code: 'custom', path: ['definition'], message: `Definition is not an experiment definition: ${r.error.issues[0]?.path.join('.')} ${r.error.issues[0]?.message}` });
    } else if (!v.template || !TEMPLATES[v.template]) {
      ctx.addIssue({ code: 'custom', path: ['template'], message: `Choose a template (${Object.keys(TEMPLATES).join(', ')}) or paste a definition` });
    } else if (!/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+(\/providers\/Microsoft\.Chaos\/targets\/Microsoft-VirtualMachine)?$/i.test(v.targetResourceId ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['targetResourceId'], message: 'Target must be the resource id of the virtual machine to shut down' });
    }
  });
export type ChaosParams = z.infer<typeof chaosSchema>;

export function definitionOf(p: ChaosParams): ExperimentDefinition {
  return p.definition ? definitionSchema.parse(JSON.parse(p.definition)) : TEMPLATES[p.template!]!.build(p.targetResourceId!);
}

const resourceId = (p: ChaosParams) => `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Chaos/experiments/${p.name}`;

const CHECKS: readonly Check[] = [
  ...CMK_CHECKS.filter((c) => c.id !== 'placement.same-region'),
  chaosApiVersion,
  chaosCreateOnly,
  chaosIdentityMatch,
  storageExists,
  storagePublicAccess,
  storageCmkEnabled,
  storageBlobWrite,
  storageContainerName,
] as readonly Check[];

const cds = z.object({ storageAccountResourceId: z.string().optional(), blobContainerName: z.string().optional() }).partial();

export const chaosTarget: Target<ChaosParams> = {
  type: 'chaos-experiment',
  displayName: 'Chaos Studio experiment',
  resourceType: 'Microsoft.Chaos/experiments',
  apiVersion: CHAOS_PREVIEW_API,
  schema: chaosSchema as unknown as z.ZodType<ChaosParams>,
  fields: [
    { name: 'subscriptionId', label: 'Subscription' },
    { name: 'resourceGroup', label: 'Resource group' },
    { name: 'name', label: 'Experiment name' },
    { name: 'location', label: 'Region' },
    { name: 'identityId', label: 'Identity' },
    { name: 'storageAccountId', label: 'Storage account' },
    { name: 'blobContainerName', label: 'Blob container' },
    { name: 'template', label: 'Template' },
    { name: 'targetResourceId', label: 'Target' },
    { name: 'definition', label: 'Definition' },
  ],
  resourceId,
  // The shape of CreateUpdateExperiment.json (2023-10-27-preview), with the user-assigned identity.
  plan: (p): ArmWritePlan => ({
    method: 'PUT',
    resourceId: resourceId(p),
    apiVersion: CHAOS_PREVIEW_API,
    body: {
      location: p.location,
      identity: { type: 'UserAssigned', userAssignedIdentities: { [p.identityId]: {} } },
      properties: { ...definitionOf(p), customerDataStorage: { storageAccountResourceId: p.storageAccountId, blobContainerName: p.blobContainerName } },
    },
  }),
  subject: (p): CmkSubject => ({
    targetType: 'chaos-experiment',
    mode: 'create',
    resourceId: resourceId(p),
    subscriptionId: p.subscriptionId,
    location: p.location,
    keyUrl: '',
    keyFromStorage: true,
    identityId: p.identityId,
    cmkIdentityType: 'UserAssigned',
    assignedIdentityIds: [p.identityId],
    resourceApiVersion: CHAOS_PREVIEW_API,
    writeApiVersion: CHAOS_PREVIEW_API,
    payloadHasCustomerDataStorage: true,
    writeAction: 'Microsoft.Chaos/experiments/write',
    storageBacked: true,
    storageAccountId: p.storageAccountId,
    blobContainerName: p.blobContainerName,
  }),
  reviewSubject: (r: ArmResource): CmkSubject => {
    const c = cds.safeParse((r.properties as { customerDataStorage?: unknown } | undefined)?.customerDataStorage ?? {});
    const umi = Object.keys(r.identity?.userAssignedIdentities ?? {})[0] ?? '';
    return {
      targetType: 'chaos-experiment',
      mode: 'review',
      resourceId: r.id,
      subscriptionId: r.id.split('/')[2] ?? '',
      location: r.location ?? '',
      keyUrl: '',
      keyFromStorage: true,
      identityId: umi,
      cmkIdentityType: r.identity?.type,
      resourceApiVersion: CHAOS_PREVIEW_API,
      writeApiVersion: CHAOS_PREVIEW_API,
      payloadHasCustomerDataStorage: Boolean(c.success && c.data.storageAccountResourceId),
      storageBacked: true,
      storageAccountId: c.success ? c.data.storageAccountResourceId : undefined,
      blobContainerName: c.success ? c.data.blobContainerName : undefined,
    };
  },
  checks: CHECKS,
  summary: (p) => {
    const d = p.definition || p.template ? definitionOf(p) : undefined;
    return [
      { title: 'Region', value: p.location },
      { title: 'Identity', value: p.identityId.split('/').pop() ?? '' },
      { title: 'Customer data', value: `${p.storageAccountId.split('/').pop()} / ${p.blobContainerName}` },
      { title: 'Faults', value: d ? d.steps.flatMap((s) => s.branches.flatMap((b) => b.actions.map((a) => a.name.replace(/^urn:csci:microsoft:/, '')))).join(', ') : '' },
    ];
  },
  irreversible: () => [
    'Customer data storage (CMK) can only be set when an experiment is created; to change it later you create a new experiment.',
    'The storage account and its key must stay available, or the experiment cannot store its data.',
  ],
  verify: (plan, actual): CheckResult => {
    const want = (plan.body.properties as { customerDataStorage: z.infer<typeof cds> }).customerDataStorage;
    const props = (actual.properties ?? {}) as { provisioningState?: string; customerDataStorage?: unknown };
    const got = cds.safeParse(props.customerDataStorage ?? {});
    const problems: string[] = [];
    if (props.provisioningState !== 'Succeeded') problems.push(`provisioningState is ${props.provisioningState ?? 'missing'}`);
    if (!got.success || !got.data.storageAccountResourceId) problems.push(`customerDataStorage is empty (read with ${CHAOS_PREVIEW_API})`);
    else {
      if (got.data.storageAccountResourceId.toLowerCase() !== (want.storageAccountResourceId ?? '').toLowerCase()) problems.push(`storage account is ${got.data.storageAccountResourceId}`);
      if (got.data.blobContainerName !== want.blobContainerName) problems.push(`container is ${got.data.blobContainerName}`);
    }
    const evidence = { provisioningState: props.provisioningState ?? null, storageAccountResourceId: got.success ? (got.data.storageAccountResourceId ?? null) : null, blobContainerName: got.success ? (got.data.blobContainerName ?? null) : null };
    const base = { id: 'chaos.verify', title: 'Experiment reports the approved customer data storage' };
    return problems.length
      ? { ...base, status: 'fail', finding: `Verification failed: ${problems.join('; ')}.`, evidence, remedy: `Read it back with api-version ${CHAOS_PREVIEW_API} in the portal's JSON view and compare with the request.` }
      : { ...base, status: 'pass', finding: `GET (${CHAOS_PREVIEW_API}) shows the approved storage account and container; provisioning Succeeded.`, evidence };
  },
  verifyCheckId: 'chaos.verify',
  doneMessage: () => 'Created with customer data storage and verified.',
  digestEvidence: (checks) => {
    const pick = (id: string) => checks.find((c) => c.id === id)?.evidence ?? {};
    return { principalId: pick('identity.exists').principalId ?? null, keyVersion: pick('key.enabled').keyVersion ?? null };
  },
};
