// Chaos Studio experiment CMK (seed doc: chaos-studio-customer-managed-keys.md) and the storage
// account that holds the experiment's data.
import { grants } from '../rbac';
import { defineCheck, fail, info, pass, warn, type Change } from '../types';

/**
 * Api-versions of Microsoft.Chaos/experiments whose published spec carries
 * properties.customerDataStorage (Azure/azure-rest-api-specs, specification/chaos/resource-manager/
 * Microsoft.Chaos/Chaos: the 2023-10-27-preview and 2024-03-22-preview swagger; the TypeSpec
 * experiment.models.tsp, `@removed(v2025_01_01) @added(v2026_05_01_preview)`; the
 * Experiments_CreateOrUpdate examples of 2024-11-01-preview, 2026-05-01-preview and 2026-11-01).
 * Not in the GA 2024-01-01 or 2025-01-01. Recorded in docs/architecture.md.
 */
export const CHAOS_CMK_API_VERSIONS = ['2023-10-27-preview', '2024-03-22-preview', '2024-11-01-preview', '2026-05-01-preview', '2026-11-01'] as const;
/** The newest of them, 2026-11-01 (GA), is the one the bot writes and reads with (the simulator serves it: docs/simulator.md). */
export const CHAOS_CMK_API = '2026-11-01';
const BLOB_WRITE = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write';
const CONTAINER_NAME = /^[a-z0-9]([a-z0-9]|(-(?!-))){1,61}[a-z0-9]$/;

const nameOf = (id: string | undefined) => (id ?? '').split('/').pop() ?? '';

/**
 * The write (and the read that verifies it) uses `apiVersion`, which must be one whose spec has
 * customerDataStorage, and the request must name the storage account for it.
 */
export function chaosApiVersion({ apiVersion }: { apiVersion: string }) {
  return defineCheck({
    id: 'chaos.api-version',
    title: 'The write uses an api-version that has customer data storage',
    needs: [],
    evaluate: (_f, { subject }) => {
      const carries = (CHAOS_CMK_API_VERSIONS as readonly string[]).includes(apiVersion);
      // The payload's customerDataStorage names the request's storage account (for a review: the experiment's).
      const hasCustomerDataStorage = Boolean(subject.storageAccountId);
      return carries && hasCustomerDataStorage
        ? pass(`Writes and verifies with ${apiVersion}, whose published spec has customerDataStorage (the GA 2024-01-01 and 2025-01-01 do not).`, { apiVersion })
        : fail(
            `The write would use ${apiVersion}${carries ? '' : ', whose spec has no customerDataStorage'}${hasCustomerDataStorage ? '' : ', without customerDataStorage'}.`,
            `Use an api-version with customerDataStorage (${CHAOS_CMK_API_VERSIONS.join(', ')}) and set properties.customerDataStorage.`,
            { apiVersion },
          );
    },
  });
}

/** CMK only at creation: a `create` needs a new name; a `review` passes an experiment that was created with CMK. */
export function chaosCreateOnly({ change }: { change: Change }) {
  return defineCheck({
    id: 'chaos.create-only',
    title: 'CMK is set when the experiment is created',
    needs: ['existing'],
    evaluate: ({ existing }, { subject }) => {
      const name = nameOf(subject.resourceId);
      if (!existing) return pass(`Experiment ${name} does not exist yet; CMK will be set at creation.`, { exists: false });
      const cds = (existing.properties as { customerDataStorage?: unknown } | undefined)?.customerDataStorage;
      // A review looks at an experiment as it is: one created with CMK is what this rule asks for.
      if (change === 'review' && cds) return pass(`Experiment ${name} was created with CMK (customerDataStorage is set).`, { exists: true, cmk: true });
      return fail(
        cds ? `Experiment ${name} already exists with CMK.` : `Experiment ${name} already exists without CMK; Chaos Studio sets CMK only when an experiment is created (PATCH can change only its identity).`,
        cds ? 'Choose a new name.' : `Create a CMK-enabled copy under a new name: \`new chaos-experiment --from ${subject.resourceId}\`.`,
        { exists: true, cmk: Boolean(cds) },
      );
    },
  });
}

