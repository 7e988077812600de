// Small ARM helpers shared by providers: id parsing, scope checks, paging, stable GUIDs.
import { createHash } from 'node:crypto';
import { ArmError, resourceGroupNotFound, subscriptionNotFound } from './errors';
import type { SimContext, SimRequest, SimRoute } from './provider';
import type { SimResource, SimState } from './state';

export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup?: string;
  namespace?: string;
  /** Type path without names, e.g. 'Microsoft.KeyVault/vaults/keys'. */
  type?: string;
  /** Names along the type path, e.g. ['kv', 'k']. */
  names: string[];
}

/** Parses `/subscriptions/{s}[/resourceGroups/{rg}[/providers/{ns}/{type}/{name}[/{type}/{name}]*]]`; undefined if malformed. */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  const segs = id.split('/').filter(Boolean);
  if (segs.length < 2 || segs[0]!.toLowerCase() !== 'subscriptions') return undefined;
  const parsed: ParsedResourceId = { subscriptionId: segs[1]!, names: [] };
  if (segs.length === 2) return parsed;
  if (segs[2]!.toLowerCase() !== 'resourcegroups' || segs.length < 4) return undefined;
  parsed.resourceGroup = segs[3]!;
  if (segs.length === 4) return parsed;
  if (segs[4]!.toLowerCase() !== 'providers' || segs.length < 8 || (segs.length - 6) % 2 !== 0) return undefined;
  parsed.namespace = segs[5]!;
  const types: string[] = [];
  for (let i = 6; i < segs.length; i += 2) {
    types.push(segs[i]!);
    parsed.names.push(segs[i + 1]!);
  }
  parsed.type = `${parsed.namespace}/${types.join('/')}`;
  return parsed;
}

/** True when `outer` is `inner` or an ancestor scope of it ('' and '/' are the root). Case-insensitive. */
export function scopeContains(outer: string, inner: string): boolean {
  const o = outer.replace(/\/+$/, '').toLowerCase();
  const i = inner.replace(/\/+$/, '').toLowerCase();
  return o === '' || o === i || i.startsWith(`${o}/`);
}

export function subscriptionResourceId(sub: string): string {
  return `/subscriptions/${sub}`;
}

/** The stored subscription, or 404 SubscriptionNotFound (400 when the id is not a GUID, as ARM answers). */
export function requireSubscription(state: SimState, sub: string): SimResource {
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(sub)) {
    throw new ArmError(400, 'InvalidSubscriptionId', `The provided subscription identifier '${sub}' is malformed or invalid.`);
  }
  const found = state.get(subscriptionResourceId(sub));
  if (!found) throw subscriptionNotFound(sub);
  return found;
}

/** The stored resource group (after checking its subscription), or 404 ResourceGroupNotFound. */
export function requireResourceGroup(state: SimState, sub: string, rg: string): SimResource {
  requireSubscription(state, sub);
  const found = state.get(`/subscriptions/${sub}/resourceGroups/${rg}`);
  if (!found) throw resourceGroupNotFound(rg);
  return found;
}

/** Checks the subscription / resource group a scope names exist (deeper parts are not checked). */
export function requireScope(state: SimState, scope: string): void {
  const segs = scope.split('/').filter(Boolean);
  if (segs.length === 0) return;
  if (segs[0]!.toLowerCase() === 'providers') return; // tenant-level scopes
  if (segs[0]!.toLowerCase() !== 'subscriptions' || segs.length < 2) {
    throw new ArmError(400, 'InvalidScope', `The scope '${scope}' is not valid.`);
  }
  if (segs.length >= 4 && segs[2]!.toLowerCase() === 'resourcegroups') requireResourceGroup(state, segs[1]!, segs[3]!);
  else requireSubscription(state, segs[1]!);
}

/** A deterministic GUID (version-4 layout) derived from a string, for ids the simulator invents. */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A deterministic 32-hex key version id. */
export function stableKeyVersion(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}

export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}

/**
 * One page of a list: `{ value, nextLink? }`. `$skiptoken` is the offset; `$top` (when the
 * operation supports it) shrinks the page. nextLink is absolute and keeps the other query
 * parameters, as ARM's do.
 */
export function page<T>(items: T[], req: SimRequest, ctx: SimContext, pageSize: number, honourTop = false): { value: T[]; nextLink?: string } {
  const skip = Math.max(0, Number.parseInt(req.query['$skiptoken'] ?? '0', 10) || 0);
  let size = pageSize;
  if (honourTop && req.query['$top'] !== undefined) {
    const top = Number.parseInt(req.query['$top'], 10);
    if (!Number.isFinite(top) || top < 1) {
      throw new ArmError(400, 'InvalidQueryParameterValue', `The value '${req.query['$top']}' of query parameter '$top' is not valid.`);
    }
    size = Math.min(top, pageSize);
  }
  const value = items.slice(skip, skip + size);
  if (skip + size >= items.length) return { value };
  const query = new URLSearchParams({ ...req.query, $skiptoken: String(skip + size) });
  return { value, nextLink: `${ctx.endpoint}${req.path}?${query.toString()}` };
}

/**
 * The two list operations every tracked resource type has: by subscription and by resource group
 * (`/providers/{type}` under each), paged, each item rendered as GET renders it.
 */
export function collectionRoutes(type: string, resourceType: string, opts: { render?: (r: SimResource, req: SimRequest, ctx: SimContext) => unknown; pageSize?: number; honourTop?: boolean } = {}): SimRoute[] {
  const list = (scopeId: string, req: SimRequest, ctx: SimContext) => {
    const items = ctx.state.ofType(type, scopeId);
    return { status: 200, body: page(opts.render ? items.map((r) => opts.render!(r, req, ctx)) : items, req, ctx, opts.pageSize ?? 100, opts.honourTop ?? false) };
  };
  return [
    {
      method: 'GET',
      pattern: `/subscriptions/{sub}/providers/${type}`,
      resourceType,
      handler: (req, ctx) => list(requireSubscription(ctx.state, req.params['sub']!).id, req, ctx),
    },
    {
      method: 'GET',
      pattern: `/subscriptions/{sub}/resourceGroups/{rg}/providers/${type}`,
      resourceType,
      handler: (req, ctx) => list(requireResourceGroup(ctx.state, req.params['sub']!, req.params['rg']!).id, req, ctx),
    },
  ];
}

/** The body as an object, or 400 InvalidRequestContent. */
export function bodyObject(req: SimRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) {
    throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized: the body must be a JSON object.');
  }
  return b as Record<string, unknown>;
}

/** The body's `location`, normalised ('East US' → 'eastus'), or 400 LocationRequired. */
export function requiredLocation(body: Record<string, unknown>): string {
  const location = body['location'];
  if (typeof location !== 'string' || location.trim() === '') {
    throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.', { target: 'location' });
  }
  return normalizeLocation(location);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A member of a JSON object matched case-insensitively (ARM services' JSON deserializers ignore member-name case). */
export function getMember(obj: Record<string, unknown>, name: string): unknown {
  const k = Object.keys(obj).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : obj[k];
}

export function hasMember(obj: Record<string, unknown>, name: string): boolean {
  return Object.keys(obj).some((x) => x.toLowerCase() === name.toLowerCase());
}
