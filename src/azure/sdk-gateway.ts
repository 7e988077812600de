// ArmGateway on the real Azure SDK: @azure/arm-resources' ResourceManagementClient pipeline
// (bearer-token policy, retries, TLS, user agent) carries every call. We send exact JSON bodies
// through client.sendRequest so the payload approvers signed off is byte-for-byte what ARM gets,
// and follow long-running operations ourselves so the operation URL can be stored and resumed.
import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import { createHttpPoller, type LongRunningOperation, type LroResponse } from '@azure/core-lro';
import { bearerTokenAuthenticationPolicy, createEmptyPipeline, createDefaultHttpClient, createHttpHeaders, createPipelineRequest, type Pipeline, type HttpHeaders, type PipelineResponse, RestError } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential } from '@azure/identity';
import { randomUUID } from 'node:crypto';
import { absentOn404, ArmError, type ArmCallRecord, type ArmGateway, type GroupMembership, type FinalStateVia, type ArmWriteResult, type ResourceGraphOptions, type StartedOperation, type WriteOptions } from './port';
import { DEFAULT_RETRY, decideRetry, type RetryPolicy, ThrottlePacer, throttleScopeOf, waitForRetryAfterMs } from './retry';

export interface SdkGatewayOptions {
  endpoint: string;
  credential: TokenCredential;
  /** PEM of a CA to trust for this client only (the local simulator). Never process-wide. */
  ca?: string;
  /** Per attempt: a call that has not answered by then is abandoned (and retried when safe). */
  timeoutMs?: number;
  maxRetries?: number;
  retryDelayMs?: number;
  /** Slow down when ARM's remaining-requests headers say the budget is nearly spent (default on). */
  pacer?: ThrottlePacer | false;
  /** Poll interval when a long-running operation gives no Retry-After. ARM's SDK default is 2 s. */
  defaultPollMs?: number;
  maxPollMs?: number;
  /** How long a long-running operation may take before we stop following it (default 1 hour). */
  maxOperationMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Microsoft Graph's endpoint (https://graph.microsoft.com); unset: group memberships are 'unavailable'. */
  graphEndpoint?: string;
}

/** A credential for the local simulator, which accepts any bearer token. */
export function staticTokenCredential(token = 'local-simulator-token'): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
}

export function defaultAzureCredential(): TokenCredential {
  return new DefaultAzureCredential();
}

interface CallResult {
  status: number;
  body: unknown;
  headers: HttpHeaders;
  correlationId?: string;
  requestId?: string;
  /** The answer to a write was lost, but `landed()` found the change in place. */
  landedWithoutAnswer?: boolean;
}

/** One of our answers as core-lro reads it: status, lower-cased headers, parsed body. */
function toLroResponse(r: CallResult): LroResponse {
  return { flatResponse: r.body, rawResponse: { statusCode: r.status, headers: r.headers.toJSON(), body: r.body } };
}

/**
 * The poller state of an operation stored before `state` was kept (url and kind only), as core-lro
 * would have serialised it: the operation to poll, and where the result is read afterwards.
 */
function restoredState(op: StartedOperation, requestUrl: string, finalStateVia?: FinalStateVia): string {
  const mode = op.kind === 'azure-async-operation' ? 'OperationLocation' : op.kind === 'location' ? 'ResourceLocation' : 'Body';
  // As core-lro places it: a PUT's result is the resource; a PATCH's is Location (not stored here: the resource) unless final-state-via is the operation itself.
  const resourceLocation = mode !== 'OperationLocation' ? undefined : op.method === 'PATCH' && finalStateVia === 'azure-async-operation' ? undefined : requestUrl;
  return JSON.stringify({ state: { status: 'running', config: { metadata: { mode }, operationLocation: op.kind === 'body' ? requestUrl : op.url, resourceLocation } } });
}

// @azure/arm-resourcegraph 4 runs on @azure/ms-rest-js (v5 needs Node 22). Its HTTP client seam,
// typed from the client's own options so that package is not a dependency of ours.
type GraphClientOptions = NonNullable<ConstructorParameters<typeof ResourceGraphClient>[1]>;
type GraphHttpClient = NonNullable<GraphClientOptions['httpClient']>;
type GraphRequest = Parameters<GraphHttpClient['sendRequest']>[0];
type GraphResponse = Awaited<ReturnType<GraphHttpClient['sendRequest']>>;