export const chaosIdentityMatch = defineCheck({
  id: 'chaos.identity-match',
  title: 'The experiment uses the user-assigned identity that reads the key and writes the blobs',
  needs: ['storageAccount'],
  evaluate: ({ storageAccount }, { subject }) => {
    const note = 'The Chaos Studio doc’s own sample uses a SystemAssigned identity, but its text requires a user-assigned identity that matches the one with key and blob access; the bot always uses the user-assigned identity.';
    if ((subject.cmkIdentityType ?? 'UserAssigned') !== 'UserAssigned') return fail(`The experiment identity is ${subject.cmkIdentityType}. ${note}`, 'Pick a user-assigned identity.', { identityType: subject.cmkIdentityType ?? null });
    const enc = storageAccount?.properties?.encryption?.identity?.userAssignedIdentity ?? '';
    if (storageAccount && enc && enc.toLowerCase() !== subject.identityId.toLowerCase()) {
      // The doc: a different identity and "the Chaos Studio CMK experiment will fail".
      return fail(
        `The storage account encrypts with identity ${nameOf(enc)}, but the experiment would use ${nameOf(subject.identityId)}; Chaos Studio requires them to be the same user-assigned identity, or the CMK experiment will fail. ${note}`,
        `Use ${nameOf(enc)} for the experiment, or switch the storage account's encryption identity to ${nameOf(subject.identityId)} first (\`new storage-cmk ${subject.storageAccountId ?? ''}\`).`,
        { experimentIdentity: nameOf(subject.identityId), storageEncryptionIdentity: nameOf(enc) },
      );
    }
    return pass(`User-assigned identity ${nameOf(subject.identityId)}, the same one the storage account encrypts with. ${note}`, { experimentIdentity: nameOf(subject.identityId) });
  },
});

export const storageExists = defineCheck({
  id: 'storage.exists',
  title: 'The storage account for experiment data exists',
  needs: ['storageAccount'],
  evaluate: ({ storageAccount }, { subject }) =>
    storageAccount
      ? pass(`Storage account ${storageAccount.name}.`, { storageAccountId: storageAccount.id })
      : fail(`Storage account ${subject.storageAccountId} was not found in this subscription (or the bot cannot read it).`, 'Pick an existing storage account; it needs CMK and public network access.', {
          storageAccountId: subject.storageAccountId ?? null,
        }),
});

export const storagePublicAccess = defineCheck({
  id: 'storage.public-access',
  title: 'The storage account allows public access from all networks',
  needs: ['storageAccount'],
  evaluate: ({ storageAccount }) => {
    if (!storageAccount) return fail('Cannot check network access: the storage account was not found.', 'Fix storage.exists first.');
    const pna = storageAccount.properties?.publicNetworkAccess ?? 'Enabled';
    const action = storageAccount.properties?.networkAcls?.defaultAction ?? 'Allow';
    const evidence = { publicNetworkAccess: pna, defaultAction: action };
    return pna.toLowerCase() === 'enabled' && action.toLowerCase() === 'allow'
      ? pass('Public network access from all networks.', evidence)
      : fail(
          `Chaos Studio CMK needs the storage account to allow public access from all networks; ${storageAccount.name} has publicNetworkAccess ${pna} and default action ${action}.`,
          `az storage account update --name ${storageAccount.name} --public-network-access Enabled --default-action Allow`,
          evidence,
          { command: 'storage-network-access', values: { storageAccountId: storageAccount.id } },
        );
  },
});

export const storageCmkEnabled = defineCheck({
  id: 'storage.cmk-enabled',
  title: 'The storage account itself uses a customer-managed key',
  needs: ['storageAccount'],
  evaluate: ({ storageAccount }) => {
    if (!storageAccount) return fail('Cannot check encryption: the storage account was not found.', 'Fix storage.exists first.');
    const source = storageAccount.properties?.encryption?.keySource ?? 'Microsoft.Storage';
    return source.toLowerCase() === 'microsoft.keyvault'
      ? pass(`Encrypted with a customer-managed key (${source}); the key.* and vault.* checks above are about that key.`, { keySource: source })
      : fail(
          `Storage account ${storageAccount.name} uses Microsoft-managed keys (${source}); Chaos Studio requires its Encryption type to be a customer-managed key.`,
          `Switch it to CMK first: \`new storage-cmk ${storageAccount.id}\` (the bot checks and applies it with approval).`,
          { keySource: source },
          { command: 'storage-cmk', values: { storageAccountId: storageAccount.id } },
        );
  },
});

