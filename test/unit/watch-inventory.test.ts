// The inventory's reading of Resource Graph rows and ARM documents, scopes, Event Grid dependents,
// and the Resource Graph query split into requests of 1,000 subscriptions.
import type { ArmGateway } from '../../src/azure/port';
import { dependentsOf, inScope, INVENTORY_QUERY, isCmkDependent, toCmkResource, type CmkResource } from '../../src/watch';
import { queryInventory } from '../../src/watch/inventory';

const SUB = '0b1f6471-1bf0-4dda-aec3-111111111111';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-app/providers`;
const UAI = `/subscriptions/${SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app`;

const fluid = (name: string, keyUrl: string) => ({
  id: `${RG}/Microsoft.FluidRelay/fluidRelayServers/${name}`,
  name,
  type: 'microsoft.fluidrelay/fluidrelayservers',
  location: 'eastus',
  identity: { type: 'UserAssigned', userAssignedIdentities: { [UAI]: {} } },
  properties: { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: keyUrl, keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: UAI } } } },
});
const storage = (name: string, keySource = 'Microsoft.Keyvault') => ({
  id: `${RG}/Microsoft.Storage/storageAccounts/${name}`,
  name,
  type: 'microsoft.storage/storageaccounts',
  location: 'eastus',
  properties: { encryption: { keySource, keyvaultproperties: { keyvaulturi: 'https://kv-prod.vault.azure.net:443/', keyname: 'cmk-st', keyversion: '' }, identity: { userAssignedIdentity: UAI } } },
});
const chaos = (name: string, account: string) => ({
  id: `${RG}/Microsoft.Chaos/experiments/${name}`,
  name,
  type: 'Microsoft.Chaos/experiments',
  location: 'eastus',
  identity: { type: 'UserAssigned', userAssignedIdentities: { [UAI]: {} } },
  properties: { customerDataStorage: { storageAccountResourceId: account, blobContainerName: 'data' } },
});

it('reads a Resource Graph row (lower-case type) into a CMK resource: Fluid Relay key and identity, storage key from its vault URI', () => {
  expect(toCmkResource(fluid('fr-1', 'https://kv-prod.vault.azure.net/keys/cmk-fr/0123456789abcdef0123456789abcdef'))).toMatchObject({
    type: 'Microsoft.FluidRelay/fluidRelayServers',
    name: 'fr-1',
    subscriptionId: SUB,
    resourceGroup: 'rg-app',
    keyUrl: 'https://kv-prod.vault.azure.net/keys/cmk-fr/0123456789abcdef0123456789abcdef',
    identityId: UAI,
  });
  expect(toCmkResource(storage('st1'))).toMatchObject({ type: 'Microsoft.Storage/storageAccounts', keyUrl: 'https://kv-prod.vault.azure.net/keys/cmk-st', identityId: UAI, storageAccountId: storage('st1').id });
  const exp = toCmkResource(chaos('exp-1', storage('st1').id));
  expect(exp).toMatchObject({ storageAccountId: storage('st1').id, identityId: UAI });
  expect(exp?.keyUrl).toBeUndefined(); // resolved from the account (resolveChaosKeys)
});

it('keeps exactly what the query’s where-clause keeps', () => {
  expect(isCmkDependent(storage('st1', 'microsoft.keyvault'))).toBe(true);
  expect(isCmkDependent(storage('st2', 'Microsoft.Storage'))).toBe(false);
  expect(toCmkResource(storage('st2', 'Microsoft.Storage'))).toBeUndefined();
  expect(toCmkResource({ ...fluid('fr-2', ''), properties: { encryption: {} } })).toBeUndefined();
  expect(toCmkResource({ ...fluid('vm', 'https://kv-prod.vault.azure.net/keys/k'), type: 'Microsoft.Compute/virtualMachines' })).toBeUndefined();
  expect(INVENTORY_QUERY).toMatch(/keySource =~ 'Microsoft.Keyvault'/);
});

it('scopes: all, a subscription (id or path), a resource group — and not a group whose name only starts the same', () => {
  const r = toCmkResource(fluid('fr-1', 'https://kv-prod.vault.azure.net/keys/cmk-fr'))!;
  expect(inScope(r, 'all')).toBe(true);
  expect(inScope(r, SUB)).toBe(true);
  expect(inScope(r, `/subscriptions/${SUB.toUpperCase()}/`)).toBe(true);
  expect(inScope(r, `/subscriptions/${SUB}/resourceGroups/rg-app`)).toBe(true);
  expect(inScope(r, `/subscriptions/${SUB}/resourceGroups/rg-a`)).toBe(false);
  expect(inScope(r, '0b1f6471-1bf0-4dda-aec3-222222222222')).toBe(false);
});

it('an Event Grid event about a key reaches the resources on that key, any version; a vault event all of the vault’s', () => {
  const rs = [
    toCmkResource(fluid('fr-pinned', 'https://kv-prod.vault.azure.net/keys/cmk-fr/0123456789abcdef0123456789abcdef'))!,
    toCmkResource(fluid('fr-latest', 'https://KV-PROD.vault.azure.net/keys/CMK-FR'))!,
    toCmkResource(fluid('fr-other', 'https://kv-prod.vault.azure.net/keys/cmk-other'))!,
    toCmkResource(storage('st1'))!,
    { ...toCmkResource(chaos('exp-1', storage('st1').id))!, keyUrl: 'https://kv-prod.vault.azure.net/keys/cmk-st' } as CmkResource,
    toCmkResource(fluid('fr-elsewhere', 'https://kv-dev.vault.azure.net/keys/cmk-fr'))!,
  ];
  expect(dependentsOf(rs, { vaultName: 'kv-prod', objectName: 'cmk-fr' }).map((r) => r.name)).toEqual(['fr-pinned', 'fr-latest']);
  expect(dependentsOf(rs, { vaultName: 'kv-prod', objectName: 'cmk-st' }).map((r) => r.name)).toEqual(['st1', 'exp-1']);
  expect(dependentsOf(rs, { vaultName: 'kv-prod' })).toHaveLength(5);
});

it('asks Resource Graph for at most 1,000 subscriptions at a time, and keeps one entry per resource', async () => {
  const calls: number[] = [];
  const arm = {
    resourceGraph: (_q: string, subs: string[]) => {
      calls.push(subs.length);
      return Promise.resolve(['s-0', 's-1000'].includes(subs[0]!) ? [fluid('fr-1', 'https://kv-prod.vault.azure.net/keys/cmk-fr')] : []);
    },
  } as unknown as ArmGateway;
  const found = await queryInventory(
    arm,
    Array.from({ length: 2500 }, (_, i) => `s-${i}`),
  );
  expect(calls).toEqual([1000, 1000, 500]);
  expect(found?.map((r) => r.name)).toEqual(['fr-1']);
});
