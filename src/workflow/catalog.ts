// Picker contents for the request forms, read from ARM with the bot's own identity.
import type { ArmGateway } from '../azure/port';
import { API } from '../checks/facts';
import type { Choice, ChoiceSource } from '../targets/form';

export type { Choice } from '../targets/form';

export interface FormChoices {
  subscriptionId: string;
  subscriptions: Choice[];
  resourceGroups: Choice[];
  locations: Choice[];
  identities: Choice[];
  keys: Choice[];
  /** The versions of each key, newest first, by the key's versionless URL in lower case (a version picker depends on the key). */
  keyVersions: Record<string, Choice[]>;
  storageAccounts: Choice[];
  virtualMachines: Choice[];
  /** Key vaults, by resource id (the vault remediations start from one); absent in choices built before it existed. */
  vaults?: Choice[];
}

/** The choices a picker offers; for a dependent picker, those that belong to the value it depends on. */
export function choicesOf(choices: FormChoices, source: ChoiceSource, dependsOnValue?: string): Choice[] {
  if (source === 'keyVersions') return choices.keyVersions[(dependsOnValue ?? '').replace(/\/+$/, '').toLowerCase()] ?? [];
  return choices[source] ?? [];
}

type Sub = { subscriptionId: string; displayName?: string; state?: string };
type Named = { id: string; name: string; location?: string; displayName?: string };
type KeyItem = { id: string; name: string; properties?: { kty?: string; keySize?: number; keyUri?: string; keyUriWithVersion?: string; attributes?: { enabled?: boolean; created?: number } } };

/** Key Vault reports key URIs with an explicit :443; the identifiers services expect have none. */
export function stripDefaultPort(uri: string): string {
  return uri.replace(/^(https:\/\/[^/:]+):443\//i, '$1/');
}

/** The versionless key URL a form carries for a key. */
function keyUrlOf(vault: Named, key: KeyItem): string {
  return stripDefaultPort(key.properties?.keyUri ?? `https://${vault.name}.vault.azure.net/keys/${key.name}`).replace(/\/+$/, '');
}

export async function loadFormChoices(arm: ArmGateway, preferredSubscription?: string): Promise<FormChoices> {
  const subs = (await arm.list<Sub>('/subscriptions', '2022-12-01')).filter((s) => !s.state || s.state === 'Enabled');
  if (!subs.length) throw new Error('The bot cannot see any enabled subscription. Give its identity Reader on the subscriptions it should manage.');
  const sub = subs.find((s) => s.subscriptionId.toLowerCase() === preferredSubscription?.toLowerCase()) ?? subs[0]!;
  const base = `/subscriptions/${sub.subscriptionId}`;
  const [groups, locations, identities, vaults, storage, vms] = await Promise.all([
    arm.list<Named>(`${base}/resourcegroups`, API.resources),
    arm.list<Named>(`${base}/locations`, '2022-12-01'),
    arm.list<Named>(`${base}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`, API.managedIdentity),
    arm.list<Named>(`${base}/resources`, API.resources, { $filter: "resourceType eq 'Microsoft.KeyVault/vaults'" }),
    arm.list<Named>(`${base}/resources`, API.resources, { $filter: "resourceType eq 'Microsoft.Storage/storageAccounts'" }),
    arm.list<Named>(`${base}/resources`, API.resources, { $filter: "resourceType eq 'Microsoft.Compute/virtualMachines'" }),
  ]);
  const keysByVault = await Promise.all(vaults.map(async (v) => ({ vault: v, keys: await arm.list<KeyItem>(`${v.id}/keys`, API.keyVault) })));
  const keys = keysByVault.flatMap(({ vault, keys }) => keys.map((k) => ({ vault, key: k })));
  const versions = await Promise.all(keys.map(async ({ vault, key }) => ({ vault, key, versions: await arm.list<KeyItem>(`${key.id}/versions`, API.keyVault) })));
  const byName = (a: Choice, b: Choice) => a.title.localeCompare(b.title);
  return {
    subscriptionId: sub.subscriptionId,
    subscriptions: subs.map((s) => ({ title: `${s.displayName ?? s.subscriptionId} (${s.subscriptionId})`, value: s.subscriptionId })),
    resourceGroups: groups.map((g) => ({ title: `${g.name} (${g.location ?? '?'})`, value: g.name })).sort(byName),
    locations: locations.map((l) => ({ title: l.displayName ? `${l.displayName} (${l.name})` : l.name, value: l.name })),
    identities: identities.map((i) => ({ title: `${i.name} (${i.location ?? '?'})`, value: i.id })).sort(byName),
    keys: keys
      .map(({ vault, key }) => ({
        title: `${vault.name} / ${key.name}${key.properties?.kty ? ` (${key.properties.kty}${key.properties.keySize ? ` ${key.properties.keySize}` : ''})` : ''}`,
        value: keyUrlOf(vault, key),
      }))
      .sort(byName),
    storageAccounts: storage.map((a) => ({ title: `${a.name} (${a.location ?? '?'})`, value: a.id })).sort(byName),
    vaults: vaults.map((v) => ({ title: `${v.name} (${v.location ?? '?'})`, value: v.id })).sort(byName),
    virtualMachines: vms.map((v) => ({ title: `${v.name} (${v.id.split('/')[4] ?? '?'}, ${v.location ?? '?'})`, value: v.id })).sort(byName),
    keyVersions: Object.fromEntries(
      versions.map(({ vault, key, versions }) => [
        keyUrlOf(vault, key).toLowerCase(),
        versions
          .sort((a, b) => (b.properties?.attributes?.created ?? 0) - (a.properties?.attributes?.created ?? 0))
          .map((v) => ({
            title: `${v.name}${v.properties?.attributes?.created ? ` (${new Date(v.properties.attributes.created * 1000).toISOString().slice(0, 10)})` : ''}${v.properties?.attributes?.enabled === false ? ' — disabled' : ''}`,
            value: v.name,
          })),
      ]),
    ),
  };
}

/**
 * The pickers, remembered per subscription for a short while: a form is opened far more often
 * than the vaults, keys and identities change, and each load is some thirty ARM reads of the
 * subscription's read budget. The checks read everything again at submission, so a stale choice
 * is caught there. Concurrent loads of one subscription share one set of reads.
 */
export class FormCatalog {
  /** `loaded`: the reads have answered (the value is in memory, not on its way). */
  private readonly cache = new Map<string, { at: number; value: Promise<FormChoices>; loaded: boolean }>();

  constructor(
    private readonly arm: ArmGateway,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  choices(preferredSubscription?: string): Promise<FormChoices> {
    const hit = this.fresh(preferredSubscription);
    if (hit) return hit.value;
    const key = (preferredSubscription ?? '').toLowerCase();
    const value = loadFormChoices(this.arm, preferredSubscription);
    if (this.ttlMs > 0) {
      const entry = { at: this.now(), value, loaded: false };
      this.cache.set(key, entry);
      // A failed load is not remembered.
      value.then(
        () => (entry.loaded = true),
        () => {
          if (this.cache.get(key) === entry) this.cache.delete(key);
        },
      );
      if (this.cache.size > 200) this.cache.delete(this.cache.keys().next().value!);
    }
    return value;
  }

  /** Whether `choices(preferredSubscription)` would answer from memory now, without a read. */
  cached(preferredSubscription?: string): boolean {
    return !!this.fresh(preferredSubscription)?.loaded;
  }

  private fresh(preferredSubscription?: string) {
    const hit = this.cache.get((preferredSubscription ?? '').toLowerCase());
    return hit && this.now() - hit.at < this.ttlMs ? hit : undefined;
  }
}