/** QueryRequestOptions.$top's maximum (Resource Graph REST spec, stable/2021-03-01): our page size. */
export const RESOURCE_GRAPH_MAX_PAGE = 1000;
/** Subscriptions per query: Azure CLI and PowerShell send at most 1,000, and Resource Graph's troubleshooting guide says to batch above that. */
export const RESOURCE_GRAPH_MAX_SUBSCRIPTIONS = 1000;

export class SdkArmGateway implements ArmGateway {
  private readonly client: ResourceManagementClient;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Shared by this gateway and its scoped views. */
  private readonly listeners: Set<(c: ArmCallRecord) => void>;
  /** Set on a scoped view: its own extra listener. */
  private readonly own?: (c: ArmCallRecord) => void;
  private readonly retry: RetryPolicy;
  private readonly pacer?: ThrottlePacer;

  constructor(
    private readonly opts: SdkGatewayOptions,
    shared?: { client: ResourceManagementClient; listeners: Set<(c: ArmCallRecord) => void>; own: (c: ArmCallRecord) => void; pacer?: ThrottlePacer },
  ) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.retry = { ...DEFAULT_RETRY, maxRetries: opts.maxRetries ?? DEFAULT_RETRY.maxRetries, baseDelayMs: opts.retryDelayMs ?? DEFAULT_RETRY.baseDelayMs };
    if (shared) {
      this.client = shared.client;
      this.listeners = shared.listeners;
      this.own = shared.own;
      this.pacer = shared.pacer;
      return;
    }
    this.pacer = opts.pacer === false ? undefined : (opts.pacer ?? new ThrottlePacer());
    this.listeners = new Set();
    const endpoint = opts.endpoint.replace(/\/+$/, '');
    this.client = new ResourceManagementClient(opts.credential, {
      endpoint,
      $host: endpoint,
      tlsOptions: opts.ca ? { ca: opts.ca } : undefined,
      // Retries are ours (src/azure/retry.ts): the pipeline's would resend a write whose answer was
      // lost without looking whether it landed, and would not retry a timed-out read at all.
      retryOptions: { maxRetries: 0 },
      userAgentOptions: { userAgentPrefix: 'cmk-chatops' },
    });
  }

  private graph?: Pipeline;
  private graphQueries?: ResourceGraphClient;

  /**
   * Every row of a Resource Graph query, page after page ($skipToken), batched by 1,000
   * subscriptions. @azure/arm-resourcegraph's client writes the request and reads the answer; the
   * wire is this gateway's (token, TLS trust, timeout, our retries, onCall): see graphHttpClient.
   */
  async resourceGraph<T = Record<string, unknown>>(query: string, subscriptions: string[], opts?: ResourceGraphOptions): Promise<T[]> {
    const top = opts?.pageSize ?? RESOURCE_GRAPH_MAX_PAGE;
    if (!Number.isInteger(top) || top < 1 || top > RESOURCE_GRAPH_MAX_PAGE) throw new RangeError(`pageSize must be an integer from 1 to ${RESOURCE_GRAPH_MAX_PAGE}, not ${top}`);
    this.graphQueries ??= new ResourceGraphClient(
      // Signs nothing: the ResourceManagementClient pipeline that carries the call adds the bearer token.
      { signRequest: async (request) => request },
      { baseUri: this.client.$host, noRetryPolicy: true, httpClient: this.graphHttpClient(), userAgent: 'cmk-chatops' },
    );
    const rows: T[] = [];
    for (let at = 0; at < subscriptions.length; at += RESOURCE_GRAPH_MAX_SUBSCRIPTIONS) {
      const batch = subscriptions.slice(at, at + RESOURCE_GRAPH_MAX_SUBSCRIPTIONS);
      const seen = new Set<string>();
      let skipToken: string | undefined;
      do {
        const page = await this.graphQueries.resources({ subscriptions: batch, query, options: { top, skipToken, resultFormat: 'objectArray' } });
        const correlationId = page._response.headers.get('x-ms-correlation-request-id') ?? undefined;
        if (!Array.isArray(page.data)) throw new ArmError('UnexpectedResultFormat', 'Resource Graph answered without an array of rows.', page._response.status, correlationId);
        rows.push(...(page.data as T[]));
        if (page.skipToken && seen.has(page.skipToken)) throw new ArmError('SkipTokenRepeated', 'Resource Graph gave the same $skipToken twice; the inventory is incomplete.', page._response.status, correlationId);
        // Truncated without a way on (a query whose rows have no id): an incomplete inventory must not pass for a whole one.
        if (!page.skipToken && page.resultTruncated === 'true') throw new ArmError('ResultTruncated', 'Resource Graph truncated the result and gave no $skipToken to read the rest.', page._response.status, correlationId);
        skipToken = page.skipToken;
        if (skipToken) seen.add(skipToken);
      } while (skipToken);
    }
    return rows;
  }

  /** ms-rest-js's HTTP client seam: each request the Resource Graph client builds goes through callUrl. */
  private graphHttpClient(): GraphHttpClient {
    return {
      sendRequest: async (req: GraphRequest): Promise<GraphResponse> => {
        const url = new URL(req.url);
        const body: unknown = typeof req.body === 'string' ? JSON.parse(req.body) : req.body;
        // A query changes nothing: an unanswered one did not land, so it is asked again (408/5xx, resets, timeouts).
        const res = await this.callUrl(req.method, req.url, url.searchParams.get('api-version') ?? '', body, url.pathname, async () => false);
        // ms-rest-js's own header class (the request's), so its deserializer reads our answer as it reads its own.
        const Headers = req.headers.constructor as new (raw: Record<string, string>) => GraphResponse['headers'];
        return { request: req, status: res.status, headers: new Headers(res.headers.toJSON()), bodyAsText: res.body === undefined ? '' : JSON.stringify(res.body) };
      },
    };
  }

  /**
   * Transitive group memberships from Microsoft Graph (GET /v1.0/servicePrincipals/{id}/transitiveMemberOf/
   * microsoft.graph.group, following @odata.nextLink), with a Graph-scoped token. 403 → 'forbidden'.
   */
  async memberOf(principalId: string): Promise<GroupMembership> {
    const base = this.opts.graphEndpoint?.replace(/\/+$/, '');
    if (!base) return 'unavailable';
    if (!/^[0-9a-f-]{36}$/i.test(principalId)) throw new ArmError('InvalidPrincipalId', `Not an object id: ${principalId}`, 400);
    this.graph ??= (() => {
      const p = createEmptyPipeline();
      p.addPolicy(bearerTokenAuthenticationPolicy({ credential: this.opts.credential, scopes: `${base}/.default` }));
      return p;
    })();
    const client = createDefaultHttpClient();
    const groups: string[] = [];
    let url: string | undefined = `${base}/v1.0/servicePrincipals/${principalId}/transitiveMemberOf/microsoft.graph.group?$select=id`;
    for (let page = 0; url && page < 50; page++) {
      const req = createPipelineRequest({ url, method: 'GET', timeout: this.opts.timeoutMs ?? 30_000 });
      // createPipelineRequest does not take TLS settings from its options: set them on the request.
      if (this.opts.ca) req.tlsSettings = { ca: this.opts.ca };
      req.headers.set('accept', 'application/json');
      const res = await this.graph.sendRequest(client, req);
      if (res.status === 403) return 'forbidden';
      const body = (res.bodyAsText ? JSON.parse(res.bodyAsText) : {}) as { value?: Array<{ id?: string }>; '@odata.nextLink'?: string; error?: { code?: string; message?: string } };
      if (res.status >= 300)
        throw new ArmError(
          body.error?.code ?? 'GraphRequestFailed',
          body.error?.message ?? `Microsoft Graph answered ${res.status}`,
          res.status,
          res.headers.get('client-request-id') ?? undefined,
          res.headers.get('request-id') ?? undefined,
        );
      for (const g of body.value ?? []) if (g.id) groups.push(g.id);
      url = body['@odata.nextLink'];
    }
    return groups;
  }

  scoped(listener: (call: ArmCallRecord) => void): ArmGateway {
    return new SdkArmGateway(this.opts, { client: this.client, listeners: this.listeners, own: listener, pacer: this.pacer });
  }

  onCall(listener: (call: ArmCallRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async get<T>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T> {
    const res = await this.call('GET', path, apiVersion, undefined, query);
    return res.body as T;
  }

  getOrNull<T>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T | undefined> {
    return absentOn404(this.get<T>(path, apiVersion, query));
  }

  async list<T>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T[]> {
    const out: T[] = [];
    let page = await this.call('GET', path, apiVersion, undefined, query);
    for (let i = 0; i < 100; i++) {
      const body = page.body as { value?: T[]; nextLink?: string };
      out.push(...(body.value ?? []));
      if (!body.nextLink) break;
      page = await this.callUrl('GET', body.nextLink, apiVersion);
    }
    return out;
  }

  put<T>(path: string, apiVersion: string, body: unknown, opts?: WriteOptions): Promise<ArmWriteResult<T>> {
    return this.write<T>('PUT', path, apiVersion, body, opts);
  }

  patch<T>(path: string, apiVersion: string, body: unknown, opts?: WriteOptions): Promise<ArmWriteResult<T>> {
    return this.write<T>('PATCH', path, apiVersion, body, opts);
  }

  private async write<T>(method: 'PUT' | 'PATCH', path: string, apiVersion: string, body: unknown, opts?: WriteOptions): Promise<ArmWriteResult<T>> {
    const first = await this.call(method, path, apiVersion, body, undefined, opts?.landed);
    if (first.landedWithoutAnswer) {
      // The answer was lost but the resource shows the change: it is not sent again.
      const now = await this.call('GET', path, apiVersion);
      return { status: now.status, body: now.body as T, correlationId: first.correlationId, requestId: now.requestId ?? undefined };
    }
    // @azure/core-lro decides, as every Azure SDK client does, whether there is an operation to
    // follow: Azure-AsyncOperation / Operation-Location or Location on any success status (a 200
    // too), or a PUT's provisioningState; and where the result is read (final-state-via).
    const poll = this.lro(method, path, apiVersion, first);
    const poller = await createHttpPoller(poll.lro, { resourceLocationConfig: opts?.finalStateVia });
    if (poller.isDone()) {
      if (poller.getOperationState().status !== 'succeeded') throw this.operationError(poll.last(), poller.getOperationState().status);
      return { status: first.status, body: first.body as T, correlationId: first.correlationId, requestId: first.requestId };
    }
    const config = (JSON.parse(poller.toString()) as { state: { config: { operationLocation?: string; metadata?: { mode?: string } } } }).state.config;
    const kind = config.metadata?.mode === 'OperationLocation' ? 'azure-async-operation' : config.metadata?.mode === 'ResourceLocation' ? 'location' : 'body';
    const op: StartedOperation = { method, url: config.operationLocation ?? poll.requestUrl, kind, correlationId: first.correlationId, state: poller.toString() };
    await opts?.onOperation?.(op);
    return this.follow<T>(poller, poll, op, first.headers.get('retry-after'), opts);
  }

  async resume<T>(op: StartedOperation, path: string, apiVersion: string, opts?: WriteOptions): Promise<ArmWriteResult<T>> {
    const poll = this.lro(op.method, path, apiVersion, undefined);
    const poller = await createHttpPoller(poll.lro, { resourceLocationConfig: opts?.finalStateVia, restoreFrom: op.state ?? restoredState(op, poll.requestUrl, opts?.finalStateVia) });
    return this.follow<T>(poller, poll, op, '0', opts);
  }

  /** The operation as core-lro sees it: the initial answer we already have, and polls through our retries and pacing. */
  private lro(method: 'PUT' | 'PATCH', path: string, apiVersion: string, first: CallResult | undefined) {
    const requestUrl = this.urlOf(path, apiVersion);
    let last: CallResult | undefined = first;
    const lro: LongRunningOperation = {
      requestMethod: method,
      requestPath: requestUrl,
      sendInitialRequest: async () => {
        if (!first) throw new Error('a resumed operation has no initial request');
        return toLroResponse(first);
      },
      sendPollRequest: async (url: string) => {
        // A poll URL is used as ARM gave it (it carries its own api-version).
        last = await this.callUrl('GET', url, apiVersion, undefined, undefined, undefined);
        return toLroResponse(last);
      },
    };
    return { lro, requestUrl, last: () => last };
  }

  /** Poll to a terminal state with our clock and deadline; the result is where final-state-via says. */
  private async follow<T>(poller: Awaited<ReturnType<typeof createHttpPoller>>, poll: ReturnType<SdkArmGateway['lro']>, op: StartedOperation, retryAfter: string | null | undefined, opts?: WriteOptions): Promise<ArmWriteResult<T>> {
    let wait = this.pollDelay(retryAfter);
    const limit = this.opts.maxOperationMs ?? 3600_000;
    const deadline = Date.now() + limit;
    for (let polls = 1; !poller.isDone(); polls++) {
      if (Date.now() + wait > deadline) {
        throw new ArmError('OperationTimedOut', `Azure did not finish the operation within ${Math.round(limit / 60_000)} minutes; it may still finish. Check the resource, or follow ${op.url.split('?')[0]}.`, 0);
      }
      await this.sleep(wait);
      try {
        await poller.poll();
      } catch (e) {
        if (e instanceof ArmError) throw e;
        throw this.operationError(poll.last(), poller.getOperationState().status);
      }
      if (poller.isDone()) break;
      const last = poll.last();
      wait = this.pollDelay(last?.headers.get('retry-after'));
      const raw = String(
        (last?.body as { status?: unknown; properties?: { provisioningState?: unknown } } | undefined)?.status ?? (last?.body as { properties?: { provisioningState?: unknown } } | undefined)?.properties?.provisioningState ?? '',
      );
      await opts?.onProgress?.(raw || 'InProgress', polls);
    }
    if (poller.getOperationState().status !== 'succeeded') throw this.operationError(poll.last(), poller.getOperationState().status);
    const last = poll.last();
    return { status: last?.status ?? 200, body: poller.getResult() as T, correlationId: op.correlationId, requestId: last?.requestId ?? undefined, operationUrl: op.url };
  }

  /** An operation that ended Failed or Canceled, with Azure's own code and message from its last answer. */
  private operationError(last: CallResult | undefined, status: string): ArmError {
    const err = (last?.body as { error?: { code?: string; message?: string } } | undefined)?.error;
    return new ArmError(err?.code ?? (status === 'canceled' ? 'OperationCanceled' : 'OperationFailed'), err?.message ?? `The operation ended ${status}.`, 200, last?.correlationId, last?.requestId);
  }

  private pollDelay(retryAfter: string | undefined | null): number {
    const max = this.opts.maxPollMs ?? 60_000;
    const seconds = retryAfter !== undefined && retryAfter !== null && retryAfter !== '' ? Number(retryAfter) : NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, max);
    return this.opts.defaultPollMs ?? 2000;
  }

  private urlOf(path: string, apiVersion: string, query?: Record<string, string>): string {
    const url = new URL(this.client.$host + (path.startsWith('/') ? path : `/${path}`));
    url.searchParams.set('api-version', apiVersion);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    return url.toString();
  }

  private call(method: string, path: string, apiVersion: string, body?: unknown, query?: Record<string, string>, landed?: () => Promise<boolean>) {
    return this.callUrl(method, this.urlOf(path, apiVersion, query), apiVersion, body, path, landed);
  }

  /** One logical call: paced by the throttling budget, retried as src/azure/retry.ts decides. */
  private async callUrl(method: string, url: string, apiVersion: string, body?: unknown, pathForLog?: string, landed?: () => Promise<boolean>): Promise<CallResult> {
    // ARM's budget is per subscription: each subscription's calls wait only on its own bucket.
    const kind = ThrottlePacer.kindOf(method);
    const scope = throttleScopeOf(pathForLog ?? new URL(url).pathname);
    for (let attempt = 1; ; attempt++) {
      const pause = this.pacer?.reserve(kind, scope) ?? 0;
      if (pause > 0) await this.sleep(pause);
      try {
        return await this.send(method, url, apiVersion, body, pathForLog);
      } catch (e) {
        if (!(e instanceof ArmError)) throw e;
        const decision = decideRetry({ method, attempt, status: e.status, retryAfter: e.retryAfter }, this.retry);
        // Throttled: the whole subscription's bucket is empty, not just this call's turn — for as long
        // as ARM said (Retry-After, up to the longest we wait for one), whether or not this caller
        // tries again; else for our own backoff.
        const holdMs = waitForRetryAfterMs(e.retryAfter, this.retry) ?? (decision.retry !== false ? decision.delayMs : undefined);
        if (e.status === 429 && holdMs !== undefined) this.pacer?.holdFor(kind, scope, holdMs);
        if (decision.retry === false) throw e;
        if (decision.retry === 'if-not-landed') {
          if (!landed) throw e;
          await this.sleep(decision.delayMs);
          // Cannot tell (the look-up failed too): the original failure stands, and nothing is sent twice.
          const there = await landed().catch(() => {
            throw e;
          });
          if (there) return { status: 200, body: undefined, headers: createHttpHeaders(), correlationId: e.correlationId, requestId: e.requestId, landedWithoutAnswer: true };
          continue;
        }
        await this.sleep(decision.delayMs);
      }
    }
  }

  private async send(method: string, url: string, apiVersion: string, body?: unknown, pathForLog?: string): Promise<CallResult> {
    const started = Date.now();
    const request = createPipelineRequest({
      url,
      method: method as 'GET',
      timeout: this.opts.timeoutMs ?? 30_000,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    request.headers.set('accept', 'application/json');
    if (body !== undefined) request.headers.set('content-type', 'application/json; charset=utf-8');
    request.headers.set('x-ms-correlation-request-id', randomUUID());
    const logPath = pathForLog ?? new URL(url).pathname;
    let response: PipelineResponse;
    try {
      response = await this.client.sendRequest(request);
    } catch (e) {
      const timedOut = (e as Error).name === 'AbortError';
      const code = timedOut ? 'RequestTimeout' : e instanceof RestError ? (e.code ?? 'RequestFailed') : 'RequestFailed';
      const err = new ArmError(
        code,
        timedOut ? `Azure Resource Manager did not answer within ${request.timeout} ms.` : `Could not reach Azure Resource Manager: ${(e as Error).message}`,
        0,
        request.headers.get('x-ms-correlation-request-id'),
      );
      this.emit({ method, path: logPath, apiVersion, status: 0, correlationId: err.correlationId, durationMs: Date.now() - started, errorCode: code });
      throw err;
    }
    const correlationId = response.headers.get('x-ms-correlation-request-id') ?? request.headers.get('x-ms-correlation-request-id');
    const requestId = response.headers.get('x-ms-request-id');
    const kind = ThrottlePacer.kindOf(method);
    this.pacer?.observe(kind, response.headers.get(`x-ms-ratelimit-remaining-subscription-${kind}`), throttleScopeOf(logPath));
    let parsed: unknown = undefined;
    if (response.bodyAsText) {
      try {
        parsed = JSON.parse(response.bodyAsText);
      } catch {
        parsed = undefined;
      }
    }
    if (response.status >= 400) {
      const err = (parsed as { error?: { code?: string; message?: string; target?: string; details?: Array<{ code: string; message: string }> } } | undefined)?.error;
      const armErr = new ArmError(
        err?.code || `Http${response.status}`,
        err?.message || `Azure Resource Manager answered ${response.status}.`,
        response.status,
        correlationId,
        requestId,
        err?.target,
        response.headers.get('retry-after'),
        Array.isArray(err?.details) ? err.details : undefined,
      );
      this.emit({ method, path: logPath, apiVersion, status: response.status, correlationId, requestId, durationMs: Date.now() - started, errorCode: armErr.code });
      throw armErr;
    }
    this.emit({ method, path: logPath, apiVersion, status: response.status, correlationId, requestId, durationMs: Date.now() - started });
    return { status: response.status, body: parsed, headers: response.headers, correlationId, requestId };
  }

  private emit(call: ArmCallRecord) {
    for (const l of this.own ? [...this.listeners, this.own] : this.listeners) {
      try {
        l(call);
      } catch {
        // a listener's failure must never break an ARM call
      }
    }
  }
}
