// Microsoft.ResourceGraph: POST /providers/Microsoft.ResourceGraph/resources (Resources, REST spec
// stable/2021-03-01) over the simulator's state — the KQL subset in ../kql.ts, the subscriptions
// asked for, the rows the caller may read, pages by $top/$skip/$skipToken. Any other query is
// refused as Resource Graph refuses one: 400 BadRequest, details InvalidQuery and ParserFailure.
import { randomUUID } from 'node:crypto';
import { bodyObject, isObject, parseResourceId, scopeContains } from '../arm';
import { principalAndGroups } from '../directory';
import { ArmError, type ArmErrorDetail } from '../errors';
import { KqlError, parseKql, runKql, type Row } from '../kql';
import type { SimContext, SimProvider, SimRequest } from '../provider';
import { assignmentProps, permits, ROLE_ASSIGNMENT_TYPE, roleDefinition, rolePermissions, type RolePermission } from '../rbac';
import { SIM_TENANT_ID } from '../seed-ids';
import type { SimResource } from '../state';

/**
 * The inventory query the watchdog sends (issue 15), verbatim. The simulator answers any query in
 * its KQL subset; this one is pinned by test/integration/simulator-resource-graph.test.ts.
 */
export const INVENTORY_QUERY = `resources
| where type in~ ('microsoft.fluidrelay/fluidrelayservers', 'microsoft.chaos/experiments', 'microsoft.storage/storageaccounts')
| where isnotempty(properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl) or isnotempty(properties.customerDataStorage.storageAccountResourceId) or properties.encryption.keySource =~ 'Microsoft.Keyvault'
| project id, name, type, location, subscriptionId, resourceGroup, identity, properties`;

/** Resources' api-versions in the Resource Graph REST specs' stable folders (the SDK we use sends 2021-03-01). */
export const RESOURCE_GRAPH_VERSIONS = ['2019-04-01', '2021-03-01', '2022-10-01', '2024-04-01'] as const;

/** $top's range in QueryRequestOptions (minimum 1, maximum 1000), and the page a query without $top gets. */
export const RESOURCE_GRAPH_MAX_TOP = 1000;

/** The columns of the `resources` table the simulator fills. */
const COLUMNS = ['id', 'name', 'type', 'tenantId', 'kind', 'location', 'resourceGroup', 'subscriptionId', 'managedBy', 'sku', 'plan', 'properties', 'tags', 'identity', 'zones', 'extendedLocation'] as const;

/** Resource Graph's refusal: a support line (timestamp, correlation id) with the reason in details. */
function badRequest(req: SimRequest, ctx: SimContext, details: ArmErrorDetail[]): ArmError {
  const correlationId = req.headers['x-ms-correlation-request-id'] ?? randomUUID();
  return new ArmError(400, 'BadRequest', `Please provide below info when asking for support: timestamp = ${new Date(ctx.now()).toISOString()}, correlationId = ${correlationId}.`, { details });
}

const INVALID_QUERY: ArmErrorDetail = { code: 'InvalidQuery', message: 'Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.' };

function queryError(req: SimRequest, ctx: SimContext, text: string, e: KqlError): ArmError {
  const before = text.slice(0, e.at).split('\n');
  const token = /^\S*/.exec(text.slice(e.at))?.[0] || '<EOF>';
  const parser = { code: 'ParserFailure', message: e.message, line: before.length, characterPositionInLine: before[before.length - 1]!.length, token };
  return badRequest(req, ctx, [INVALID_QUERY, parser as ArmErrorDetail]);
}

/** The skip token: base64 JSON of the page size and the rows to skip, the two fields Resource Graph's own token carries. */
interface SkipToken {
  MaxRows: number;
  RowsToSkip: number;
}

function encodeToken(t: SkipToken): string {
  return Buffer.from(JSON.stringify({ $id: '1', ...t })).toString('base64');
}

function decodeToken(req: SimRequest, ctx: SimContext, raw: unknown): SkipToken {
  try {
    const t = JSON.parse(Buffer.from(String(raw), 'base64').toString('utf8')) as Partial<SkipToken>;
    if (Number.isInteger(t.MaxRows) && Number.isInteger(t.RowsToSkip) && t.MaxRows! > 0 && t.RowsToSkip! >= 0) return { MaxRows: t.MaxRows!, RowsToSkip: t.RowsToSkip! };
  } catch {
    // falls through to the refusal
  }
  throw badRequest(req, ctx, [{ code: 'InvalidSkipToken', message: 'The $skipToken is not one this service issued for this query.' }]);
}

/** A stored resource as a row of the `resources` table: type lower-cased (the spec's examples), group lower-cased, the tenant filled in. */
function toRow(r: SimResource): Row {
  const parsed = parseResourceId(r.id);
  return {
    id: r.id,
    name: r.name,
    type: r.type.toLowerCase(),
    tenantId: SIM_TENANT_ID,
    kind: r['kind'] ?? '',
    location: r.location ?? '',
    resourceGroup: parsed?.resourceGroup?.toLowerCase() ?? '',
    subscriptionId: parsed?.subscriptionId ?? '',
    managedBy: r['managedBy'] ?? '',
    sku: r['sku'] ?? null,
    plan: r['plan'] ?? null,
    properties: r.properties ?? null,
    tags: r.tags ?? null,
    identity: r.identity ?? null,
    zones: r['zones'] ?? null,
    extendedLocation: r['extendedLocation'] ?? null,
  };
}

/**
 * Whether the caller may read a resource: rbac.ts's principalCan, with the caller's assignments
 * and their roles' permissions looked up once per query rather than once per row.
 */
