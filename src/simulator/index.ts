// Local Azure: ARM REST over HTTPS on loopback, seeded with a small tenant, that the real
// Azure SDK clients talk to exactly as to management.azure.com (endpoint + tlsOptions.ca).
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SeedContext } from './provider';
import { providers } from './providers';
import { Router } from './router';
import { DEFAULT_LRO_SETTINGS, type LroSettings, type OperationFailureSpec } from './lro';
import { ArmFrontDoor, WRITE_METHODS, type FaultSpec, type RecordedRequest, type ThrottleSettings } from './server';
import { SimState } from './state';
import { setGraphReadGranted } from './directory';
import type { EventDelivery, EventSubscriptionOptions, KeyVaultEventType } from './events';
import { keyEventFor, rotateKey, setKeyEnabled } from './providers/keyvault-keys';
import { generateTlsMaterial, loadOrCreateTls, type TlsMaterial } from './tls';

export type { RecordedRequest, FaultSpec, ThrottleSettings } from './server';
export type { SimResource } from './state';
export type { LroSettings, OperationFailureSpec } from './lro';
export type { EventDelivery, EventGridEvent, EventSchema, EventSubscriptionOptions, KeyVaultEventType } from './events';
/** The Resource Graph query text the watchdog sends (pinned by its test), and the subset's page limit. */
export { INVENTORY_QUERY, RESOURCE_GRAPH_MAX_TOP } from './providers/resource-graph';
export { DEFAULT_LRO_SETTINGS } from './lro';
export { SimState } from './state';
export * from './seed-ids';
export { GROUP_TYPE, groupResource, type GroupSpec } from './directory';
/** For tests that grant a role through `state.put(roleAssignmentResource({...}))`. */
export { roleAssignmentResource, type RoleAssignmentSpec } from './providers/authorization';
/** For tests that add a resource group through `state.put(resourceGroupResource(...))`. */
export { resourceGroupResource } from './providers/resources';
/** The error code of every refused Fluid Relay CMK configuration (reason in error.details[0].code). */
export { CMK_ERROR_CODE } from './providers/fluid-relay';
/** Error codes of refused Chaos Studio experiment writes and Storage account writes. */
export { CHAOS_ERROR_CODES } from './providers/chaos';
export { STORAGE_ERROR_CODES } from './providers/storage';

export interface SimulatorOptions {
  /** 0 = random free port (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where the generated CA + server certificate are cached; reused if present and valid, else generated. Without it, generated in memory. */
  tlsDir?: string;
  latencyMs?: number;
  /** Long-running operations (Chaos Studio writes): Retry-After seconds (default 1) and polls to complete (default 2). */
  lro?: Partial<LroSettings>;
  /** ARM's token-bucket throttling (e.g. reads 250 burst, 25/s): remaining headers count it, an empty bucket answers 429. */
  throttle?: ThrottleSettings;
}

export interface Simulator {
  /** e.g. https://127.0.0.1:45123 */
  endpoint: string;
  /** PEM of the certificate clients must trust (the simulator's root CA). */
  ca: string;
  /** File path of `ca` when tlsDir was given. */
  caPath?: string;
  /** The in-memory resources (get/put/patch/delete by id). */
  state: SimState;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  /** PUT/PATCH/DELETE/POST only. */
  writes(): RecordedRequest[];
  setLatency(ms: number): void;
  injectFault(f: FaultSpec): void;
  /** Every request as it arrives, before it is answered; returns an unsubscribe function. */
  onRequest(listener: (r: RecordedRequest) => void): () => void;
  /** Turn token-bucket throttling on (or off with undefined). */
  setThrottle(t: ThrottleSettings | undefined): void;
  /** The current long-running-operation settings (a copy). */
  readonly lro: LroSettings;
  /** Changes Retry-After / polls-to-complete for operations started from now on (reset() restores the starting values). */
  setLro(settings: Partial<LroSettings>): void;
  /** Makes the next matching long-running operation end `Failed` with the given error. */
  injectOperationFailure(f?: OperationFailureSpec): void;
  /** Whether the bot holds the Microsoft Graph permission to read group memberships (default true; reset() restores it). false → Graph answers 403 Authorization_RequestDenied. */
  setGraphPermission(granted: boolean): void;
  /**
   * Subscribes a webhook to Key Vault's events (every vault), as an Event Grid subscription with a
   * webhook endpoint would: the validation handshake first (rejects when the endpoint fails it,
   * unless `validate: false`), then one POST per event. `code` goes in the URL as ?code=, `token`
   * as a bearer token. Returns the unsubscribe function. reset() removes every subscription.
   */
  deliverEventsTo(url: string, opts?: EventSubscriptionOptions): Promise<() => void>;
  /** Publishes a Key Vault event now (KeyNearExpiry / KeyExpired are time-based in Azure; the simulator has no clock for them). Version: default the key's current one. */
  emitKeyEvent(type: KeyVaultEventType, vault: string, key?: string, version?: string): void;
  /** The data plane's Rotate Key: a new current version of an existing key, and its KeyNewVersionCreated event. Returns the new version's name. */
  rotateKey(vault: string, key: string): string;
  /** The data plane's Update Key: enables or disables a version (default the current one). Key Vault publishes no event for this. */
  setKeyEnabled(vault: string, key: string, enabled: boolean, version?: string): void;
  /** Waits for every event delivery under way; returns all deliveries so far (status 0 + error: not reachable). */
  flushEvents(): Promise<EventDelivery[]>;
  /** Back to the seeded state; journal, faults, LRO settings, latency and event subscriptions cleared. */
  reset(): void;
  close(): Promise<void>;
}

