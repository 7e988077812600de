// The blast radius of a change: every place it touches. The policy applies to each of them and
// the card lists them all. Pure over the form's values and the check results.
import type { ChangeScope, CheckResult } from '../domain/types';

/** The key's vault, as the checks found it (key.vault-found's evidence), when they have run. */
export function vaultScope(checks: CheckResult[]): ChangeScope[] {
  const id = checks.find((c) => c.id === 'key.vault-found')?.evidence.vaultId;
  return typeof id === 'string' && id.startsWith('/subscriptions/') ? [{ role: 'key vault', id }] : [];
}

/**
 * The resource, the identity it uses and the key's vault; duplicates (by role, id in any case and,
 * in a fleet, the member's change type) once.
 */
export function scopesOf(...groups: Array<ChangeScope[] | ChangeScope | undefined | false>): ChangeScope[] {
  const seen = new Set<string>();
  const out: ChangeScope[] = [];
  for (const g of groups.flatMap((x) => (x ? (Array.isArray(x) ? x : [x]) : []))) {
    const key = `${g.role}|${g.id.toLowerCase()}|${g.targetType ?? ''}`;
    if (!g.id || seen.has(key)) continue;
    seen.add(key);
    out.push(g);
  }
  return out;
}
