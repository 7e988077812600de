// The request lifecycle: which event moves a request from which state to which, written out here
// as the product behaves (not read back from the module's table), and every other pair refused.
import { amend, isLifecycleConflict, LifecycleConflict, type LifecycleEvent, TRANSITIONS, transition } from '../../src/domain/lifecycle';
import type { RequestState } from '../../src/domain/types';
import { changeRequest } from '../fixtures/requests';

const STATES: RequestState[] = ['draft', 'checked', 'pending_approval', 'approved', 'executing', 'verifying', 'succeeded', 'failed', 'rejected', 'cancelled', 'expired'];

/** [from, event, to]: every move a request can make. */
const ALLOWED: Array<[RequestState, LifecycleEvent, RequestState]> = [
  ['draft', 'submitted', 'pending_approval'],
  ['draft', 'submitted_blocked', 'checked'],
  ['checked', 'rechecked', 'pending_approval'],
  ['pending_approval', 'rechecked', 'pending_approval'],
  ['checked', 'rechecked_blocked', 'checked'],
  ['pending_approval', 'rechecked_blocked', 'checked'],
  ['pending_approval', 'approval_counted', 'pending_approval'],
  ['pending_approval', 'approved', 'approved'],
  ['pending_approval', 'rejected', 'rejected'],
  ['checked', 'cancelled', 'cancelled'],
  ['pending_approval', 'cancelled', 'cancelled'],
  ['approved', 'cancelled', 'cancelled'],
  ['checked', 'expired', 'expired'],
  ['pending_approval', 'expired', 'expired'],
  ['approved', 'execution_started', 'executing'],
  ['executing', 'operation_started', 'executing'],
  ['executing', 'approvals_voided', 'pending_approval'],
  ['executing', 'stopped', 'failed'],
  ['executing', 'write_failed', 'failed'],
  ['executing', 'written', 'verifying'],
  ['verifying', 'verified', 'succeeded'],
  ['verifying', 'verification_failed', 'failed'],
];

const EVENTS = Object.keys(TRANSITIONS) as LifecycleEvent[];

describe('request lifecycle', () => {
  it('names every event the workflow uses, and no other', () => {
    expect(new Set(EVENTS)).toEqual(new Set(ALLOWED.map(([, e]) => e)));
  });

  it.each(ALLOWED)('%s --%s--> %s', (from, event, to) => {
    const req = changeRequest({ state: from });
    const next = transition(req, event, { digest: 'd2' });
    expect(next.state).toBe(to);
    expect(next.digest).toBe('d2');
    expect(req.state).toBe(from); // the request given is not changed
  });

  const refused = STATES.flatMap((s) => EVENTS.filter((e) => !ALLOWED.some(([f, ev]) => f === s && ev === e)).map((e) => [s, e] as [RequestState, LifecycleEvent]));
  it.each(refused)('%s refuses %s', (from, event) => {
    const req = changeRequest({ state: from });
    expect(() => transition(req, event)).toThrow(LifecycleConflict);
  });

  it('a finished request cannot be approved again, and the conflict says what it is', () => {
    const done = changeRequest({ id: 'CR-DONE22', state: 'succeeded' });
    let caught: unknown;
    try {
      transition(done, 'approved');
    } catch (e) {
      caught = e;
    }
    expect(isLifecycleConflict(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'lifecycle_conflict', requestId: 'CR-DONE22', state: 'succeeded', event: 'approved' });
    expect((caught as Error).message).toBe('CR-DONE22 is succeeded; "approved" applies only to pending_approval');
  });

  it('the terminal states leave by no event', () => {
    for (const s of ['succeeded', 'failed', 'rejected', 'cancelled', 'expired'] as const) {
      expect(EVENTS.filter((e) => TRANSITIONS[e].from.includes(s))).toEqual([]);
    }
  });

  it('a patch cannot carry a state, an id or a version past the table', () => {
    const req = changeRequest({ state: 'pending_approval' });
    const sneaky = { state: 'succeeded', id: 'CR-OTHER2', version: 99, digest: 'd3' } as never;
    expect(transition(req, 'approval_counted', sneaky)).toMatchObject({ state: 'pending_approval', id: req.id, version: req.version, digest: 'd3' });
    expect(amend(req, sneaky)).toMatchObject({ state: 'pending_approval', id: req.id, version: req.version, digest: 'd3' });
  });
});
