// Long-running operations (ARM's async pattern) for providers whose writes are LROs.
//
// A write that starts an operation answers at once (201/202) with an `Azure-AsyncOperation`
// URL (`…/locations/{location}/operationStatuses/{id}`) and, for PATCH/DELETE, a `Location`
// URL (`…/locations/{location}/operationResults/{id}`), plus `Retry-After`. The operation is
// stored in the state like any resource (so `reset()` clears it and tests can look at it) and
// finishes after a number of polls of either URL (`LroSettings.pollsToComplete`; 0 finishes it
// inside the write itself). The provider's `finish` callback then applies the outcome (e.g.
// provisioningState Succeeded, or the deletion).
import { randomUUID } from 'node:crypto';
import type { ArmErrorDetail } from './errors';
import type { SimResource, SimState } from './state';

export interface LroSettings {
  /** Value of the `Retry-After` header (seconds) on the write and on every in-progress poll. Default 1. */
  retryAfterSeconds: number;
  /** How many polls (status or result URL) an operation takes: the Nth poll sees it finished. 0 = finished when the write answers. Default 2. */
  pollsToComplete: number;
}

export const DEFAULT_LRO_SETTINGS: LroSettings = { retryAfterSeconds: 1, pollsToComplete: 2 };

/** Makes the next matching operation end `Failed` instead of `Succeeded`. */
export interface OperationFailureSpec {
  /** Case-insensitive substring of the resource id (default: any). */
  resourceIdIncludes?: string;
  /** Only operations of this kind (default: any). */
  action?: OperationAction;
  /** error.code of the failed operation (default 'InternalServerError'). */
  code?: string;
  message?: string;
  /** HTTP status of the `Location` (operationResults) URL once failed (default 500). */
  status?: number;
  /** How many operations fail (default 1). */
  times?: number;
}

export interface OperationFailure {
  code: string;
  message: string;
  status: number;
}

/** What the front door gives handlers: the current settings and pending injected failures. */
export interface LroControl {
  readonly settings: LroSettings;
  takeFailure(resourceId: string, action: OperationAction): OperationFailure | undefined;
}

/** What the operation helpers use of a request's context (a provider's SimContext is one; not imported, as it imports this module). */
export interface LroContext {
  state: SimState;
  now(): number;
  endpoint: string;
  lro: LroControl;
}

export type OperationAction = 'create' | 'replace' | 'update' | 'delete';

export interface OperationProperties {
  resourceId: string;
  action: OperationAction;
  /** The non-terminal status reported while it runs (e.g. 'Creating'). */
  runningStatus: string;
  status: string;
  startTime: string;
  endTime?: string;
  pollsLeft: number;
  /** api-version of the write (the status URLs carry it). */
  apiVersion: string;
  failure?: OperationFailure;
  /** The resource as it was before an update, to restore if the update fails. */
  previous?: SimResource;
  /** Provider-specific data for `finish`. */
  extra?: Record<string, unknown>;
}

export type OperationResource = SimResource & { properties: OperationProperties };

export const TERMINAL_STATUSES = ['Succeeded', 'Failed', 'Canceled'];

export function isTerminal(op: OperationResource): boolean {
  return TERMINAL_STATUSES.includes(op.properties.status);
}

function operationType(namespace: string): string {
  return `${namespace}/locations/operationStatuses`;
}

export function operationStatusId(namespace: string, sub: string, location: string, operationId: string): string {
  return `/subscriptions/${sub}/providers/${namespace}/locations/${location}/operationStatuses/${operationId}`;
}

export function operationResultPath(namespace: string, sub: string, location: string, operationId: string): string {
  return `/subscriptions/${sub}/providers/${namespace}/locations/${location}/operationResults/${operationId}`;
}

export interface StartOperation {
  namespace: string;
  subscriptionId: string;
  location: string;
  resourceId: string;
  action: OperationAction;
  runningStatus: string;
  apiVersion: string;
  previous?: SimResource;
  extra?: Record<string, unknown>;
}

export type Finish = (state: SimState, op: OperationResource) => void;

/** Marks the operation terminal (Succeeded, or Failed with the injected error) and lets the provider apply it. */
export function completeOperation(state: SimState, op: OperationResource, finish: Finish, now: number): void {
  if (isTerminal(op)) return;
  op.properties.status = op.properties.failure ? 'Failed' : 'Succeeded';
  op.properties.endTime = new Date(now).toISOString();
  op.properties.pollsLeft = 0;
  finish(state, op);
}

/** The operations of a resource that have not finished. */
export function pendingOperations(state: SimState, namespace: string, resourceId: string): OperationResource[] {
  return (state.ofType(operationType(namespace)) as OperationResource[]).filter((op) => !isTerminal(op) && op.properties.resourceId.toLowerCase() === resourceId.toLowerCase());
}

