// What an update would change, property by property: every leaf of the payload compared with the
// resource as it is now. Shown on update cards so approvers see the difference, not just the payload.

export interface Change {
  path: string;
  from: string;
  to: string;
}

const show = (v: unknown): string => (v === undefined ? '(not set)' : v === null ? 'null' : typeof v === 'string' ? (v === '' ? '""' : v) : JSON.stringify(v));

// Paths are kept as segments: map keys such as resource ids contain dots themselves.
function leaves(v: unknown, segs: string[], out: Array<[string[], unknown]>): void {
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) leaves(x, [...segs, k], out);
  } else out.push([segs, v]);
}

/** properties.encryption.keySource; a resource-id key shows as [name]. */
const label = (segs: string[]) => segs.map((s) => (s.includes('/') ? `[${s.split('/').pop()}]` : s)).join('.');

function at(obj: unknown, segs: string[]): unknown {
  let cur: unknown = obj;
  for (const part of segs) {
    if (!cur || typeof cur !== 'object') return undefined;
    const rec = cur as Record<string, unknown>;
    // ARM echoes map keys (resource ids) in its own casing.
    const key = part in rec ? part : Object.keys(rec).find((k) => k.toLowerCase() === part.toLowerCase());
    cur = key === undefined ? undefined : rec[key];
  }
  return cur;
}

export function diffPayload(current: unknown, payload: Record<string, unknown>): Change[] {
  const out: Array<[string[], unknown]> = [];
  leaves(payload, [], out);
  return out
    .map(([segs, to]) => ({ path: label(segs), from: at(current, segs), to }))
    .filter((c) => JSON.stringify(c.from ?? null) !== JSON.stringify(c.to ?? null) && !(isEmptyObject(c.to) && c.from !== undefined && typeof c.from === 'object'))
    .map((c) => ({ path: c.path, from: show(c.from), to: show(c.to) }));
}

function isEmptyObject(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
}
