// Valid card submissions per target, and per-field values that break them (shared by the unit
// properties and the HTTP ones).
import fc from 'fast-check';
import {
  brokenResourceId,
  experimentName,
  guid,
  hex32,
  insertAt,
  keyUrlOf,
  keyUrlParts,
  mutated,
  region,
  resourceGroupName,
  serverName,
  validExperimentId,
  validFluidRelayId,
  validIdentityId,
  validStorageId,
  validVmId,
  vaultName,
} from './support';

export type Form = Record<string, unknown>;

// --- valid forms, per target ---------------------------------------------------------------------

export const keyVersion = fc.option(fc.oneof(fc.constant('latest'), fc.constant(''), hex32()), { nil: undefined });
export const keyUrl = keyUrlParts().map(keyUrlOf);
const containerName = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), minLength: 3, maxLength: 63 });
/** What Teams adds to every Action.Execute data object; the schemas must ignore it. */
export const cardExtras = (targetType: string) => fc.record({ verb: fc.constant('form.submit'), targetType: fc.constant(targetType) }, { requiredKeys: [] });

/** Experiment definitions as Chaos Studio's REST spec (2023-10-27-preview) shapes them: each action and selector kind with exactly its fields. */
const kv = fc.array(fc.record({ key: fc.string({ minLength: 1, maxLength: 12 }), value: fc.string({ minLength: 1, maxLength: 12 }) }), { maxLength: 2 });
const action = fc.oneof(
  fc.record({ type: fc.constant('delay'), name: fc.string({ minLength: 1, maxLength: 80 }), duration: fc.constant('PT5M') }),
  fc.record({ type: fc.constant('discrete'), name: fc.string({ minLength: 1, maxLength: 80 }), selectorId: fc.string({ minLength: 1, maxLength: 20 }), parameters: kv }),
  fc.record({ type: fc.constant('continuous'), name: fc.string({ minLength: 1, maxLength: 80 }), selectorId: fc.string({ minLength: 1, maxLength: 20 }), duration: fc.constant('PT5M'), parameters: kv }),
);
const selector = fc.oneof(
  fc.record({ type: fc.constant('List'), id: fc.string({ minLength: 1, maxLength: 20 }), targets: fc.array(fc.record({ type: fc.constant('ChaosTarget'), id: fc.string({ minLength: 1, maxLength: 40 }) }), { minLength: 1, maxLength: 2 }) }),
  fc.record({ type: fc.constant('Query'), id: fc.string({ minLength: 1, maxLength: 20 }), queryString: fc.string({ minLength: 1, maxLength: 40 }), subscriptionIds: fc.array(guid(), { minLength: 1, maxLength: 2 }) }),
);
export const definition = fc
  .record({
    steps: fc.array(
      fc.record({
        name: fc.string({ minLength: 1, maxLength: 20 }),
        branches: fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), actions: fc.array(action, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    selectors: fc.array(selector, { minLength: 1, maxLength: 2 }),
  })
  .map((d) => JSON.stringify(d));

/** A key vault's resource id (its name starts with a letter, as Key Vault requires). */
function validVaultId() {
  return fc
    .tuple(
      guid(),
      resourceGroupName(),
      vaultName().filter((n) => /^[a-z]/.test(n)),
    )
    .map(([s, r, n]) => `/subscriptions/${s}/resourceGroups/${r}/providers/Microsoft.KeyVault/vaults/${n}`);
}

export const VALID: Record<string, fc.Arbitrary<Form>> = {
  'fluid-relay': fc.record(
    { subscriptionId: guid(), resourceGroup: resourceGroupName(), name: serverName(), location: region(), identityId: validIdentityId(), keyUrl, keyVersion, storagesku: fc.option(fc.constantFrom('basic', 'standard'), { nil: undefined }) },
    { requiredKeys: ['subscriptionId', 'resourceGroup', 'name', 'location', 'identityId', 'keyUrl'] },
  ),
  'fluid-relay-rotate': fc.record({ resourceId: validFluidRelayId(), identityId: validIdentityId(), keyUrl, keyVersion, disableCmk: fc.constantFrom('true', 'false') }, { requiredKeys: ['resourceId', 'identityId', 'keyUrl'] }),
  'storage-cmk': fc.record({ storageAccountId: validStorageId(), identityId: validIdentityId(), keyUrl, keyVersion }, { requiredKeys: ['storageAccountId', 'identityId', 'keyUrl'] }),
  'chaos-experiment': fc
    .tuple(
      fc.record({ subscriptionId: guid(), resourceGroup: resourceGroupName(), name: experimentName(), location: region(), identityId: validIdentityId(), storageAccountId: validStorageId(), blobContainerName: containerName }),
      fc.oneof(
        fc.record({
          template: fc.constant('vm-shutdown'),
          targetResourceId: fc.oneof(
            validVmId(),
            validVmId().map((id) => `${id}/providers/Microsoft.Chaos/targets/Microsoft-VirtualMachine`),
          ),
        }),
        fc.record({ definition }),
      ),
    )
    .map(([a, b]) => ({ ...a, ...b })),
  'chaos-identity': fc.record({ resourceId: validExperimentId(), identityId: validIdentityId() }),
  'grant-key-access': fc.record(
    { identityId: validIdentityId(), keyUrl, scopeLevel: fc.constantFrom('key', 'vault'), roleId: fc.constantFrom('e147488a-f6f5-4113-8e2d-b22465e65bf6', '12338af0-0e69-4776-bea7-57ae8d297424') },
    { requiredKeys: ['identityId', 'keyUrl'] },
  ),
  'vault-access-policy': fc.record({ identityId: validIdentityId(), keyUrl }),
  'vault-purge-protection': fc.record({ vaultId: validVaultId() }),
  'vault-firewall-bypass': fc.record({ vaultId: validVaultId() }),
  'storage-network-access': fc.record({ storageAccountId: validStorageId() }),
};

const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
export const invalid = (valid: fc.Arbitrary<string>, ok: (s: string) => boolean) =>
  fc.oneof(
    valid.chain(mutated).filter((s) => !ok(s.trim())),
    notString,
  );
export const brokenId = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    valid.chain(brokenResourceId),
    valid.map((id) => id.replace(/\/([^/]+)$/, '/a b')),
    valid.map((id) => id.replace('Microsoft.', 'Мicrosoft.')),
    notString,
  );

/** For each field: values that are invalid by the field's own rule (the oracle is the documented rule). */
export const BREAK: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  common: {
    subscriptionId: invalid(guid(), (s) => GUID_RE.test(s)),
    resourceGroup: invalid(resourceGroupName(), (s) => /^[-\w.()]{1,90}$/.test(s) && !s.endsWith('.')),
    location: invalid(region(), (s) => /^[a-zA-Z0-9 -]{2,40}$/.test(s)),
    identityId: brokenId(validIdentityId()),
    keyUrl: fc.oneof(
      keyUrl.chain(mutated).filter((s) => !s.trim().startsWith('https://')),
      // One piece of text: nothing a key identifier cannot hold (nor Postgres store) inside it.
      fc.tuple(keyUrl, fc.constantFrom(' ', '\t', '\n', '\u0000', '\u0007', '\u007f', '\u0085', '\ud800', '\udc00'), fc.double({ min: 0.3, max: 0.9, noNaN: true })).map(([u, c, f]) => insertAt(u, c, f)),
      keyUrl.map((u) => `${u}/${'k'.repeat(2100)}`),
      notString,
    ),
    keyVersion: fc.oneof(
      hex32()
        .chain(mutated)
        .filter((s) => !['', 'latest'].includes(s.trim()) && !/^[a-fA-F0-9]{32}$/.test(s.trim())),
      notString.filter((v) => v !== null),
    ),
  },
  'fluid-relay': {
    name: invalid(serverName(), (s) => /^[a-zA-Z0-9][a-zA-Z0-9-]{1,48}[a-zA-Z0-9]$/.test(s)),
    storagesku: invalid(fc.constantFrom('basic', 'standard'), (s) => ['basic', 'standard'].includes(s)),
  },
  'fluid-relay-rotate': { resourceId: brokenId(validFluidRelayId()) },
  'storage-cmk': { storageAccountId: brokenId(validStorageId()) },
  'chaos-identity': { resourceId: brokenId(validExperimentId()) },
  'grant-key-access': {
    scopeLevel: invalid(fc.constantFrom('key', 'vault'), (s) => ['', 'key', 'vault'].includes(s.toLowerCase())),
    roleId: invalid(fc.constantFrom('e147488a-f6f5-4113-8e2d-b22465e65bf6', '12338af0-0e69-4776-bea7-57ae8d297424'), (s) => ['', 'e147488a-f6f5-4113-8e2d-b22465e65bf6', '12338af0-0e69-4776-bea7-57ae8d297424'].includes(s.toLowerCase())),
  },
  'vault-purge-protection': { vaultId: brokenId(validVaultId()) },
  'vault-firewall-bypass': { vaultId: brokenId(validVaultId()) },
  'storage-network-access': { storageAccountId: brokenId(validStorageId()) },
  'chaos-experiment': {
    // eslint-disable-next-line no-control-regex -- the rule under test names control characters
    name: invalid(experimentName(), (s) => /^[^<>%&:?#/\\\s*\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ud800-\udfff]{1,63}$/.test(s) && !/^\.+$/.test(s)),
    storageAccountId: brokenId(validStorageId()),
    blobContainerName: fc.oneof(fc.constantFrom('', ' ', '\t\n'), notString),
  },
};
