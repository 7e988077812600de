import type { CheckResult } from '../domain/types';
import type { CmkSubject, FactName, FactReads, Facts } from './facts';

export interface CheckContext {
  now: Date;
  expiryWarningDays: number;
  subject: CmkSubject;
}

export type Verdict = Omit<CheckResult, 'id' | 'title'>;

/**
 * What the request does to the resource: creates it, changes an existing one, or only looks at it
 * (`check <resource id>`). A check that judges differently for each is built for one of them.
 */
export type Change = 'create' | 'update' | 'review';

/** A check is a pure function of the facts it declares. */
export interface Check<N extends FactName = FactName> {
  id: string;
  title: string;
  needs: readonly N[];
  /** How the facts it needs are read (where the key comes from, the resource's api-version); see `reading`. */
  reads?: FactReads;
  evaluate(facts: Pick<Facts, N>, ctx: CheckContext): Verdict;
}

export function defineCheck<N extends FactName>(c: Check<N>): Check<N> {
  return c;
}

/** Both say how the same fact is read, and differently: one run cannot serve both. */
function readsConflict(a: FactReads, b: FactReads): keyof FactReads | undefined {
  if (a.key && b.key && a.key.from !== b.key.from) return 'key';
  if (a.resource && b.resource && (a.resource.apiVersion !== b.resource.apiVersion || a.resource.currentKeyUrlOf !== b.resource.currentKeyUrlOf)) return 'resource';
  return undefined;
}

/** What a set of checks asks of the fact reads, together; refuses checks that would need one fact read two ways. */
export function readsOf(checks: readonly Pick<Check, 'id' | 'reads'>[]): FactReads {
  const merged: FactReads = {};
  const by: Partial<Record<keyof FactReads, string>> = {};
  for (const c of checks) {
    if (!c.reads) continue;
    const clash = readsConflict(merged, c.reads);
    if (clash) throw new Error(`Checks ${by[clash]} and ${c.id} read the ${clash} differently; one run reads each fact one way.`);
    if (c.reads.key && !merged.key) [merged.key, by.key] = [c.reads.key, c.id];
    if (c.reads.resource && !merged.resource) [merged.resource, by.resource] = [c.reads.resource, c.id];
  }
  return merged;
}

/** The checks, each reading its facts as `reads` says (e.g. the key from the storage account). */
export function reading<C extends Check<FactName>>(reads: FactReads, checks: readonly C[]): C[] {
  return checks.map((c) => {
    const clash = c.reads && readsConflict(c.reads, reads);
    if (clash) throw new Error(`Check ${c.id} already reads the ${clash} another way.`);
    return { ...c, reads: { ...c.reads, ...reads } };
  });
}

export const pass = (finding: string, evidence: Verdict['evidence'] = {}): Verdict => ({ status: 'pass', finding, evidence });
// Remedy commands carry real values, never `<placeholder>`s: Teams drops anything that looks like
// an HTML tag from a card's text, which left `--name` without its value (test/integration/remedies.test.ts).
export const fail = (finding: string, remedy: string, evidence: Verdict['evidence'] = {}, fix?: Verdict['fix']): Verdict => ({ status: 'fail', finding, evidence, remedy, ...(fix ? { fix } : {}) });
export const warn = (finding: string, remedy: string, evidence: Verdict['evidence'] = {}, fix?: Verdict['fix']): Verdict => ({ status: 'warn', finding, evidence, remedy, ...(fix ? { fix } : {}) });
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
