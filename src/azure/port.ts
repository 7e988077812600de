// The ArmGateway port: the narrow surface of Azure Resource Manager the bot uses. Pure types and
// error classes — no SDK import — so targets/ and checks/ can depend on it and tests can fake it.

export interface ArmResource {
  id: string;
  name?: string;
  type?: string;
  location?: string;
  tags?: Record<string, string>;
  identity?: {
    type?: string;
    principalId?: string;
    tenantId?: string;
    userAssignedIdentities?: Record<string, { principalId?: string; clientId?: string }>;
  };
  // ARM `properties` bags are provider-specific; callers parse what they rely on with zod.
  properties?: Record<string, unknown>;
  [extra: string]: unknown;
}

export interface ArmCallRecord {
  method: string;
  path: string;
  apiVersion: string;
  status: number;
  correlationId?: string;
  requestId?: string;
  durationMs: number;
  errorCode?: string;
}

export interface ArmWriteResult<T = ArmResource> {
  status: number;
  body: T;
  correlationId?: string;
  requestId?: string;
  /** Set when the write was long-running: the URL that was polled to completion. */
  operationUrl?: string;
}

/** A long-running operation as ARM announced it: enough to follow it from another process. */
export interface StartedOperation {
  method: 'PUT' | 'PATCH';
  url: string;
  /** Azure-AsyncOperation (or Operation-Location), Location, or the resource's own provisioningState (a PUT with neither). */
  kind: 'azure-async-operation' | 'location' | 'body';
  correlationId?: string;
  /** The poller's state as @azure/core-lro serialises it (operation and final resource location): what a resume restores. */
  state?: string;
}

/** Where a long-running write's result is read once the operation succeeded (the spec's `final-state-via`). */
export type FinalStateVia = 'azure-async-operation' | 'location' | 'original-uri';

export interface WriteOptions {
  /** The operation's `final-state-via` from its REST spec (PATCH/POST; a PUT's result is the resource). Default: location. */
  finalStateVia?: FinalStateVia;
  /** Called once when ARM answers 201/202 with an operation to follow, before any polling — store it. */
  onOperation?: (op: StartedOperation) => Promise<void> | void;
  /** Called after each poll that is still running (progress on the card). */
  onProgress?: (status: string, polls: number) => Promise<void> | void;
  /**
   * Asked when the write's answer was lost (dropped connection, timeout, 408/5xx): did it land?
   * true → it is not sent again; false → it is retried. Without it such a write is not retried.
   */
  landed?: () => Promise<boolean>;
}

export interface ArmGateway {
  /** GET a resource (or any ARM path returning one object). Throws ArmError; 404 → code NotFound-ish with status 404. */
  get<T = ArmResource>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T>;
  /**
   * GET a resource that may not exist: 404 — and only 404 — is `undefined`. Every other failure
   * (403, 429 after retries, 5xx, a timeout) is thrown: it is not evidence that the resource is absent.
   */
  getOrNull<T = ArmResource>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T | undefined>;
  /** GET a collection, following nextLink. */
  list<T = ArmResource>(path: string, apiVersion: string, query?: Record<string, string>): Promise<T[]>;
  /**
   * Azure Resource Graph: every row of a query over the given subscriptions, all pages (skip
   * tokens) followed. A refused query (400 InvalidQuery, 403, throttled after retries) is thrown
   * as ArmError; so is a result Resource Graph truncated without a skip token, since an incomplete
   * inventory must not pass for a complete one.
   */
  resourceGraph<T = Record<string, unknown>>(query: string, subscriptions: string[], opts?: ResourceGraphOptions): Promise<T[]>;
  /** PUT, following a long-running operation to its end. */
  put<T = ArmResource>(path: string, apiVersion: string, body: unknown, opts?: WriteOptions): Promise<ArmWriteResult<T>>;
  /** PATCH, following a long-running operation to its end. */
  patch<T = ArmResource>(path: string, apiVersion: string, body: unknown, opts?: WriteOptions): Promise<ArmWriteResult<T>>;
  /** Resume following an operation started earlier (e.g. before a restart), then read the result. */
  resume<T = ArmResource>(op: StartedOperation, path: string, apiVersion: string, opts?: WriteOptions): Promise<ArmWriteResult<T>>;
  /**
   * Microsoft Graph: the ids of every group the principal (a managed identity's service principal)
   * belongs to, directly or transitively. 'forbidden': the bot lacks the Graph permission to read
   * memberships; 'unavailable': no Graph endpoint is configured (the simulator serves none). Optional:
   * a gateway without it cannot resolve groups, and callers treat that as 'unavailable'.
   */
  memberOf?(principalId: string): Promise<GroupMembership>;
  /** Every call made, for metrics. */
  onCall(listener: (call: ArmCallRecord) => void): () => void;
  /** A view of this gateway whose calls are also reported to `listener` — one request's audit trail. */
  scoped(listener: (call: ArmCallRecord) => void): ArmGateway;
}

export interface ResourceGraphOptions {
  /** Rows per page ($top): 1–1000 (Resource Graph's REST spec); default 1000. */
  pageSize?: number;
}

export type GroupMembership = string[] | 'forbidden' | 'unavailable';

/** An ARM failure carrying what a person needs to chase it: code, message, status, correlation id. */
export class ArmError extends Error {
  readonly isArmError = true;
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly correlationId?: string,
    readonly requestId?: string,
    readonly target?: string,
    /** Retry-After as ARM sent it with the error, if any. */
    readonly retryAfter?: string | null,
    /** error.details as Azure sent them (Resource Graph names the query's fault there: InvalidQuery, ParserFailure…). */
    readonly details?: ReadonlyArray<{ code: string; message: string }>,
  ) {
    super(message);
    this.name = 'ArmError';
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  get isForbidden(): boolean {
    return this.status === 403;
  }

  get isThrottled(): boolean {
    return this.status === 429;
  }

  /** One line for cards and logs: what failed and how to look it up. */
  describe(): string {
    const ids = this.correlationId ? ` (correlation id ${this.correlationId})` : '';
    return `${this.code}: ${this.message}${ids}`;
  }
}

/** The one place where "not found" becomes "absent": 404 → undefined, anything else is rethrown. */
export async function absentOn404<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (e) {
    if (isArmError(e) && e.isNotFound) return undefined;
    throw e;
  }
}

export function isArmError(e: unknown): e is ArmError {
  return typeof e === 'object' && e !== null && (e as { isArmError?: unknown }).isArmError === true;
}