export const storageBlobWrite = defineCheck({
  id: 'storage.blob-write',
  title: 'The identity can write blobs to the container',
  needs: ['blobGrants', 'identity'],
  evaluate: ({ blobGrants, identity }, { subject }) => {
    if (!identity) return fail('Cannot check blob access: the identity was not found.', 'Fix identity.exists first.');
    const granting = blobGrants.find((g) => grants(g.permissions, BLOB_WRITE, 'data'));
    return granting
      ? pass(`Granted by role "${granting.roleName}" at ${granting.assignment.properties.scope ?? 'an inherited scope'}.`, { roleAssignment: granting.assignment.id })
      : fail(
          `Identity ${identity.name} cannot write blobs to ${nameOf(subject.storageAccountId)}/${subject.blobContainerName ?? ''}.`,
          `az role assignment create --assignee-object-id ${identity.properties.principalId} --assignee-principal-type ServicePrincipal --role "Storage Blob Data Contributor" --scope ${subject.storageAccountId}`,
          { principalId: identity.properties.principalId, rolesFound: blobGrants.map((g) => g.roleName).join(', ') || 'none' },
        );
  },
});

export const storageContainerName = defineCheck({
  id: 'storage.container-name',
  title: 'The blob container name is valid',
  needs: ['container'],
  evaluate: ({ container }, { subject }) => {
    const name = subject.blobContainerName ?? '';
    if (!CONTAINER_NAME.test(name)) {
      return fail(`"${name}" is not a valid container name: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.`, 'Choose a name such as chaosdata.', { blobContainerName: name });
    }
    // The doc: "the container to use or create" — Chaos Studio creates a missing one.
    return container
      ? pass(`Container ${name} exists.`, { blobContainerName: name, exists: true })
      : info(`Container ${name} does not exist yet in ${nameOf(subject.storageAccountId)}; Chaos Studio creates it.`, { blobContainerName: name, exists: false });
  },
});

/** `/subscriptions/{sub}/resourceGroups/{rg}/…` → the subscription and the group (the group may be absent). */
function placeOf(id: string): { subscription: string; resourceGroup?: string } {
  const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?/i.exec(id);
  return { subscription: m?.[1] ?? '', resourceGroup: m?.[2] };
}

/**
 * Where the experiment reaches, as facts for approvers and the policy: every resource a List
 * selector targets and every subscription a Query selector searches. Information, never a verdict;
 * a reach the bot cannot read is a warning, since nobody could judge it.
 */
export const chaosBlastRadius = defineCheck({
  id: 'chaos.blast-radius',
  title: 'Where the experiment reaches',
  needs: [],
  evaluate: (_f, { subject }) => {
    const name = nameOf(subject.resourceId);
    const reach = subject.reach ?? [];
    if (!reach.length) {
      return warn(`The selectors of experiment ${name} could not be read, so where it reaches is unknown.`, `Open the experiment in the portal (JSON view, api-version ${CHAOS_CMK_API}) and read its selectors before approving.`, {
        targets: 0,
      });
    }
    const targets = reach.filter((r) => r.role === 'selector target').map((r) => r.id);
    const queries = reach.filter((r) => r.role === 'selector query').map((r) => placeOf(r.id).subscription);
    const subscriptions = [...new Set(reach.map((r) => placeOf(r.id).subscription.toLowerCase()))];
    const groups = [
      ...new Set(
        targets
          .map((t) => placeOf(t))
          .filter((p) => p.resourceGroup)
          .map((p) => `${p.subscription}/${p.resourceGroup}`.toLowerCase()),
      ),
    ];
    const parts = [
      targets.length ? `${targets.length} resource${targets.length > 1 ? 's' : ''} (${targets.map(nameOf).join(', ')}) in ${groups.length} resource group${groups.length === 1 ? '' : 's'}` : '',
      queries.length ? `every resource a query finds in subscription${queries.length > 1 ? 's' : ''} ${queries.join(', ')}` : '',
    ].filter(Boolean);
    return info(`Experiment ${name} reaches ${parts.join(' and ')}, across ${subscriptions.length} subscription${subscriptions.length === 1 ? '' : 's'}.`, {
      targets: targets.join(', ') || null,
      querySubscriptions: queries.join(', ') || null,
      subscriptions: subscriptions.join(', '),
      resourceGroups: groups.join(', ') || null,
    });
  },
});
