// The watchdog's inventory: every resource that depends on a customer-managed key, in the watched
// subscriptions. One Azure Resource Graph query (all pages) across them; when Resource Graph is
// refused, per-subscription resource lists and a GET of each — slower, but it needs only Reader.
import { z } from 'zod';
import { isArmError, type ArmGateway, type ArmResource } from '../azure/port';
import { API, STORAGE_API, storageKeyUrl, type StorageFact } from '../checks/facts';
import { CHAOS_CMK_API } from '../checks/catalogue/chaos.checks';
import { parseKeyUrl } from '../checks/key-url';
import { FLUID_RELAY_API_VERSION } from '../targets/fluid-relay.target';

/**
 * The query the bot sends to Resource Graph, verbatim (the simulator answers exactly this subset
 * of KQL; a test pins the text). The types are lower-case because Resource Graph stores them so.
 */
export const INVENTORY_QUERY = `resources
| where type in~ ('microsoft.fluidrelay/fluidrelayservers', 'microsoft.chaos/experiments', 'microsoft.storage/storageaccounts')
| where isnotempty(properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl) or isnotempty(properties.customerDataStorage.storageAccountResourceId) or properties.encryption.keySource =~ 'Microsoft.Keyvault'
| project id, name, type, location, subscriptionId, resourceGroup, identity, properties`;

/** The resource types watched, and the api-version each is read at (the one its target reads). */
export const WATCHED_TYPES: ReadonlyArray<{ type: string; apiVersion: string }> = [
  { type: 'Microsoft.FluidRelay/fluidRelayServers', apiVersion: FLUID_RELAY_API_VERSION },
  { type: 'Microsoft.Chaos/experiments', apiVersion: CHAOS_CMK_API },
  { type: 'Microsoft.Storage/storageAccounts', apiVersion: STORAGE_API },
];

/** A resource that depends on a customer-managed key. */
export interface CmkResource {
  id: string;
  /** As WATCHED_TYPES spells it. */
  type: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  /** The key it depends on: Fluid Relay's keyEncryptionKeyUrl; a storage account's vault URI + key (+ version); a Chaos experiment's storage account's key. */
  keyUrl?: string;
  /** The user-assigned identity that reaches the key. */
  identityId?: string;
  /** Chaos: the storage account that holds the experiment's data. */
  storageAccountId?: string;
  /** The resource as the inventory read it (id, name, type, location, identity, properties): the health scan judges it without reading it again. */
  resource: ArmResource;
}

/** Optional until the Resource Graph method is on the port everywhere (helper sim15 adds it to ArmGateway). */
type ResourceGraphQuery = <T = Record<string, unknown>>(query: string, subscriptions: string[], opts?: { pageSize?: number }) => Promise<T[]>;
function resourceGraphOf(arm: ArmGateway): ResourceGraphQuery | undefined {
  const rg = (arm as ArmGateway & { resourceGraph?: ResourceGraphQuery }).resourceGraph;
  return typeof rg === 'function' ? rg.bind(arm) : undefined;
}

const canonicalType = (type: string) => WATCHED_TYPES.find((t) => t.type.toLowerCase() === type.toLowerCase())?.type;
export const apiVersionOf = (type: string): string => WATCHED_TYPES.find((t) => t.type.toLowerCase() === type.toLowerCase())?.apiVersion ?? API.resources;

const doc = z
  .object({
    id: z.string(),
    name: z.string().optional(),
    type: z.string(),
    location: z.string().optional(),
    identity: z.record(z.string(), z.unknown()).nullish(),
    properties: z.record(z.string(), z.unknown()).nullish(),
  })
  .passthrough();

const cmkProps = z
  .object({
    encryption: z
      .object({
        keySource: z.string().nullish(),
        customerManagedKeyEncryption: z
          .object({
            keyEncryptionKeyUrl: z.string().nullish(),
            keyEncryptionKeyIdentity: z.object({ userAssignedIdentityResourceId: z.string().nullish() }).partial().nullish(),
          })
          .partial()
          .nullish(),
        keyvaultproperties: z.object({ keyname: z.string().nullish(), keyversion: z.string().nullish(), keyvaulturi: z.string().nullish() }).partial().nullish(),
        identity: z.object({ userAssignedIdentity: z.string().nullish() }).partial().nullish(),
      })
      .partial()
      .nullish(),
    customerDataStorage: z.object({ storageAccountResourceId: z.string().nullish() }).partial().nullish(),
  })
  .partial();

/** The query's where-clause, for the documents the list fallback reads. */
export function isCmkDependent(resource: Pick<ArmResource, 'properties'>): boolean {
  const p = cmkProps.safeParse(resource.properties ?? {});
  if (!p.success) return false;
  return !!p.data.encryption?.customerManagedKeyEncryption?.keyEncryptionKeyUrl || !!p.data.customerDataStorage?.storageAccountResourceId || p.data.encryption?.keySource?.toLowerCase() === 'microsoft.keyvault';
}