/**
 * Records a new operation. Any unfinished operation on the same resource is finished first
 * (the simulator does not answer 409 for overlapping writes). With `pollsToComplete` 0 the new
 * operation finishes before the write answers.
 */
export function startOperation(ctx: LroContext, spec: StartOperation, finish: Finish): OperationResource {
  for (const earlier of pendingOperations(ctx.state, spec.namespace, spec.resourceId)) completeOperation(ctx.state, earlier, finish, ctx.now());
  const operationId = randomUUID();
  const op: OperationResource = {
    id: operationStatusId(spec.namespace, spec.subscriptionId, spec.location, operationId),
    name: operationId,
    type: operationType(spec.namespace),
    location: spec.location,
    properties: {
      resourceId: spec.resourceId,
      action: spec.action,
      runningStatus: spec.runningStatus,
      status: spec.runningStatus,
      startTime: new Date(ctx.now()).toISOString(),
      pollsLeft: Math.max(0, Math.floor(ctx.lro.settings.pollsToComplete)),
      apiVersion: spec.apiVersion,
      ...(spec.previous ? { previous: structuredClone(spec.previous) } : {}),
      ...(spec.extra ? { extra: spec.extra } : {}),
    },
  };
  const failure = ctx.lro.takeFailure(spec.resourceId, spec.action);
  if (failure) op.properties.failure = failure;
  ctx.state.put(op);
  if (op.properties.pollsLeft === 0) completeOperation(ctx.state, op, finish, ctx.now());
  return op;
}

/**
 * Azure finishes an operation whether or not anybody polls it: once the time a polling client
 * would have taken has passed (pollsToComplete × Retry-After, at least 100 ms per poll), a read of
 * the resource finds it finished.
 */
export function finishDueOperations(ctx: LroContext, namespace: string, resourceId: string, finish: Finish): void {
  const perPoll = Math.max(100, ctx.lro.settings.retryAfterSeconds * 1000);
  for (const op of pendingOperations(ctx.state, namespace, resourceId)) {
    const started = Date.parse(op.properties.startTime);
    if (ctx.now() - started >= Math.max(1, ctx.lro.settings.pollsToComplete) * perPoll) completeOperation(ctx.state, op, finish, ctx.now());
  }
}

/** One poll: counts down and finishes the operation on the last one. */
export function pollOperation(ctx: LroContext, op: OperationResource, finish: Finish): void {
  if (isTerminal(op)) return;
  op.properties.pollsLeft -= 1;
  if (op.properties.pollsLeft <= 0) completeOperation(ctx.state, op, finish, ctx.now());
}

function parseOperationId(opId: string): { sub: string; namespace: string; location: string; name: string } {
  const segs = opId.split('/').filter(Boolean);
  return { sub: segs[1]!, namespace: segs[3]!, location: segs[5]!, name: segs[7]! };
}

/** Headers of the write that started `op`: Azure-AsyncOperation (and Location for PATCH/DELETE) plus Retry-After. */
export function operationHeaders(ctx: LroContext, op: OperationResource, withLocation: boolean): Record<string, string> {
  const { sub, namespace, location, name } = parseOperationId(op.id);
  const q = `?api-version=${encodeURIComponent(op.properties.apiVersion)}`;
  const headers: Record<string, string> = {
    'azure-asyncoperation': `${ctx.endpoint}${operationStatusId(namespace, sub, location, name)}${q}`,
    'retry-after': String(Math.max(0, Math.floor(ctx.lro.settings.retryAfterSeconds))),
  };
  if (withLocation) headers['location'] = `${ctx.endpoint}${operationResultPath(namespace, sub, location, name)}${q}`;
  return headers;
}

/** The status body (common-types v5 OperationStatusResult): id, name, resourceId, status, startTime, endTime?, error?. */
export function operationStatusBody(op: OperationResource): Record<string, unknown> {
  const p = op.properties;
  const error: ArmErrorDetail | undefined = p.status === 'Failed' && p.failure ? { code: p.failure.code, message: p.failure.message } : undefined;
  return {
    id: op.id,
    name: op.name,
    resourceId: p.resourceId,
    status: p.status,
    startTime: p.startTime,
    ...(p.endTime ? { endTime: p.endTime } : {}),
    ...(p.status === 'Succeeded' ? { percentComplete: 100 } : {}),
    ...(error ? { error } : {}),
  };
}

/** Finds an operation by the `{sub}/{location}/{id}` of its status or result URL (location compared case-insensitively). */
export function findOperation(state: SimState, namespace: string, sub: string, location: string, operationId: string): OperationResource | undefined {
  return state.get(operationStatusId(namespace, sub, location, operationId)) as OperationResource | undefined;
}
