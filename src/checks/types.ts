import type { CheckResult } from '../domain/types';
import type { CmkSubject, FactName, Facts } from './facts';

export interface CheckContext {
  now: Date;
  expiryWarningDays: number;
  subject: CmkSubject;
}

export type Verdict = Omit<CheckResult, 'id' | 'title'>;

/** A check is a pure function of the facts it declares. */
export interface Check<N extends FactName = FactName> {
  id: string;
  title: string;
  needs: readonly N[];
  evaluate(facts: Pick<Facts, N>, ctx: CheckContext): Verdict;
}

export function defineCheck<N extends FactName>(c: Check<N>): Check<N> {
  return c;
}

export const pass = (finding: string, evidence: Verdict['evidence'] = {}): Verdict => ({ status: 'pass', finding, evidence });
export const fail = (finding: string, remedy: string, evidence: Verdict['evidence'] = {}): Verdict => ({ status: 'fail', finding, evidence, remedy });
export const warn = (finding: string, remedy: string, evidence: Verdict['evidence'] = {}): Verdict => ({ status: 'warn', finding, evidence, remedy });
export const info = (finding: string, evidence: Verdict['evidence'] = {}): Verdict => ({ status: 'info', finding, evidence });
