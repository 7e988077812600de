// The request lifecycle: which event may move a request from which state to which. Every state
// change in the workflow goes through `transition()`; a request that has moved on (another worker,
// a replica, the process before a restart) refuses the event with a LifecycleConflict.
import type { ChangeRequest, RequestState } from './types';

/** What happened to a request. Each event leads to exactly one state. */
export type LifecycleEvent =
  | 'submitted'
  | 'submitted_blocked'
  | 'rechecked'
  | 'rechecked_blocked'
  | 'approval_counted'
  | 'approved'
  | 'rejected'
  | 'cancelled'
  | 'expired'
  | 'execution_started'
  | 'operation_started'
  | 'approvals_voided'
  | 'stopped'
  | 'write_failed'
  | 'written'
  | 'verified'
  | 'verification_failed';

/** Waiting for approvals (or blocked by checks): may be checked again, cancelled, or expire. */
export const WAITING_STATES: readonly RequestState[] = ['checked', 'pending_approval'];
/** Between approval and its end: an execution job owns it. */
export const IN_FLIGHT_STATES: readonly RequestState[] = ['approved', 'executing', 'verifying'];

/** The transition table: for each event, the states it may leave and the one it enters. */
export const TRANSITIONS: Readonly<Record<LifecycleEvent, { from: readonly RequestState[]; to: RequestState }>> = {
  submitted: { from: ['draft'], to: 'pending_approval' },
  submitted_blocked: { from: ['draft'], to: 'checked' },
  rechecked: { from: WAITING_STATES, to: 'pending_approval' },
  rechecked_blocked: { from: WAITING_STATES, to: 'checked' },
  approval_counted: { from: ['pending_approval'], to: 'pending_approval' },
  approved: { from: ['pending_approval'], to: 'approved' },
  rejected: { from: ['pending_approval'], to: 'rejected' },
  cancelled: { from: ['checked', 'pending_approval', 'approved'], to: 'cancelled' },
  expired: { from: WAITING_STATES, to: 'expired' },
  execution_started: { from: ['approved'], to: 'executing' },
  // A long-running write is stored before its first poll; the request stays executing.
  operation_started: { from: ['executing'], to: 'executing' },
  // Right before the write: the evidence or the policy changed, and the approvals no longer suffice.
  approvals_voided: { from: ['executing'], to: 'pending_approval' },
  // Right before the write: a check now fails, or the policy no longer lets the requester ask.
  stopped: { from: ['executing'], to: 'failed' },
  write_failed: { from: ['executing'], to: 'failed' },
  written: { from: ['executing'], to: 'verifying' },
  verified: { from: ['verifying'], to: 'succeeded' },
  verification_failed: { from: ['verifying'], to: 'failed' },
};

/** What a transition may change besides the state (the state is the table's to decide). */
export type LifecyclePatch = Partial<Omit<ChangeRequest, 'state' | 'id' | 'version'>>;

/** The request is not in a state the event may leave: it moved on, or the event does not apply. */
export class LifecycleConflict extends Error {
  readonly code = 'lifecycle_conflict';
  constructor(
    readonly requestId: string,
    readonly state: RequestState,
    readonly event: LifecycleEvent,
  ) {
    super(`${requestId} is ${state}; "${event}" applies only to ${TRANSITIONS[event].from.join('/')}`);
  }
}

export function isLifecycleConflict(e: unknown): e is LifecycleConflict {
  return e instanceof LifecycleConflict || (e as { code?: unknown } | null)?.code === 'lifecycle_conflict';
}

/** May this event happen to a request in this state? */
export function canTransition(state: RequestState, event: LifecycleEvent): boolean {
  return TRANSITIONS[event].from.includes(state);
}

/** The state an event leads to. */
export function stateAfter(event: LifecycleEvent): RequestState {
  return TRANSITIONS[event].to;
}

/** The next request after `event`, with `patch` applied; throws LifecycleConflict when the event does not apply. */
export function transition(req: ChangeRequest, event: LifecycleEvent, patch: LifecyclePatch = {}): ChangeRequest {
  if (!canTransition(req.state, event)) throw new LifecycleConflict(req.id, req.state, event);
  return { ...req, ...withoutState(patch), state: TRANSITIONS[event].to };
}

/** A change that keeps the state (checks refreshed, the card's message id remembered). */
export function amend(req: ChangeRequest, patch: LifecyclePatch): ChangeRequest {
  return { ...req, ...withoutState(patch) };
}

/** A caller that slips a state into a patch (a cast, a spread of another request) does not get it through. */
function withoutState(patch: LifecyclePatch): LifecyclePatch {
  if (!('state' in patch) && !('id' in patch) && !('version' in patch)) return patch;
  const { state: _s, id: _i, version: _v, ...rest } = patch as LifecyclePatch & Partial<Pick<ChangeRequest, 'state' | 'id' | 'version'>>;
  return rest;
}
