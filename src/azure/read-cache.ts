// A view of the gateway that makes each distinct GET once: for one submission, the target's
// prepare(), the checks and the update diff all read the same resource, and ARM reads are budgeted.
import { absentOn404, type ArmGateway } from './port';

export function withReadCache(arm: ArmGateway): ArmGateway {
  const cache = new Map<string, Promise<unknown>>();
  const once = <T>(k: string, fn: () => Promise<T>): Promise<T> => {
    let p = cache.get(k) as Promise<T> | undefined;
    if (!p) {
      p = fn();
      cache.set(k, p);
    }
    return p;
  };
  const key = (kind: string, path: string, apiVersion: string, query?: Record<string, string>) => `${kind} ${path.toLowerCase()}?${apiVersion}&${JSON.stringify(query ?? {})}`;
  return {
    get: (p, v, q) => once(key('GET', p, v, q), () => arm.get(p, v, q)),
    // Shares the GET's cache entry: a resource read by prepare() and by the checks is read once.
    getOrNull: (p, v, q) => absentOn404(once(key('GET', p, v, q), () => arm.get(p, v, q))),
    list: (p, v, q) => once(key('LIST', p, v, q), () => arm.list(p, v, q)),
    // A query is a read too: the same text over the same subscriptions is asked once per view.
    resourceGraph: <T>(query: string, subs: string[], o?: { pageSize?: number }) =>
      once(`GRAPHQUERY ${JSON.stringify([query, [...subs].map((s) => s.toLowerCase()).sort(), o?.pageSize ?? null])}`, () => arm.resourceGraph<T>(query, subs, o)),
    put: (p, v, b, o) => arm.put(p, v, b, o),
    patch: (p, v, b, o) => arm.patch(p, v, b, o),
    resume: (op, p, v, o) => arm.resume(op, p, v, o),
    onCall: (l) => arm.onCall(l),
    scoped: (l) => withReadCache(arm.scoped(l)),
    // Group memberships (Microsoft Graph) pass through too, asked once per principal.
    ...(arm.memberOf ? { memberOf: (id: string) => once(`GRAPH memberOf ${id.toLowerCase()}`, () => arm.memberOf!(id)) } : {}),
  };
}
