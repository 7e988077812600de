// One read cache for a whole scan: every key, vault, identity and role list is read once however
// many resources share it. Two things withReadCache (one request's cache) does not do:
// - the resources themselves come from the inventory (Resource Graph already returned them), so
//   the checks' read of "the resource as it exists now" is answered from there, not from ARM;
// - finding a vault by name (the checks look in the resource's subscription, then in every other)
//   lists each subscription's vaults once, instead of once per (subscription, vault name).
import { absentOn404, type ArmCallRecord, type ArmGateway, type ArmResource } from '../azure/port';

export interface ScanReads {
  /** The gateway the scan's checks read through. */
  gateway: ArmGateway;
  /** The resource as the inventory read it: a GET of its id (any api-version, no query) answers it. */
  prime(resource: ArmResource): void;
  /** Reads that went to ARM through this cache (GET and list calls; each distinct one once). */
  readonly armReads: number;
}

const VAULT_LOOKUP = /^resourceType eq 'Microsoft\.KeyVault\/vaults' and name eq '([^']+)'$/i;
const SUBSCRIPTION_RESOURCES = /^\/subscriptions\/([^/]+)\/resources$/i;

type ResourceGraphQuery = <T = Record<string, unknown>>(query: string, subscriptions: string[], opts?: { pageSize?: number }) => Promise<T[]>;

export function scanReads(arm: ArmGateway): ScanReads {
  const cache = new Map<string, Promise<unknown>>();
  const primed = new Map<string, ArmResource>();
  let armReads = 0;
  const once = <T>(k: string, fn: () => Promise<T>): Promise<T> => {
    let p = cache.get(k) as Promise<T> | undefined;
    if (!p) {
      armReads++;
      p = fn();
      cache.set(k, p);
    }
    return p;
  };
  const key = (kind: string, path: string, apiVersion: string, query?: Record<string, string>) => `${kind} ${path.toLowerCase()}?${apiVersion}&${JSON.stringify(query ?? {})}`;
  const get = <T>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T> => {
    const p = !query ? primed.get(path.toLowerCase()) : undefined;
    if (p) return Promise.resolve(p as T);
    return once(key('GET', path, apiVersion, query), () => arm.get<T>(path, apiVersion, query));
  };
  const list = <T>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T[]> => {
    const sub = SUBSCRIPTION_RESOURCES.exec(path)?.[1];
    const vault = query && Object.keys(query).length === 1 ? VAULT_LOOKUP.exec(query['$filter'] ?? '')?.[1] : undefined;
    if (sub && vault) {
      // Vault names are unique: the subscription's vaults, listed once, answer every name.
      const all = once(key('LIST', `/subscriptions/${sub}/resources`, apiVersion, { $filter: "resourceType eq 'Microsoft.KeyVault/vaults'" }), () =>
        arm.list<{ id: string; name?: string }>(`/subscriptions/${sub}/resources`, apiVersion, { $filter: "resourceType eq 'Microsoft.KeyVault/vaults'" }),
      );
      return all.then((vs) => vs.filter((v) => (v.name ?? v.id.split('/').pop() ?? '').toLowerCase() === vault.toLowerCase()) as T[]);
    }
    return once(key('LIST', path, apiVersion, query), () => arm.list<T>(path, apiVersion, query));
  };
  const gateway = {
    get,
    getOrNull: <T>(p: string, v: string, q?: Record<string, string>) => absentOn404(get<T>(p, v, q)),
    list,
    put: (p, v, b, o) => arm.put(p, v, b, o),
    patch: (p, v, b, o) => arm.patch(p, v, b, o),
    resume: (op, p, v, o) => arm.resume(op, p, v, o),
    onCall: (l: (call: ArmCallRecord) => void) => arm.onCall(l),
    scoped: (l: (call: ArmCallRecord) => void) => arm.scoped(l),
    ...(arm.memberOf ? { memberOf: (id: string) => once(`GRAPH memberOf ${id.toLowerCase()}`, () => arm.memberOf!(id)) } : {}),
  } as ArmGateway;
  // Resource Graph (the inventory) passes through: each query is its own answer.
  const rg = (arm as ArmGateway & { resourceGraph?: ResourceGraphQuery }).resourceGraph;
  if (typeof rg === 'function') Object.assign(gateway, { resourceGraph: rg.bind(arm) });
  return {
    gateway,
    prime: (r) => {
      primed.set(r.id.toLowerCase(), r);
    },
    get armReads() {
      return armReads;
    },
  };
}
