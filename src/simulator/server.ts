// The ARM front door: authentication, api-version, routing, injected faults and latency,
// the standard response headers, and the request journal. Providers only see SimRequest.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRACKED_TYPES, unsupportedVersionError } from './api-versions';
import { registrationState } from './providers/resources';
import { ArmError, defaultFaultCode, isArmError } from './errors';
import { EventGridWebhooks } from './events';
import { DEFAULT_LRO_SETTINGS, type LroControl, type LroSettings, type OperationAction, type OperationFailure, type OperationFailureSpec } from './lro';
import type { SimContext, SimRequest, SimResponse } from './provider';
import type { Router } from './router';
import { SIM_BOT_PRINCIPAL_ID, SIM_TENANT_ID } from './seed-ids';
import type { SimState } from './state';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  body: unknown;
  status: number;
  at: number;
}

export interface FaultSpec {
  method?: string;
  pathIncludes?: string;
  /**
   * HTTP status to answer with; 0 drops the connection without an answer. Left out with
   * `delayMs`: the request is answered normally, late.
   */
  status?: number;
  /** Never answer: the connection stays open until the client gives up (a hung request). */
  hang?: boolean;
  /** Wait this long before answering (with `status`, or normally). */
  delayMs?: number;
  /** With a write fault: apply the write first, then fail the answer (the client cannot know it landed). */
  afterApply?: boolean;
  code?: string;
  message?: string;
  retryAfterSeconds?: number;
  /** How many matching requests fail (default 1; Infinity for all). */
  times?: number;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024; // ARM's request size limit
export const WRITE_METHODS: ReadonlySet<string> = new Set(['PUT', 'PATCH', 'DELETE', 'POST']);
const API_VERSION_FORMAT = /^\d{4}-\d{2}-\d{2}(-(preview|privatepreview|alpha|beta))?$/;
// Legacy per-hour ARM budgets; the headers count down from these and start over when spent.
const BUDGETS = { reads: 12000, writes: 1200, deletes: 15000 } as const;

type Outcome = SimResponse | 'drop' | 'hang';

/** ARM's throttling model: a token bucket per subscription for reads and for writes. */
export interface ThrottleSettings {
  reads: { burst: number; perSecond: number };
  writes: { burst: number; perSecond: number };
}

function headerRecord(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  // The journal is for asserting on requests, not for keeping credentials around.
  if (out['authorization']) out['authorization'] = out['authorization'].replace(/^(\S+)\s+.*$/, '$1 <redacted>');
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class ArmFrontDoor {
  readonly requests: RecordedRequest[] = [];
  /** Webhook subscriptions to Key Vault's events, and every delivery made. */
  readonly events = new EventGridWebhooks();
  latencyMs = 0;
  endpoint = '';
  lroSettings: LroSettings = { ...DEFAULT_LRO_SETTINGS };
  private faults: Array<FaultSpec & { remaining: number }> = [];
  private operationFailures: Array<OperationFailureSpec & { remaining: number }> = [];
  private readonly lro: LroControl = ((door: ArmFrontDoor): LroControl => ({
    get settings() {
      return door.lroSettings;
    },
    takeFailure: (resourceId, action) => door.takeOperationFailure(resourceId, action),
  }))(this);
  private readonly spent = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** When set, remaining-requests headers come from token buckets and an empty bucket answers 429. */
  throttle?: ThrottleSettings;
  private readonly listeners = new Set<(r: RecordedRequest) => void>();

  /** Called for every request as it arrives, before it is answered (tests: kill a client mid-call). */
  onRequest(listener: (r: RecordedRequest) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  constructor(
    private readonly state: SimState,
    private readonly router: Router,
  ) {}

  injectFault(f: FaultSpec): void {
    this.faults.push({ ...f, remaining: f.times ?? 1 });
  }

  injectOperationFailure(f: OperationFailureSpec): void {
    this.operationFailures.push({ ...f, remaining: f.times ?? 1 });
  }

  /** Clears the journal, pending faults (request and operation ones) and rate-limit counters. */
  clear(): void {
    this.requests.length = 0;
    this.faults = [];
    this.operationFailures = [];
    this.spent.clear();
    this.buckets.clear();
  }

  private takeOperationFailure(resourceId: string, action: OperationAction): OperationFailure | undefined {
    const id = resourceId.toLowerCase();
    const f = this.operationFailures.find((x) => x.remaining > 0 && (!x.action || x.action === action) && (!x.resourceIdIncludes || id.includes(x.resourceIdIncludes.toLowerCase())));
    if (!f) return undefined;
    f.remaining -= 1;
    if (f.remaining <= 0) this.operationFailures = this.operationFailures.filter((x) => x !== f);
    return { code: f.code ?? 'InternalServerError', message: f.message ?? 'The operation failed (injected failure).', status: f.status ?? 500 };
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res).catch((e: unknown) => {
      console.error('[simulator] request failed', e);
      if (!res.headersSent) res.writeHead(500).end();
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Not new URL(): a doubled leading slash (SDKs' getById with an id starting with '/') would parse as a host.
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const rawPath = q < 0 ? target : target.slice(0, q);
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      path = rawPath;
    }
    const query: Record<string, string> = {};
    new URLSearchParams(q < 0 ? '' : target.slice(q + 1)).forEach((v, k) => (query[k] = v));
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = headerRecord(req);
    const raw = await readBody(req);

    let body: unknown;
    let bodyError: string | undefined;
    if (raw !== 'too-large' && raw.length > 0) {
      const text = raw.toString('utf8');
      try {
        body = JSON.parse(text);
      } catch (e) {
        body = text;
        bodyError = (e as Error).message;
      }
    }
    const record: RecordedRequest = { method, path, query, headers, body, status: 0, at: Date.now() };
    this.requests.push(record);
    for (const l of this.listeners) {
      try {
        l(record);
      } catch {
        // a test hook's failure is not the simulator's
      }
    }

    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));

    let outcome: Outcome;
    try {
      outcome = raw === 'too-large' ? { status: 413, body: new ArmError(413, 'RequestEntityTooLarge', 'The request content exceeds the maximum size of 4 MB.').toBody() } : await this.respond(method, path, query, headers, body, bodyError);
    } catch (e) {
      if (isArmError(e)) outcome = { status: e.status, body: e.toBody(), headers: e.headers };
      else {
        console.error('[simulator] unexpected error', e);
        outcome = { status: 500, body: new ArmError(500, 'InternalServerError', `The simulator failed: ${(e as Error).message}`).toBody() };
      }
    }

    if (outcome === 'drop') {
      record.status = 0;
      req.socket.destroy();
      return;
    }
    if (outcome === 'hang') {
      record.status = -1; // never answered; the socket closes when the client gives up or the simulator stops
      return;
    }
    record.status = outcome.status;
    this.write(res, method, path, headers, outcome);
  }

  private async respond(method: string, path: string, query: Record<string, string>, headers: Record<string, string | undefined>, body: unknown, bodyError: string | undefined): Promise<Outcome> {
    const auth = headers['authorization'];
    if (!auth || !/^Bearer\s+\S+/i.test(auth)) {
      const missing = !auth;
      throw new ArmError(
        401,
        missing ? 'AuthenticationFailed' : 'InvalidAuthenticationToken',
        missing ? "Authentication failed. The 'Authorization' header is missing." : "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        {
          headers: {
            'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${SIM_TENANT_ID}", error="invalid_token", error_description="The authentication failed because of ${missing ? 'missing' : 'malformed'} 'Authorization' header."`,
          },
        },
      );
    }

    const fault = this.takeFault(method, path);
    if (fault?.hang) return 'hang';
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault && fault.status !== undefined && !fault.afterApply) return this.faultOutcome(fault);
    const throttled = this.takeToken(method, path);
    if (throttled) throw throttled;
    const out = this.route(method, path, query, headers, body, bodyError);
    // The write happened; only its answer is lost or wrong.
    if (fault && fault.status !== undefined && fault.afterApply) return this.faultOutcome(fault);
    return out;
  }

