// Azure Chaos Studio experiment with customer data in a CMK storage account (seed doc:
// chaos-studio-customer-managed-keys.md). customerDataStorage is in the 2023-10-27-preview spec the seed
// names and in newer ones up to 2026-11-01 (GA), which the bot uses (chaos.checks.ts lists the sources);
// the PUT is long-running, and CMK can only be set when the experiment is created.
import { z } from 'zod';
import type { ArmResource } from '../azure/port';
import { cmkChecks } from '../checks/catalogue';
import { CHAOS_CMK_API, chaosApiVersion, chaosBlastRadius, chaosCreateOnly, chaosIdentityMatch, storageBlobWrite, storageCmkEnabled, storageContainerName, storageExists, storagePublicAccess } from '../checks/catalogue/chaos.checks';
import { keyFromStorageAccount, type CmkSubject, type ResourceRead } from '../checks/facts';
import { reading, type Change, type Check } from '../checks/types';
import type { ArmWritePlan, ChangeScope, CheckResult } from '../domain/types';
import { ID_SEGMENT, MAX_RESOURCE_ID_LENGTH, resourceIdPattern, subscriptionOf } from '../domain/resource-id';
import { FIELD, identityField, nameField, regionField, required, resourceGroupField, resourceIdField, STORAGE_ACCOUNT_ID, subscriptionField } from './fields';
import type { Target } from './types';
import { scopesOf, vaultScope } from './scopes';

// The experiment definition exactly as Chaos Studio's REST spec describes it (2023-10-27-preview,
// types/experiments.json: step, branch, delay/discrete/continuous action, List/Query selector,
// Simple filter, keyValuePair — each with additionalProperties: false). A pasted field the spec
// does not know is refused: approvers must see everything that will be written, and nothing more
// can hide in a definition than the card can explain.
const DURATION = /^P(\d+Y)?(\d+M)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const keyValue = z.object({ key: z.string().min(1), value: z.string().min(1) }).strict();
const actionName = z.string().min(1).max(2048);
const action = z.discriminatedUnion('type', [
  z.object({ type: z.literal('delay'), name: actionName, duration: z.string().regex(DURATION, 'must be an ISO 8601 duration such as PT10M') }).strict(),
  z.object({ type: z.literal('discrete'), name: actionName, selectorId: z.string().min(1), parameters: z.array(keyValue) }).strict(),
  z.object({ type: z.literal('continuous'), name: actionName, selectorId: z.string().min(1), duration: z.string().regex(DURATION, 'must be an ISO 8601 duration such as PT10M'), parameters: z.array(keyValue) }).strict(),
]);
const filter = z
  .object({
    type: z.literal('Simple'),
    parameters: z
      .object({ zones: z.array(z.string()).optional() })
      .strict()
      .optional(),
  })
  .strict();
const selector = z.discriminatedUnion('type', [
  z.object({ type: z.literal('List'), id: z.string().min(1), filter: filter.optional(), targets: z.array(z.object({ type: z.literal('ChaosTarget'), id: z.string().min(1) }).strict()).min(1) }).strict(),
  z.object({ type: z.literal('Query'), id: z.string().min(1), filter: filter.optional(), queryString: z.string().min(1), subscriptionIds: z.array(z.string().min(1)).min(1) }).strict(),
]);
const definitionSchema = z
  .object({
    steps: z.array(z.object({ name: z.string().min(1), branches: z.array(z.object({ name: z.string().min(1), actions: z.array(action).min(1) }).strict()).min(1) }).strict()).min(1),
    selectors: z.array(selector).min(1),
  })
  .strict();
export type ExperimentDefinition = z.infer<typeof definitionSchema>;

/** The form's limit on a pasted definition (the card's Input.Text maxLength says the same). */
export const MAX_DEFINITION_CHARS = 12_000;

/** Deeper than any experiment definition; JSON deeper than this would overflow the stack when it is digested and stored. */
export const MAX_DEFINITION_DEPTH = 32;

