// Rotating a key everywhere it is used (issue 16): one request over every Fluid Relay server and
// storage account whose customer-managed key is this key, each moved to the chosen version by the
// target that `rotate`s its type (its own plan, checks and verification). Chaos experiments keep
// their data in a storage account: rotating that account's key is what rotates theirs.
import { z } from 'zod';
import { parseKeyUrl } from '../checks/key-url';
import { azureScope } from '../domain/resource-id';
import { FIELD, keyUrlField, keyVersionField } from './fields';
import type { FleetCandidate, FleetTarget } from './types';

/** The resource types whose own customer-managed key this rotates (a Chaos experiment's is its storage account's). */
const ROTATED_TYPES = ['Microsoft.FluidRelay/fluidRelayServers', 'Microsoft.Storage/storageAccounts'];

/** The most resources one rotation request takes in: every one is listed on its card. */
export const MAX_FLEET_MEMBERS = 250;

const rotateKeySchema = z
  .object({
    keyUrl: keyUrlField(),
    keyVersion: keyVersionField(),
    /** Only these resources (one resource id a line): *Retry the failed ones* names them. Empty: every resource that uses the key. */
    resources: z.string().trim().max(64_000, 'Only these resources is too long').optional().default(''),
    /** Only the resources under this subscription or resource group (`rotate-key … --in <scope>`): a key used by more than one request takes is rotated in parts. Empty: everywhere. */
    scope: z
      .string()
      .trim()
      .max(1024, 'Only in is too long')
      .refine((v) => !v || azureScope(v) !== undefined, 'Only in is a subscription (/subscriptions/<id>) or a resource group (/subscriptions/<id>/resourceGroups/<name>)')
      .transform((v) => (v ? azureScope(v)! : ''))
      .optional()
      .default(''),
  })
  .superRefine((p, ctx) => {
    const ref = parseKeyUrl(p.keyUrl);
    if (!ref.ok) ctx.addIssue({ code: 'custom', path: ['keyUrl'], message: `Key is not a key identifier: ${ref.reason}` });
    else if (ref.ref.version && p.keyVersion !== 'latest' && ref.ref.version.toLowerCase() !== p.keyVersion.toLowerCase())
      ctx.addIssue({ code: 'custom', path: ['keyVersion'], message: `Key names version ${ref.ref.version} and Key version says ${p.keyVersion}: keep one of them` });
  });
export type RotateKeyParams = z.infer<typeof rotateKeySchema>;

/** The key without a version (`https://<vault>.vault.azure.net/keys/<name>`), lower-case host. */
function versionlessKey(url: string): string {
  const ref = parseKeyUrl(url);
  return ref.ok ? ref.ref.versionless : url.replace(/\/+$/, '');
}

/** The version every member moves to: a 32-hex version, or `latest` (versionless: the service follows the newest). */
function targetVersion(p: Pick<RotateKeyParams, 'keyUrl' | 'keyVersion'>): string {
  const ref = parseKeyUrl(p.keyUrl);
  return p.keyVersion !== 'latest' ? p.keyVersion.toLowerCase() : ref.ok && ref.ref.version ? ref.ref.version.toLowerCase() : 'latest';
}

function versionOf(url: string | undefined): string {
  const ref = url ? parseKeyUrl(url) : undefined;
  return ref?.ok ? (ref.ref.version?.toLowerCase() ?? 'latest') : '';
}

const only = (p: RotateKeyParams) =>
  new Set(
    p.resources
      .split(/[\s,]+/)
      .map((r) => r.trim().toLowerCase())
      .filter(Boolean),
  );

export const rotateKeyTarget: FleetTarget<RotateKeyParams> = {
  kind: 'fleet',
  type: 'rotate-key',
  displayName: 'Key rotation',
  cardTitle: 'Rotate a key everywhere it is used',
  maxMembers: MAX_FLEET_MEMBERS,
  // The fleet searches only here (workflow/fleet.ts assessFleet).
  within: (p) => p.scope || undefined,
  entry: { command: 'rotate-key', help: 'move every Fluid Relay server and storage account that uses a key to one of its versions, in one request (`rotate-key <key url> [--version <v> | --latest] [--in <scope>]`)' },
  form: {
    title: 'Rotate a key',
    heading: 'Rotate a key everywhere it is used',
    intro:
      'The bot finds every Fluid Relay server and storage account whose customer-managed key is this key (in the subscriptions it can read), and moves each to the version you choose: one request, one set of approvals, one write per resource, each verified. "latest" makes them follow the key as it rotates.',
    submitLabel: 'Find the resources and check',
  },
  schema: rotateKeySchema,
  fields: [
    FIELD.key,
    FIELD.keyVersion,
    { name: 'scope', label: 'Only in', kind: 'fixed', hint: 'The subscription or resource group `rotate-key … --in` named; empty for every subscription the bot can read.' },
    { name: 'resources', label: 'Only these resources', kind: 'fixed', hint: 'The resources of an earlier rotation that failed; empty for every resource that uses the key.' },
  ],
  resourceId: (p) => versionlessKey(p.keyUrl),
  memberTypes: ROTATED_TYPES,
  selects: (p, c: FleetCandidate) => {
    if (!c.keyUrl || versionlessKey(c.keyUrl).toLowerCase() !== versionlessKey(p.keyUrl).toLowerCase()) return false;
    const wanted = only(p);
    return !wanted.size || wanted.has(c.id.toLowerCase());
  },
  memberValues: (p, c, prefilled) => {
    const to = targetVersion(p);
    const now = versionOf(c.keyUrl);
    // A resource that follows the newest version rotates by itself: pinning it would be a change of its own (`rotate <id>`).
    if (now === 'latest') return { skip: 'follows the newest version by itself' };
    if (now === to) return { skip: `is on version ${to} already` };
    return { values: { ...prefilled, ...(c.identityId && !prefilled.identityId ? { identityId: c.identityId } : {}), keyUrl: versionlessKey(p.keyUrl), keyVersion: to } };
  },
  summary: (p) => [
    { title: 'Key', value: versionlessKey(p.keyUrl) },
    { title: 'Moves to', value: targetVersion(p) === 'latest' ? 'latest (versionless: follows the key as it rotates)' : `version ${targetVersion(p)}` },
    ...(p.scope ? [{ title: 'Only in', value: p.scope }] : []),
    ...(p.resources ? [{ title: 'Only', value: `${only(p).size} resource${only(p).size === 1 ? '' : 's'} named (a retry)` }] : []),
  ],
  irreversible: () => [],
  doneMessage: (p, n) => `${n} resource${n === 1 ? '' : 's'} moved to ${targetVersion(p) === 'latest' ? 'the newest version (versionless)' : `version ${targetVersion(p)}`} and verified.`,
  retry: (p, ids) => ({ keyUrl: p.keyUrl, keyVersion: p.keyVersion, scope: p.scope, resources: ids.join('\n') }),
  digestEvidence: () => ({}),
};