/** The properties the health checks read: Fluid Relay's and storage's `encryption`, Chaos' `customerDataStorage`. */
const KEPT_PROPERTIES = new Set(['encryption', 'customerDataStorage']);

/** The inventory's view of one resource document (Resource Graph row or ARM GET); undefined when it is not a watched CMK resource. */
export function toCmkResource(raw: unknown): CmkResource | undefined {
  const d = doc.safeParse(raw);
  if (!d.success) return undefined;
  const type = canonicalType(d.data.type);
  if (!type || !isCmkDependent({ properties: d.data.properties ?? undefined })) return undefined;
  const segs = d.data.id.split('/');
  const props = cmkProps.safeParse(d.data.properties ?? {});
  const p = props.success ? props.data : {};
  const uais = Object.keys(((d.data.identity ?? {}) as { userAssignedIdentities?: Record<string, unknown> }).userAssignedIdentities ?? {});
  // Only what the health checks read (the CMK settings, the identities carried): a scan's cursor holds thousands of these.
  const identity = d.data.identity as ArmResource['identity'] | null | undefined;
  const properties = d.data.properties ?? {};
  const resource: ArmResource = {
    id: d.data.id,
    name: d.data.name ?? segs[segs.length - 1],
    type,
    ...(d.data.location ? { location: d.data.location } : {}),
    ...(identity ? { identity: { ...(identity.type ? { type: identity.type } : {}), ...(uais.length ? { userAssignedIdentities: Object.fromEntries(uais.map((u) => [u, {}])) } : {}) } } : {}),
    properties: Object.fromEntries(Object.entries(properties).filter(([k]) => KEPT_PROPERTIES.has(k))),
  };
  const base = {
    id: d.data.id,
    type,
    name: d.data.name ?? segs[segs.length - 1] ?? '',
    subscriptionId: segs[2] ?? '',
    resourceGroup: segs[4] ?? '',
    location: d.data.location ?? '',
    resource,
  };
  const opt = <K extends string>(k: K, v: string | null | undefined) => (v ? ({ [k]: v } as Record<K, string>) : {});
  switch (type) {
    case 'Microsoft.FluidRelay/fluidRelayServers': {
      const cmk = p.encryption?.customerManagedKeyEncryption;
      return { ...base, ...opt('keyUrl', cmk?.keyEncryptionKeyUrl), ...opt('identityId', cmk?.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId) };
    }
    case 'Microsoft.Storage/storageAccounts':
      return { ...base, ...opt('keyUrl', storageKeyUrl(resource as StorageFact)), ...opt('identityId', p.encryption?.identity?.userAssignedIdentity), storageAccountId: d.data.id };
    default:
      // Chaos: the key is the storage account's (resolveChaosKeys); the experiment's identity writes the data.
      return { ...base, ...opt('identityId', uais[0]), ...opt('storageAccountId', p.customerDataStorage?.storageAccountResourceId) };
  }
}

/** Resource Graph refused the query (no access to it, a query it rejects…): the list fallback may still work. Throttling and outages are not refusals. */
export function isRefusal(e: unknown): boolean {
  return isArmError(e) && e.status >= 400 && e.status < 500 && e.status !== 429 && e.status !== 408;
}

/** Resource Graph takes at most 1,000 subscriptions per request. */
export const GRAPH_SUBSCRIPTIONS_PER_QUERY = 1000;

/** The Resource Graph query across the subscriptions (every page; one query per 1,000 subscriptions). Throws ArmError when refused; undefined when the gateway has no Resource Graph. */
export async function queryInventory(arm: ArmGateway, subscriptions: string[], opts: { pageSize?: number } = {}): Promise<CmkResource[] | undefined> {
  const rg = resourceGraphOf(arm);
  if (!rg) return undefined;
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < subscriptions.length; i += GRAPH_SUBSCRIPTIONS_PER_QUERY) {
    rows.push(...(await rg<Record<string, unknown>>(INVENTORY_QUERY, subscriptions.slice(i, i + GRAPH_SUBSCRIPTIONS_PER_QUERY), opts)));
  }
  // A resource moved between pages of a paged query can come twice; one entry each.
  const byId = new Map<string, CmkResource>();
  for (const r of rows.map(toCmkResource)) if (r) byId.set(r.id.toLowerCase(), r);
  return [...byId.values()];
}

/** Whether a resource is inside a watched scope: `all`, a subscription (`/subscriptions/{id}` or the bare id) or a resource group id. */
export function inScope(resource: Pick<CmkResource, 'id'>, scope: string): boolean {
  if (scope.toLowerCase() === 'all') return true;
  const s = (scope.startsWith('/') ? scope : `/subscriptions/${scope}`).replace(/\/+$/, '').toLowerCase();
  return resource.id.toLowerCase().startsWith(`${s}/`);
}

