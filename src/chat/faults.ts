// One mapping from a failure to what a person is told, for every channel: a refusal is shown as
// written (it names its remedy); an ARM error says what Azure answered; anything else is a fault,
// logged in full with a short reference the person can quote, and they see only that reference.
import { randomUUID } from 'node:crypto';
import { isArmError } from '../azure/port';
import type { ChangeRequest } from '../domain/types';
import { Refusal } from '../workflow/refusal';

type Log = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export type Failure =
  /** The person can fix it; `current` is the request as it is now when they acted on a stale view. */
  | { kind: 'refusal'; text: string; current?: ChangeRequest }
  /** Azure answered with an error (code and correlation id in the text). */
  | { kind: 'azure'; text: string }
  /** Our fault: the text carries a reference to the log line. */
  | { kind: 'fault'; text: string; reference: string };

/**
 * What to tell the person about `e`. `where` names the entry point in the log line
 * (e.g. "a Teams turn", "a Slack action"). Refusals are not logged: they are answers.
 */
export function describeFailure(e: unknown, log: Log, where = 'a chat handler'): Failure {
  if (e instanceof Refusal) return { kind: 'refusal', text: e.message, ...(e.current ? { current: e.current } : {}) };
  if (isArmError(e)) {
    log('warn', `ARM call failed during ${where}`, { code: e.code, status: e.status, correlationId: e.correlationId });
    return { kind: 'azure', text: `Azure answered with an error: ${e.describe()}` };
  }
  const reference = randomUUID().slice(0, 8);
  log('error', `unexpected failure in ${where}`, { ref: reference, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  return { kind: 'fault', reference, text: `Something went wrong on my side (reference ${reference}). Nothing was changed in Azure. Please try again.` };
}