function seed(state: SimState, ctx: SeedContext): void {
  state.clear();
  for (const p of providers) p.seed?.(state, ctx);
}

function formatEndpoint(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  const tls: TlsMaterial & { caPath?: string } = opts.tlsDir ? await loadOrCreateTls(opts.tlsDir) : await generateTlsMaterial();
  const state = new SimState();
  // One seed time for the simulator's life, so reset() restores an identical tenant.
  const seedCtx: SeedContext = { nowSeconds: Math.floor(Date.now() / 1000) };
  seed(state, seedCtx);

  const door = new ArmFrontDoor(state, new Router(providers));
  const initialLatency = opts.latencyMs ?? 0;
  door.latencyMs = initialLatency;
  const initialLro: LroSettings = { ...DEFAULT_LRO_SETTINGS, ...opts.lro };
  door.lroSettings = { ...initialLro };
  door.throttle = opts.throttle;
  const server = https.createServer({ key: tls.key, cert: tls.cert }, door.handle);
  // Node closes an idle keep-alive connection after 5 s; a client that reuses it at that moment
  // gets ECONNRESET on a request that never arrived. ARM's front end keeps idle connections far
  // longer than the SDK's pooled sockets live, so the simulator does too.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const endpoint = formatEndpoint(host, (server.address() as AddressInfo).port);
  door.endpoint = endpoint;

  let closed: Promise<void> | undefined;
  return {
    endpoint,
    ca: tls.ca,
    ...(tls.caPath ? { caPath: tls.caPath } : {}),
    state,
    requests: door.requests,
    writes: () => door.requests.filter((r) => WRITE_METHODS.has(r.method)),
    setLatency: (ms) => {
      door.latencyMs = Math.max(0, ms);
    },
    injectFault: (f) => door.injectFault(f),
    onRequest: (l) => door.onRequest(l),
    setThrottle: (t) => {
      door.throttle = t;
    },
    get lro() {
      return { ...door.lroSettings };
    },
    setLro: (settings) => {
      door.lroSettings = { ...door.lroSettings, ...settings };
    },
    injectOperationFailure: (f = {}) => door.injectOperationFailure(f),
    setGraphPermission: (granted) => setGraphReadGranted(state, granted),
    deliverEventsTo: (url, o) => door.events.subscribe(url, o),
    emitKeyEvent: (type, vault, key, version) => door.events.publish(keyEventFor(state, type, vault, key, Date.now(), version)),
    rotateKey: (vault, key) => {
      const { version } = rotateKey(state, vault, key, Date.now());
      door.events.publish(keyEventFor(state, 'KeyNewVersionCreated', vault, key, Date.now(), version.name));
      return version.name;
    },
    setKeyEnabled: (vault, key, enabled, version) => {
      setKeyEnabled(state, vault, key, enabled, Date.now(), version);
    },
    flushEvents: () => door.events.flush(),
    reset: () => {
      seed(state, seedCtx);
      door.clear();
      door.events.clear();
      door.latencyMs = initialLatency;
      door.lroSettings = { ...initialLro };
      door.throttle = opts.throttle;
    },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
