// The grammar of the ARM resource ids the bot accepts from people (commands, forms, modals).
// An id becomes an ARM URL path (`endpoint + id + ?api-version=…`), so each segment must be
// something URL parsing leaves alone: no query or fragment marker, no percent sign (ARM would
// decode it), no backslash (read as a slash), no whitespace or control characters (dropped or
// encoded), no dot segment (`.`/`..` move the path), no surrogate (lone halves are replaced), no
// invisible or bidirectional formatting character (an id on a card must read as what it is). None
// of these can appear in an Azure resource name, nor can < > & *. Otherwise the checks could read
// one resource while the write, the policy match and the card name another.

/** One segment of a resource id (source for a RegExp). */
export const ID_SEGMENT = String.raw`(?!\.+(?:/|$))[^/\s?#%\\<>&*\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]+`;

/** `/subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}` for the given namespace/type (source for a RegExp). */
export function resourceIdSource(namespace = ID_SEGMENT, type = ID_SEGMENT, name = ID_SEGMENT): string {
  return String.raw`\/subscriptions\/(${ID_SEGMENT})\/resourceGroups\/(${ID_SEGMENT})\/providers\/${namespace}\/${type}\/${name}`;
}

/** A whole resource id of the given provider type, case-insensitive as ARM is; group 1 is the subscription, group 2 the resource group. */
export function resourceIdPattern(namespace?: string, type?: string, name?: string, suffix = ''): RegExp {
  return new RegExp(`^${resourceIdSource(namespace, type, name)}${suffix}$`, 'i');
}

/** Longer than any id of the resource types the bot handles (names are at most a few hundred characters). */
export const MAX_RESOURCE_ID_LENGTH = 1024;

/** Is `id` a resource id matching `pattern`, within the length limit? */
export function isResourceId(id: string, pattern: RegExp): boolean {
  return id.length <= MAX_RESOURCE_ID_LENGTH && pattern.test(id);
}

/** The subscription id a resource (or scope) id names, as written; '' when it names none. */
export const subscriptionOf = (id: string): string => /^\/subscriptions\/([^/]+)/i.exec(id)?.[1] ?? '';

/** A GUID, in either case (subscription, tenant and principal ids). */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESOURCE_GROUP = /^[-\w.()]{1,90}$/;

/**
 * A subscription (its id, or `/subscriptions/<id>`) or a resource group in one
 * (`/subscriptions/<id>/resourceGroups/<name>`), in canonical form (the subscription id
 * lower-case, no trailing slash); undefined if it is neither.
 */
export function azureScope(arg: string): string | undefined {
  const a = arg.trim().replace(/\/+$/, '');
  if (GUID.test(a)) return `/subscriptions/${a.toLowerCase()}`;
  const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?$/i.exec(a);
  if (!m || !GUID.test(m[1]!) || (m[2] !== undefined && (!RESOURCE_GROUP.test(m[2]) || m[2].endsWith('.')))) return undefined;
  return `/subscriptions/${m[1]!.toLowerCase()}${m[2] ? `/resourceGroups/${m[2]}` : ''}`;
}
