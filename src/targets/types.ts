// A CMK-capable resource type. Adding a service means adding one target module.
import type { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import type { Check } from '../checks/types';
import type { CmkSubject } from '../checks/facts';
import type { ArmWritePlan, ChangeScope, CheckResult } from '../domain/types';

export interface FormField {
  /** Key in the submitted data. */
  name: string;
  label: string;
}

export interface Target<P extends Record<string, unknown> = Record<string, unknown>> {
  type: string;
  displayName: string;
  /** ARM resource type, e.g. Microsoft.FluidRelay/fluidRelayServers. */
  resourceType: string;
  apiVersion: string;
  /** Parses a form submission; issues name fields by `FormField.name`. */
  schema: z.ZodType<P>;
  fields: readonly FormField[];
  resourceId(params: P): string;
  /** Reads what the plan depends on from ARM (e.g. the account's current identity) before planning. */
  prepare?(params: P, arm: ArmGateway): Promise<P>;
  plan(params: P): ArmWritePlan;
  /**
   * Every place the change touches (its blast radius): the resource (role "resource"), what it
   * relies on (identity, key vault, storage account) and what it reaches (Chaos selector targets).
   * Called before anything is read (`checks` empty) and again with the check results.
   */
  scopes(params: P, checks: CheckResult[]): ChangeScope[];
  subject(params: P): CmkSubject;
  /** The subject of a read-only review of an existing resource (`check <resource id>`). */
  reviewSubject(resource: ArmResource): CmkSubject;
  checks: readonly Check[];
  /** The checks of a read-only review of `resource` (`check <resource id>`); default `checks`. */
  reviewChecks?(resource: ArmResource): readonly Check[];
  /** The facts a person needs to recognise the change on its card. */
  summary(params: P): Array<{ title: string; value: string }>;
  /** Plain statements of what can never be undone once this change lands. */
  irreversible(params: P): string[];
  /** Compares what ARM reports after the write with what was approved. */
  verify(plan: ArmWritePlan, actual: ArmResource): CheckResult;
  /** The id of the verification check (e.g. fluidrelay.verify). */
  verifyCheckId: string;
  /** What "done" means for this change, in one sentence. */
  doneMessage(plan: ArmWritePlan): string;
  /** Evidence from check results that the approval is bound to (key version, principal id…). */
  digestEvidence(checks: CheckResult[]): Record<string, unknown>;
}

export type ParseOutcome<P> = { ok: true; params: P } | { ok: false; errors: Array<{ field: string; label: string; message: string }> };

export function parseForm<P extends Record<string, unknown>>(target: Target<P>, data: unknown): ParseOutcome<P> {
  const r = target.schema.safeParse(data);
  if (r.success) return { ok: true, params: r.data };
  const labels = new Map(target.fields.map((f) => [f.name, f.label]));
  return {
    ok: false,
    errors: r.error.issues.map((i) => {
      const field = String(i.path[0] ?? '');
      return { field, label: labels.get(field) ?? (field || 'form'), message: i.message };
    }),
  };
}