  private faultOutcome(fault: FaultSpec): Outcome {
    if (fault.status === 0) return 'drop';
    const d = defaultFaultCode(fault.status!);
    throw new ArmError(fault.status!, fault.code ?? d.code, fault.message ?? d.message, {
      headers: fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : undefined,
    });
  }

  /** With throttling on: take a token from the subscription's bucket, or the 429 ARM would answer. */
  private takeToken(method: string, path: string): ArmError | undefined {
    if (!this.throttle) return undefined;
    const kind = WRITE_METHODS.has(method) ? 'writes' : 'reads';
    const spec = this.throttle[kind];
    const b = this.bucket(path, kind);
    if (b.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / spec.perSecond));
      return new ArmError(429, 'SubscriptionRequestsThrottled', `Number of '${kind === 'reads' ? 'read' : 'write'}' requests for subscription exceeded the limit of '${spec.burst}' for time interval.`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    b.tokens -= 1;
    return undefined;
  }

  private bucket(path: string, kind: 'reads' | 'writes'): { tokens: number; at: number } {
    const spec = this.throttle![kind];
    const segs = path.split('/').filter(Boolean);
    const k = `${segs[0]?.toLowerCase() === 'subscriptions' ? (segs[1] ?? '').toLowerCase() : 'tenant'}:${kind}`;
    const now = Date.now();
    const b = this.buckets.get(k) ?? { tokens: spec.burst, at: now };
    b.tokens = Math.min(spec.burst, b.tokens + ((now - b.at) / 1000) * spec.perSecond);
    b.at = now;
    this.buckets.set(k, b);
    return b;
  }

