// The simulator's in-memory tenant: one generic store of ARM resources keyed by lower-cased
// resource id. Every resource is kept in its wire shape (what a GET returns), so tests can
// read or change it directly and providers render little beyond computed fields.

export interface SimResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  identity?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  [extra: string]: unknown;
}

function key(id: string): string {
  return id.replace(/\/+$/, '').toLowerCase();
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge for `patch`: objects merge, `null` deletes, anything else replaces. */
function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (isPlainObject(v) && isPlainObject(target[k])) merge(target[k] as Record<string, unknown>, v);
    else target[k] = structuredClone(v);
  }
  return target;
}

export class SimState {
  private readonly items = new Map<string, SimResource>();

  /** The stored resource (live object: changes to it are seen by the next request), or undefined. */
  get(id: string): SimResource | undefined {
    return this.items.get(key(id));
  }

  has(id: string): boolean {
    return this.items.has(key(id));
  }

  /** Stores (or replaces) a resource under its `id`. Returns the stored object. */
  put<T extends SimResource>(resource: T): T {
    this.items.set(key(resource.id), resource);
    return resource;
  }

  /**
   * Deep-merges `partial` into the stored resource (objects merge, arrays and scalars replace,
   * `null` removes a field). Throws when there is no resource with that id.
   */
  patch(id: string, partial: Record<string, unknown>): SimResource {
    const current = this.items.get(key(id));
    if (!current) throw new Error(`SimState.patch: no resource ${id}`);
    merge(current, partial);
    return current;
  }

  /** Deletes the resource and everything below it (child and extension resources). Returns whether it existed. */
  delete(id: string): boolean {
    const k = key(id);
    const existed = this.items.delete(k);
    for (const other of [...this.items.keys()]) {
      if (other.startsWith(`${k}/`)) this.items.delete(other);
    }
    return existed;
  }

  /** All resources, in insertion order. */
  all(): SimResource[] {
    return [...this.items.values()];
  }

  /** Resources of a type (case-insensitive), optionally only those whose id is below `under`. */
  ofType(type: string, under?: string): SimResource[] {
    const t = type.toLowerCase();
    const prefix = under === undefined ? undefined : `${key(under)}/`;
    return this.all().filter((r) => r.type.toLowerCase() === t && (prefix === undefined || r.id.toLowerCase().startsWith(prefix)));
  }

  clear(): void {
    this.items.clear();
  }

  get size(): number {
    return this.items.size;
  }
}
