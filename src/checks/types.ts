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
// Remedy commands carry real values, never `<placeholder>`s: Teams drops anything that looks like
// an HTML tag from a card's text, which left `--name` without its value (test/integration/remedies.test.ts).
export const fail = (finding: string, remedy: string, evidence: Verdict['evidence'] = {}): Verdict => ({ status: 'fail', finding, evidence, remedy });
export const warn = (finding: string, remedy: string, evidence: Verdict['evidence'] = {}): Verdict => ({ status: 'warn', finding, evidence, remedy });
export const info = (finding: string, evidence: Verdict['evidence'] = {}): Verdict => ({ status: 'info', finding, evidence });

/** Managed HSM keys live in the HSM's own data plane, which ARM cannot read: say so, never pass silently. */
export function hsmUnverifiable(keyRef: { kind: string; vaultName: string; keyName: string } | null, what: string): Verdict | undefined {
  if (keyRef?.kind !== 'managedHsm') return undefined;
  return warn(
    `Cannot verify ${what} for Managed HSM ${keyRef.vaultName} through Azure Resource Manager.`,
    `Verify it in the HSM: az keyvault key show --hsm-name ${keyRef.vaultName} --name ${keyRef.keyName}; az keyvault role assignment list --hsm-name ${keyRef.vaultName}`,
    { hsm: keyRef.vaultName },
  );
}