  private route(method: string, path: string, query: Record<string, string>, headers: Record<string, string | undefined>, body: unknown, bodyError: string | undefined): Outcome {
    const segments = path.split('/').filter(Boolean);
    const routeMethod = method === 'HEAD' ? 'GET' : method;
    // Microsoft Graph (/v1.0/…) has no api-version: its version is the path's first segment.
    if (segments[0]?.toLowerCase() === 'v1.0') return this.graphRoute(routeMethod, path, segments, query, headers, body);

    const apiVersion = query['api-version'];
    if (apiVersion === undefined || apiVersion === '') {
      throw new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }

    const match = this.router.resolve(routeMethod, segments, apiVersion);
    const accepted = match.route.apiVersions ?? match.provider.apiVersions;
    const supported = accepted === 'any' ? 'any yyyy-mm-dd[-preview] version' : accepted.join(', ');
    if (!API_VERSION_FORMAT.test(apiVersion)) {
      throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${apiVersion}' is invalid. The supported versions are '${supported}'.`);
    }
    if (accepted !== 'any' && !accepted.includes(apiVersion)) {
      const type = match.route.resourceType ?? segments[segments.length - 1] ?? '';
      const kind = match.route.apiVersionKind ?? (match.provider.namespace === 'Microsoft.Resources' ? 'arm' : TRACKED_TYPES.has(type.toLowerCase()) ? 'tracked' : 'proxy');
      const e = unsupportedVersionError(kind, { namespace: match.provider.namespace, type, apiVersion, supported: accepted, location: kind === 'tracked' ? this.routingLocation(method, path, body) : undefined });
      throw new ArmError(e.status, e.code, e.message);
    }
    if (bodyError !== undefined && WRITE_METHODS.has(method)) {
      throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${bodyError}'.`);
    }

    // ARM refuses a write to a resource provider the subscription has not registered.
    if (WRITE_METHODS.has(method) && match.provider.namespace !== 'Microsoft.Resources' && segments[0]?.toLowerCase() === 'subscriptions' && segments[1]) {
      const ns = match.provider.namespace;
      if (this.state.has(`/subscriptions/${segments[1]}`) && registrationState(this.state, segments[1], ns) !== 'Registered') {
        const message = `The subscription is not registered to use namespace '${ns}'. See https://aka.ms/rps-not-found for how to register subscriptions.`;
        throw new ArmError(409, 'MissingSubscriptionRegistration', message, { details: [{ code: 'MissingSubscriptionRegistration', target: ns, message }] });
      }
    }
    const simReq: SimRequest = { method: routeMethod, path, segments, params: match.params, query, headers, body, apiVersion };
    const ctx: SimContext = { state: this.state, now: () => Date.now(), endpoint: this.endpoint, caller: SIM_BOT_PRINCIPAL_ID, lro: this.lro, events: this.events };
    const out = match.route.handler(simReq, ctx);
    if (method === 'HEAD') return { status: out.status >= 200 && out.status < 300 ? 204 : out.status, headers: out.headers };
    return out;
  }