/** U+0000 or half a surrogate pair (a JSON escape such as \u0000 or \ud800): text Postgres cannot store. */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what this looks for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What makes a parsed definition unusable before its shape is even looked at: nesting deeper than
 * `limit` (the digest and the store would overflow the stack), or text the store refuses. Walked
 * without recursion, so a hostile value cannot overflow the stack here either.
 */
function definitionProblem(value: unknown, limit: number): 'depth' | 'text' | undefined {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return 'text';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (d > limit) return 'depth';
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      if (UNSTORABLE.test(k)) return 'text';
      stack.push([child, d + 1]);
    }
  }
  return undefined;
}

const VM_TARGET_ID = resourceIdPattern('Microsoft\\.Compute', 'virtualMachines', ID_SEGMENT, String.raw`(\/providers\/Microsoft\.Chaos\/targets\/Microsoft-VirtualMachine)?`);

/** 1-63 characters of a resource id segment, and no colon. */
const EXPERIMENT_NAME = new RegExp(`^(?=[^:]{1,63}$)${ID_SEGMENT}$`);

/** A template by its own name only (never `constructor`, `__proto__`…, which every object has). */
export function templateOf(name: string | undefined) {
  return name !== undefined && Object.hasOwn(TEMPLATES, name) ? TEMPLATES[name] : undefined;
}