/**
 * The resources a Key Vault event is about (Event Grid: the vault, and the key for key events):
 * those whose key is in that vault, and named that key when the event names one. Re-scan them.
 */
export function dependentsOf(resources: readonly CmkResource[], event: { vaultName: string; objectName?: string }): CmkResource[] {
  const vault = event.vaultName.toLowerCase();
  const key = event.objectName?.toLowerCase();
  return resources.filter((r) => {
    const ref = r.keyUrl ? parseKeyUrl(r.keyUrl) : undefined;
    return !!ref?.ok && ref.ref.vaultName.toLowerCase() === vault && (!key || ref.ref.keyName.toLowerCase() === key);
  });
}

/** At most `limit` promises at a time, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The fallback for one subscription: the resource list per watched type (it carries no properties), then a GET of each. */
export async function listSubscriptionInventory(arm: ArmGateway, subscriptionId: string, opts: { concurrency?: number } = {}): Promise<CmkResource[]> {
  const listed = await Promise.all(
    WATCHED_TYPES.map(async (t) => (await arm.list<{ id: string }>(`/subscriptions/${subscriptionId}/resources`, API.resources, { $filter: `resourceType eq '${t.type}'` })).map((r) => ({ id: r.id, apiVersion: t.apiVersion }))),
  );
  const docs = await mapLimit(listed.flat(), opts.concurrency ?? 8, (r) => arm.getOrNull<ArmResource>(r.id, r.apiVersion));
  return docs.map((d) => (d ? toCmkResource(d) : undefined)).filter((r): r is CmkResource => !!r);
}

/** A Chaos experiment depends on its storage account's key: read it from the account (one found in the inventory is not read again). */
export async function resolveChaosKeys(arm: ArmGateway, resources: CmkResource[], known: readonly CmkResource[] = resources): Promise<CmkResource[]> {
  const accounts = new Map(known.filter((r) => r.type === 'Microsoft.Storage/storageAccounts').map((r) => [r.id.toLowerCase(), r]));
  return mapLimit(resources, 8, async (r) => {
    if (r.type !== 'Microsoft.Chaos/experiments' || r.keyUrl || !r.storageAccountId) return r;
    const account = accounts.get(r.storageAccountId.toLowerCase())?.resource ?? (await readOrNull(arm, r.storageAccountId));
    const keyUrl = account ? storageKeyUrl(account as StorageFact) : undefined;
    return keyUrl ? { ...r, keyUrl } : r;
  });
}

async function readOrNull(arm: ArmGateway, id: string): Promise<ArmResource | undefined> {
  try {
    return await arm.getOrNull<ArmResource>(id, STORAGE_API);
  } catch (e) {
    // The account cannot be read: the experiment is still watched, its key unknown (the checks say why).
    if (isArmError(e)) return undefined;
    throw e;
  }
}

export interface InventoryResult {
  resources: CmkResource[];
  via: 'resource-graph' | 'list';
  /** Why Resource Graph was not used (its refusal, or that the gateway has none). */
  fallbackReason?: string;
  /** Subscriptions the fallback could not list, and why: their resources are unknown this time. */
  unlisted: Array<{ subscriptionId: string; reason: string }>;
}

/** Every CMK resource in the subscriptions, with the way it was found. */
export async function inventoryWithSource(arm: ArmGateway, subscriptions: string[]): Promise<InventoryResult> {
  let fallbackReason = 'the gateway has no Resource Graph';
  try {
    const found = await queryInventory(arm, subscriptions);
    if (found) return { resources: await resolveChaosKeys(arm, found), via: 'resource-graph', unlisted: [] };
  } catch (e) {
    if (!isRefusal(e)) throw e;
    fallbackReason = `Resource Graph refused the query: ${isArmError(e) ? e.describe() : String(e)}`;
  }
  const unlisted: InventoryResult['unlisted'] = [];
  const perSub = await mapLimit(subscriptions, 4, async (s) => {
    try {
      return await listSubscriptionInventory(arm, s);
    } catch (e) {
      if (!isArmError(e)) throw e;
      unlisted.push({ subscriptionId: s, reason: e.describe() });
      return [];
    }
  });
  const all = perSub.flat();
  return { resources: await resolveChaosKeys(arm, all), via: 'list', fallbackReason, unlisted };
}

/** The enabled subscriptions the bot's identity can see (lower-case ids). */
export async function visibleSubscriptions(arm: ArmGateway): Promise<string[]> {
  const all = await arm.list<{ subscriptionId: string; state?: string }>('/subscriptions', '2022-12-01');
  return all.filter((s) => !s.state || s.state === 'Enabled').map((s) => s.subscriptionId.toLowerCase());
}

/** Every resource in the subscriptions that depends on a customer-managed key. */
export async function inventory(arm: ArmGateway, subscriptions: string[]): Promise<CmkResource[]> {
  return (await inventoryWithSource(arm, subscriptions)).resources;
}
