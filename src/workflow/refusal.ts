// A refusal the user can fix: shown verbatim, nothing was changed. Everything else is a fault.
import type { ChangeRequest } from '../domain/types';

export class Refusal extends Error {
  readonly code = 'refusal';
  /** When set, the person should see the request as it is now (e.g. a decision on a stale card). */
  current?: ChangeRequest;
  constructor(
    message: string,
    readonly fieldErrors: Array<{ field: string; label: string; message: string }> = [],
  ) {
    super(message);
  }
}

export function isRefusal(e: unknown): e is Refusal {
  return e instanceof Refusal;
}
