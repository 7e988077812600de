// What a provider module contributes: its namespace, accepted api-versions, routes and seed.
import type { ApiVersionKind } from './api-versions';
import type { EventGridEvent } from './events';
import type { LroControl } from './lro';
import type { SimState } from './state';

export type HttpMethod = 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';

export interface SimRequest {
  method: string;
  /** Decoded request path without the query, as received. */
  path: string;
  /** Non-empty path segments (ARM tolerates doubled slashes). */
  segments: string[];
  /** Values captured by the route pattern, in the client's casing. `{*scope}` captures a path starting with '/' (or ''). */
  params: Record<string, string>;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  apiVersion: string;
}

export interface SimContext {
  state: SimState;
  /** Current time in ms (Date.now()). */
  now(): number;
  /** https://host:port of this simulator, for nextLink URLs. */
  endpoint: string;
  /** Object id of the calling principal (always the bot's: SIM_BOT_PRINCIPAL_ID). */
  caller: string;
  /** Long-running operation settings (Retry-After, polls to complete) and injected operation failures. */
  lro: LroControl;
  /** Key Vault's Event Grid topic: what a handler publishes goes to every webhook subscribed (sim.deliverEventsTo). */
  events: { publish(event: EventGridEvent): void };
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type SimHandler = (req: SimRequest, ctx: SimContext) => SimResponse;

export interface SimRoute {
  method: HttpMethod;
  /**
   * Path pattern; literal segments match case-insensitively, `{name}` captures one segment,
   * one `{*name}` may capture zero or more segments (used for ARM `{scope}` paths).
   */
  pattern: string;
  /** Overrides the provider's accepted api-versions for this route. */
  apiVersions?: readonly string[] | 'any';
  /** Resource type named in api-version errors, e.g. 'vaults/keys'. */
  resourceType?: string;
  /** Which error ARM gives for an unsupported api-version (default: 'arm' for Microsoft.Resources, 'tracked' for TRACKED_TYPES, else 'proxy'). */
  apiVersionKind?: ApiVersionKind;
  handler: SimHandler;
}

export interface SeedContext {
  /** Seed time in Unix seconds; stays the same across reset() so the seeded tenant is identical. */
  nowSeconds: number;
}

export interface SimProvider {
  /** e.g. 'Microsoft.KeyVault' — also how unknown namespaces are told from unknown types. */
  namespace: string;
  apiVersions: readonly string[] | 'any';
  routes: SimRoute[];
  seed?(state: SimState, ctx: SeedContext): void;
}