/** Built-in templates: a definition from a few fields, so nobody has to paste JSON for the common case. */
export const TEMPLATES: Record<string, { title: string; build: (targetId: string) => ExperimentDefinition }> = {
  'vm-shutdown': {
    title: 'Shut down a virtual machine for 10 minutes',
    build: (target) => ({
      steps: [
        {
          name: 'step1',
          branches: [{ name: 'branch1', actions: [{ type: 'continuous', name: 'urn:csci:microsoft:virtualMachine:shutdown/1.0', selectorId: 'selector1', duration: 'PT10M', parameters: [{ key: 'abruptShutdown', value: 'false' }] }] }],
        },
      ],
      // A VM id, or the VM's Chaos target id (…/providers/Microsoft.Chaos/targets/Microsoft-VirtualMachine).
      selectors: [{ type: 'List', id: 'selector1', targets: [{ type: 'ChaosTarget', id: /\/providers\/Microsoft\.Chaos\/targets\//i.test(target) ? target : `${target}/providers/Microsoft.Chaos/targets/Microsoft-VirtualMachine` }] }],
    }),
  },
};

const EXPERIMENT_NAME_FIELD = nameField('Experiment name', { pattern: EXPERIMENT_NAME, message: '1-63 characters without spaces, control characters or < > % & : ? # / \\ (and not only dots)', clientPattern: false }, 'e.g. vm-shutdown-cmk');

export const chaosSchema = z
  .object({
    subscriptionId: subscriptionField(),
    resourceGroup: resourceGroupField(),
    name: EXPERIMENT_NAME_FIELD.schema,
    location: regionField(),
    identityId: identityField(),
    storageAccountId: resourceIdField('Storage account', STORAGE_ACCOUNT_ID, 'Storage account must be the resource id of a storage account'),
    // Its naming rules are a check (storage.container-name); here only what would break the ARM path it is read by.
    blobContainerName: required('Blob container').regex(new RegExp(`^${ID_SEGMENT}$`), 'Blob container must be a container name such as chaosdata (no spaces, /, ?, #, % or \\)'),
    template: z.string().trim().optional(),
    targetResourceId: z.string().trim().optional(),
    // The card's limit, enforced here too: a request card shows the whole payload, and no more fits.
    definition: z
      .string()
      .trim()
      .max(MAX_DEFINITION_CHARS, `Definition is at most ${MAX_DEFINITION_CHARS.toLocaleString('en-US')} characters (a request card shows the whole payload); split the experiment`)
      .optional(),
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
      const problem = definitionProblem(parsed, MAX_DEFINITION_DEPTH);
      if (problem === 'depth') {
        ctx.addIssue({ code: 'custom', path: ['definition'], message: `Definition is nested more than ${MAX_DEFINITION_DEPTH} levels deep; an experiment definition is {"steps": [...], "selectors": [...]}` });
        return;
      }
      if (problem === 'text') {
        ctx.addIssue({ code: 'custom', path: ['definition'], message: 'Definition must not contain \\u0000 or unpaired surrogate escapes (\\ud800…\\udfff) in its text' });
        return;
      }
      const r = definitionSchema.safeParse(parsed);
      if (!r.success) {
        const i = r.error.issues[0];
        const unknown =
          i?.code === 'unrecognized_keys'
            ? ` — ${i.keys.map((k) => `"${k}"`).join(', ')} ${i.keys.length > 1 ? 'are' : 'is'} not part of Chaos Studio's experiment definition (its REST spec); remove ${i.keys.length > 1 ? 'them' : 'it'}`
            : ` ${i?.message ?? ''}`;
        ctx.addIssue({ code: 'custom', path: ['definition'], message: `Definition is not an experiment definition: ${i?.path.join('.') || '(top level)'}${unknown}` });
      }
    } else if (!templateOf(v.template)) {
      ctx.addIssue({ code: 'custom', path: ['template'], message: `Choose a template (${Object.keys(TEMPLATES).join(', ')}) or paste a definition` });
    } else if ((v.targetResourceId ?? '').length > MAX_RESOURCE_ID_LENGTH || !VM_TARGET_ID.test(v.targetResourceId ?? '')) {
      ctx.addIssue({ code: 'custom', path: ['targetResourceId'], message: 'Target must be the resource id of the virtual machine to shut down' });
    }
  })
  // With a pasted definition the template fields mean nothing; they are not kept (nor stored).
  .transform((v) => (v.definition ? { ...v, template: undefined, targetResourceId: undefined } : v));
export type ChaosParams = z.infer<typeof chaosSchema>;

export function definitionOf(p: ChaosParams): ExperimentDefinition {
  return p.definition ? definitionSchema.parse(JSON.parse(p.definition)) : templateOf(p.template)!.build(p.targetResourceId!);
}

/** Where the experiment reaches: each List target (as the resource it acts on) and each Query selector's subscriptions. */
export function selectorScopes(p: ChaosParams): ChangeScope[] {
  let d: ExperimentDefinition;
  try {
    d = definitionOf(p);
  } catch {
    return [];
  }
  return scopesOfSelectors(d.selectors);
}

/** The scopes of a definition's selectors (also used for an existing experiment read from ARM). */
export function scopesOfSelectors(selectors: ExperimentDefinition['selectors']): ChangeScope[] {
  return selectors.flatMap((s): ChangeScope[] =>
    s.type === 'List'
      ? s.targets.map((t) => ({ role: 'selector target', id: t.id.replace(/\/providers\/Microsoft\.Chaos\/targets\/[^/]+$/i, '') }))
      : s.subscriptionIds.map((sub) => ({ role: 'selector query', id: `/subscriptions/${sub}` })),
  );
}

const resourceId = (p: ChaosParams) => `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.Chaos/experiments/${p.name}`;

/** Experiments are read with the api-version that has customerDataStorage. */
const EXPERIMENT_READ: ResourceRead = { apiVersion: CHAOS_CMK_API };

/**
 * The shared CMK checks but placement (the storage account's vault may be in another region),
 * judging the key the storage account encrypts with; purge protection is required (the data is in
 * Azure Storage). Then the experiment's and its storage account's own.
 */
function chaosChecks(change: Change): Check[] {
  return [
    ...cmkChecks({
      targetType: 'chaos-experiment',
      change,
      key: keyFromStorageAccount(),
      resource: EXPERIMENT_READ,
      writeAction: change === 'review' ? null : 'Microsoft.Chaos/experiments/write',
      purgeProtectionRequired: true,
      sameRegion: false,
    }),
    ...reading({ key: keyFromStorageAccount(), resource: EXPERIMENT_READ }, [
      chaosApiVersion({ apiVersion: CHAOS_CMK_API }),
      chaosCreateOnly({ change }),
      chaosIdentityMatch,
      chaosBlastRadius,
      storageExists,
      storagePublicAccess,
      storageCmkEnabled,
      storageBlobWrite,
      storageContainerName,
    ]),
  ];
}

const CHECKS = chaosChecks('create');
const REVIEW_CHECKS = chaosChecks('review');

const cds = z.object({ storageAccountResourceId: z.string().optional(), blobContainerName: z.string().optional() }).partial();

export const chaosTarget: Target<ChaosParams> = {
  type: 'chaos-experiment',
  displayName: 'Chaos Studio experiment',
  entry: {
    command: 'chaos-experiment',
    help: 'request a Chaos Studio experiment whose data is kept in your CMK storage account (from a template or pasted JSON); `new chaos-experiment --from <experiment id>` makes a CMK copy of an existing one',
    startsFrom: {
      resourceType: 'Microsoft.Chaos/experiments',
      flag: '--from',
      usage: '`--from` needs the resource id of an existing experiment (/subscriptions/…/providers/Microsoft.Chaos/experiments/<name>): `new chaos-experiment --from <experiment id>` makes a CMK copy of it.',
    },
  },
  form: {
    title: 'Chaos experiment (CMK)',
    heading: 'New Chaos Studio experiment with customer data in your CMK storage account',
    intro: `Chaos Studio keeps experiment data in a storage account you own, encrypted with your key. This can only be set when the experiment is created (api-version ${CHAOS_CMK_API}). The storage account must use a customer-managed key and allow public access from all networks.`,
  },
  // CMK can only be set at creation: `--from` copies the experiment's steps and selectors into a new one.
  prefill: {
    read: true,
    values: (resourceId, r) => {
      const props = (r?.properties ?? {}) as { steps?: unknown; selectors?: unknown };
      if (!props.steps || !props.selectors) return { refusal: `${resourceId} has no steps and selectors to copy.` };
      return {
        values: {
          resourceGroup: resourceId.split('/')[4] ?? '',
          name: `${resourceId.split('/').pop()}-cmk`,
          location: r?.location ?? '',
          identityId: Object.keys(r?.identity?.userAssignedIdentities ?? {})[0] ?? '',
          template: '',
          definition: JSON.stringify({ steps: props.steps, selectors: props.selectors }, null, 2),
        },
        note: `Copying the steps and selectors of ${resourceId}`,
      };
    },
  },
  resourceType: 'Microsoft.Chaos/experiments',
  apiVersion: CHAOS_CMK_API,
  schema: chaosSchema,
  fields: [
    FIELD.subscription,
    FIELD.resourceGroup,
    EXPERIMENT_NAME_FIELD.field,
    FIELD.region(),
    FIELD.identity("The experiment's user-assigned identity: it needs the key (get, wrap, unwrap) and blob write on the storage account."),
    {
      name: 'storageAccountId',
      label: 'Storage account',
      hint: 'Where the experiment keeps its data. It must use a customer-managed key and allow public access from all networks.',
      kind: 'picker',
      source: 'storageAccounts',
      required: true,
    },
    { name: 'blobContainerName', label: 'Blob container', kind: 'text', required: true, default: 'chaosdata', placeholder: 'chaosdata' },
    {
      name: 'template',
      label: 'Template',
      hint: 'Or choose "paste a definition" and paste the JSON below.',
      kind: 'options',
      default: 'vm-shutdown',
      options: [...Object.entries(TEMPLATES).map(([value, t]) => ({ title: t.title, value })), { title: '(paste a definition below)', value: '' }],
    },
    { name: 'targetResourceId', label: 'Virtual machine (for the template)', kind: 'picker', source: 'virtualMachines' },
    { name: 'definition', label: 'Definition', hint: 'JSON: {"steps": […], "selectors": […]}, as Chaos Studio defines them. Leave empty to use the template.', kind: 'text', multiline: true, maxLength: MAX_DEFINITION_CHARS },
  ],
  resourceId,
  // The shape of CreateUpdateExperiment.json (2023-10-27-preview; unchanged in 2026-11-01's examples), with the user-assigned identity.
  plan: (p): ArmWritePlan => ({
    method: 'PUT',
    resourceId: resourceId(p),
    apiVersion: CHAOS_CMK_API,
    body: {
      location: p.location,
      identity: { type: 'UserAssigned', userAssignedIdentities: { [p.identityId]: {} } },
      properties: { ...definitionOf(p), customerDataStorage: { storageAccountResourceId: p.storageAccountId, blobContainerName: p.blobContainerName } },
    },
  }),
  scopes: (p, checks) => scopesOf({ role: 'resource', id: resourceId(p) }, selectorScopes(p), { role: 'identity', id: p.identityId }, { role: 'storage account', id: p.storageAccountId }, vaultScope(checks)),
  subject: (p): CmkSubject => ({
    resourceId: resourceId(p),
    subscriptionId: p.subscriptionId,
    location: p.location,
    keyUrl: '',
    identityId: p.identityId,
    cmkIdentityType: 'UserAssigned',
    assignedIdentityIds: [p.identityId],
    payload: chaosTarget.plan(p).body,
    storageAccountId: p.storageAccountId,
    blobContainerName: p.blobContainerName,
    reach: selectorScopes(p),
  }),
  reviewSubject: (r: ArmResource): CmkSubject => {
    const c = cds.safeParse((r.properties as { customerDataStorage?: unknown } | undefined)?.customerDataStorage ?? {});
    const umi = Object.keys(r.identity?.userAssignedIdentities ?? {})[0] ?? '';
    const selectors = z.array(selector).safeParse((r.properties as { selectors?: unknown } | undefined)?.selectors);
    return {
      resourceId: r.id,
      subscriptionId: subscriptionOf(r.id),
      location: r.location ?? '',
      keyUrl: '',
      identityId: umi,
      cmkIdentityType: r.identity?.type,
      storageAccountId: c.success ? c.data.storageAccountResourceId : undefined,
      blobContainerName: c.success ? c.data.blobContainerName : undefined,
      reach: selectors.success ? scopesOfSelectors(selectors.data) : undefined,
    };
  },
  checks: CHECKS,
  reviewChecks: () => REVIEW_CHECKS,
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
    if (!got.success || !got.data.storageAccountResourceId) problems.push(`customerDataStorage is empty (read with ${CHAOS_CMK_API})`);
    else {
      if (got.data.storageAccountResourceId.toLowerCase() !== (want.storageAccountResourceId ?? '').toLowerCase()) problems.push(`storage account is ${got.data.storageAccountResourceId}`);
      if (got.data.blobContainerName !== want.blobContainerName) problems.push(`container is ${got.data.blobContainerName}`);
    }
    const evidence = {
      provisioningState: props.provisioningState ?? null,
      storageAccountResourceId: got.success ? (got.data.storageAccountResourceId ?? null) : null,
      blobContainerName: got.success ? (got.data.blobContainerName ?? null) : null,
    };
    const base = { id: 'chaos.verify', title: 'Experiment reports the approved customer data storage' };
    return problems.length
      ? { ...base, status: 'fail', finding: `Verification failed: ${problems.join('; ')}.`, evidence, remedy: `Read it back with api-version ${CHAOS_CMK_API} in the portal's JSON view and compare with the request.` }
      : { ...base, status: 'pass', finding: `GET (${CHAOS_CMK_API}) shows the approved storage account and container; provisioning Succeeded.`, evidence };
  },
  verifyCheckId: 'chaos.verify',
  doneMessage: () => 'Created with customer data storage and verified.',
  digestEvidence: (checks) => {
    const pick = (id: string) => checks.find((c) => c.id === id)?.evidence ?? {};
    return { principalId: pick('identity.exists').principalId ?? null, keyVersion: pick('key.enabled').keyVersion ?? null };
  },
};