  private graphRoute(method: string, path: string, segments: string[], query: Record<string, string>, headers: Record<string, string | undefined>, body: unknown): Outcome {
    let match;
    try {
      match = this.router.resolve(method, segments, '');
    } catch {
      return { status: 400, body: { error: { code: 'BadRequest', message: `Resource not found for the segment '${segments[1] ?? ''}'.` } } };
    }
    const simReq: SimRequest = { method, path, segments, params: match.params, query, headers, body, apiVersion: '' };
    const ctx: SimContext = { state: this.state, now: () => Date.now(), endpoint: this.endpoint, caller: SIM_BOT_PRINCIPAL_ID, lro: this.lro, events: this.events };
    return match.route.handler(simReq, ctx);
  }

  /** Where ARM routes a request for a tracked type: the body's location (PUT), the resource's, or its group's. */
  private routingLocation(method: string, path: string, body: unknown): string {
    const fromBody = method === 'PUT' && typeof (body as { location?: unknown } | undefined)?.location === 'string' ? (body as { location: string }).location : undefined;
    if (fromBody) return fromBody.replace(/\s+/g, '').toLowerCase();
    const existing = this.state.get(path);
    if (existing?.location) return existing.location;
    const segs = path.split('/').filter(Boolean);
    const rg = segs.length >= 4 && segs[2]!.toLowerCase() === 'resourcegroups' ? this.state.get(`/subscriptions/${segs[1]}/resourceGroups/${segs[3]}`) : undefined;
    return rg?.location ?? 'eastus';
  }

  private takeFault(method: string, path: string): FaultSpec | undefined {
    const lowerPath = path.toLowerCase();
    const fault = this.faults.find((f) => f.remaining > 0 && (!f.method || f.method.toUpperCase() === method) && (!f.pathIncludes || lowerPath.includes(f.pathIncludes.toLowerCase())));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  private remaining(bucket: string, kind: keyof typeof BUDGETS, path: string): number {
    if (this.throttle && kind !== 'deletes') return Math.floor(this.bucket(path, kind).tokens);
    const k = `${bucket}:${kind}`;
    const spent = ((this.spent.get(k) ?? 0) % BUDGETS[kind]) + 1;
    this.spent.set(k, spent);
    return BUDGETS[kind] - spent;
  }

  private write(res: ServerResponse, method: string, path: string, reqHeaders: Record<string, string | undefined>, out: SimResponse): void {
    const correlation = reqHeaders['x-ms-correlation-request-id'] ?? randomUUID();
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const headers: Record<string, string> = {
      'cache-control': 'no-cache',
      pragma: 'no-cache',
      expires: '-1',
      'x-ms-request-id': randomUUID(),
      'x-ms-correlation-request-id': correlation,
      'x-ms-routing-request-id': `EASTUS:${stamp}:${correlation}`,
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
    };
    const segs = path.split('/').filter(Boolean);
    const sub = segs[0]?.toLowerCase() === 'subscriptions' && segs[1] ? segs[1].toLowerCase() : undefined;
    const scope = sub ? 'subscription' : 'tenant';
    const bucket = sub ?? 'tenant';
    if (WRITE_METHODS.has(method)) {
      headers[`x-ms-ratelimit-remaining-${scope}-writes`] = String(this.remaining(bucket, 'writes', path));
      if (method === 'DELETE') headers[`x-ms-ratelimit-remaining-${scope}-deletes`] = String(this.remaining(bucket, 'deletes', path));
    } else {
      headers[`x-ms-ratelimit-remaining-${scope}-reads`] = String(this.remaining(bucket, 'reads', path));
    }
    Object.assign(headers, out.headers);
    const payload = out.body === undefined || method === 'HEAD' ? undefined : Buffer.from(JSON.stringify(out.body), 'utf8');
    if (payload) headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = String(payload?.length ?? 0);
    res.writeHead(out.status, headers);
    res.end(payload);
  }
}
