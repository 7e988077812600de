// Runs a set of checks over one subject: every check starts at once and waits only for the facts
// it declared; facts are read once per run. A check never throws into the conversation: a failed
// read becomes an `error` result carrying the ARM code and correlation id, and blocks like `fail`.
import type { ArmGateway } from '../azure/port';
import type { CheckResult } from '../domain/types';
import { FactLoader, FactUnavailable, type CmkSubject, type FactName, type Facts } from './facts';
import { readsOf, type Check, type CheckContext } from './types';

export interface RunOptions {
  now?: Date;
  expiryWarningDays?: number;
}

export async function runChecks(arm: ArmGateway, subject: CmkSubject, checks: readonly Check[], opts: RunOptions = {}): Promise<CheckResult[]> {
  const loader = new FactLoader(arm, subject, readsOf(checks));
  const ctx: CheckContext = { now: opts.now ?? new Date(), expiryWarningDays: opts.expiryWarningDays ?? 30, subject };
  return Promise.all(checks.map((c) => runOne(loader, c, ctx)));
}

async function runOne(loader: FactLoader, check: Check, ctx: CheckContext): Promise<CheckResult> {
  try {
    const values = await Promise.all(check.needs.map((n) => loader.get(n)));
    const facts = Object.fromEntries(check.needs.map((n, i) => [n, values[i]])) as Pick<Facts, FactName>;
    const verdict = check.evaluate(facts, ctx);
    return { id: check.id, title: check.title, ...verdict };
  } catch (e) {
    if (e instanceof FactUnavailable) {
      return {
        id: check.id,
        title: check.title,
        status: 'error',
        finding: `Could not read ${e.fact}: ${e.code} — ${e.message}`,
        evidence: { armCode: e.code, correlationId: e.correlationId ?? null },
        remedy: e.code === 'AuthorizationFailed' ? 'Give the bot’s identity Reader on that scope, then run the checks again.' : 'Run the checks again; if it persists, look the correlation id up in the Azure activity log.',
      };
    }
    return {
      id: check.id,
      title: check.title,
      status: 'error',
      finding: `The check could not be evaluated: ${(e as Error).message}`,
      evidence: {},
      remedy: 'Run the checks again; report it if it persists.',
    };
  }
}