function readCheck(ctx: SimContext): (r: SimResource) => boolean {
  const who = principalAndGroups(ctx.state, ctx.caller);
  const mine = ctx.state
    .ofType(ROLE_ASSIGNMENT_TYPE)
    .map(assignmentProps)
    .filter((a) => who.has(a.principalId.toLowerCase()))
    .map((a) => ({ scope: a.scope, perms: rolePermissions(roleDefinition(ctx.state, a.roleDefinitionId)) }));
  return (r) => {
    const perms: RolePermission[] = mine.filter((a) => scopeContains(a.scope, r.id)).flatMap((a) => a.perms);
    return permits(perms, `${r.type}/read`, 'action');
  };
}

/** Tracked resources (a provider type with one name) in the subscriptions asked for, that the caller can read. */
function rowsInScope(req: SimRequest, ctx: SimContext, subscriptions: string[] | undefined): Row[] {
  const subs = subscriptions?.map((s) => s.toLowerCase());
  const canRead = readCheck(ctx);
  return ctx.state
    .all()
    .filter((r) => {
      const parsed = parseResourceId(r.id);
      if (!parsed?.namespace || parsed.names.length !== 1 || parsed.namespace.toLowerCase() === 'microsoft.authorization') return false;
      if (subs && !subs.includes(parsed.subscriptionId.toLowerCase())) return false;
      // Resource Graph returns only what the caller may read; it does not refuse the query.
      return canRead(r);
    })
    .map(toRow);
}

function columnType(values: unknown[]): string {
  const v = values.find((x) => x !== null && x !== undefined && x !== '');
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object' && v !== null) return 'object';
  return 'string';
}

function asTable(rows: Row[], columns: string[]): { columns: Array<{ name: string; type: string }>; rows: unknown[][] } {
  return { columns: columns.map((name) => ({ name, type: columnType(rows.map((r) => r[name])) })), rows: rows.map((r) => columns.map((c) => r[c] ?? null)) };
}

function resources(req: SimRequest, ctx: SimContext) {
  const body = bodyObject(req);
  const query = body['query'];
  if (typeof query !== 'string' || query.trim() === '') throw badRequest(req, ctx, [{ code: 'MissingQuery', message: "The request body must carry a 'query' string." }]);
  if (body['managementGroups'] !== undefined) throw badRequest(req, ctx, [{ code: 'UnsupportedScope', message: 'The simulator has no management groups: ask with subscriptions.' }]);
  if (Array.isArray(body['facets']) && body['facets'].length > 0) throw badRequest(req, ctx, [{ code: 'UnsupportedFacets', message: 'The simulator does not compute facets.' }]);
  const subscriptions = body['subscriptions'];
  if (subscriptions !== undefined && (!Array.isArray(subscriptions) || subscriptions.some((s) => typeof s !== 'string'))) {
    throw badRequest(req, ctx, [{ code: 'InvalidSubscriptions', message: "'subscriptions' must be an array of subscription ids." }]);
  }
  const options = isObject(body['options']) ? body['options'] : {};
  const format = options['resultFormat'] ?? 'objectArray';
  if (format !== 'objectArray' && format !== 'table') throw badRequest(req, ctx, [{ code: 'InvalidResultFormat', message: `resultFormat must be 'table' or 'objectArray', not '${String(format)}'.` }]);
  const top = options['$top'];
  if (top !== undefined && (!Number.isInteger(top) || (top as number) < 1 || (top as number) > RESOURCE_GRAPH_MAX_TOP)) {
    throw badRequest(req, ctx, [{ code: 'InvalidTop', message: `$top must be an integer from 1 to ${RESOURCE_GRAPH_MAX_TOP}.` }]);
  }
  const skip = options['$skip'];
  if (skip !== undefined && (!Number.isInteger(skip) || (skip as number) < 0)) throw badRequest(req, ctx, [{ code: 'InvalidSkip', message: '$skip must be a non-negative integer.' }]);

  let rows: Row[];
  let parsed;
  try {
    parsed = parseKql(query);
    rows = runKql(parsed, rowsInScope(req, ctx, subscriptions as string[] | undefined), COLUMNS);
  } catch (e) {
    if (e instanceof KqlError) throw queryError(req, ctx, query, e);
    throw e;
  }

  // The spec: $top and $skip override the page size and offset a $skipToken carries.
  const token = options['$skipToken'] !== undefined ? decodeToken(req, ctx, options['$skipToken']) : undefined;
  const pageSize = (top as number | undefined) ?? token?.MaxRows ?? RESOURCE_GRAPH_MAX_TOP;
  const offset = (skip as number | undefined) ?? token?.RowsToSkip ?? 0;
  const page = rows.slice(offset, offset + pageSize);
  const next = offset + page.length < rows.length ? encodeToken({ MaxRows: pageSize, RowsToSkip: offset + page.length }) : undefined;
  const columns = parsed.project ?? [...COLUMNS];
  return {
    status: 200,
    body: {
      totalRecords: rows.length,
      count: page.length,
      resultTruncated: 'false',
      ...(next ? { $skipToken: next } : {}),
      facets: [],
      data: format === 'table' ? asTable(page, columns) : page,
    },
  };
}

export const resourceGraphProvider: SimProvider = {
  namespace: 'Microsoft.ResourceGraph',
  apiVersions: RESOURCE_GRAPH_VERSIONS,
  routes: [{ method: 'POST', pattern: '/providers/Microsoft.ResourceGraph/resources', resourceType: 'resources', apiVersionKind: 'arm', handler: resources }],
};
