// A CMK-capable resource type. Adding a service means adding one target module.
import type { z } from 'zod';
import type { ArmGateway, ArmResource } from '../azure/port';
import type { Check } from '../checks/types';
import type { CmkSubject } from '../checks/facts';
import type { ArmWritePlan, ChangeScope, CheckResult } from '../domain/types';

import type { FormField } from './form';

export type { FormField } from './form';

/** The form's words: rendered as an Adaptive Card in Teams and a modal in Slack (chat/forms.ts). */
export interface FormText {
  /** Short title (a Slack modal title holds 24 characters). */
  title: string;
  /** The heading on the form; `{field}` is replaced by that field's value (e.g. the server's name). */
  heading: string;
  intro: string;
  submitLabel?: string;
}

/** How a person starts this target's form from a command. */
export interface Entry {
  /** `new <command>`: the word after `new`; absent when the target is reached otherwise (`rotate`). */
  command?: string;
  /** One line for `help`. */
  help: string;
  /**
   * `new <command> <resource id>` (or `--from <resource id>` when `flag` is set): the form starts from
   * an existing resource of this type.
   */
  startsFrom?: { resourceType: string; flag?: '--from'; usage: string };
  /** `rotate <resource id>` of this resource type opens this target's form. */
  rotates?: string;
}

/** What the form starts with for an existing resource: its values, or why this resource cannot be used. */
export type Prefill = { values: Record<string, string>; /** Said on the form (e.g. what it copies). */ note?: string } | { refusal: string };

/** What every target has, single or fleet: its words, its form and what a person sees of it. */
export interface FormTarget<P extends Record<string, unknown> = Record<string, unknown>> {
  type: string;
  displayName: string;
  /** The request card's title; default `<displayName> with a customer-managed key` (a remediation is not one). */
  cardTitle?: string;
  entry: Entry;
  form: FormText;
  /**
   * The form's values for an existing resource (`rotate <id>`, `new … --from <id>`). With `read`, the
   * resource is read first (and must exist); prefill gets it.
   */
  prefill?: { read: boolean; values(resourceId: string, resource?: ArmResource): Prefill };
  /** Parses a form submission; issues name fields by `FormField.name`. */
  schema: z.ZodType<P>;
  /** The form's fields, in order: kind, label, picker source and dependencies (the schema validates). */
  fields: readonly FormField[];
  /** The facts a person needs to recognise the change on its card. */
  summary(params: P): Array<{ title: string; value: string }>;
  /** Plain statements of what can never be undone once this change lands. */
  irreversible(params: P): string[];
  /** Evidence from check results that the approval is bound to (key version, principal id…). */
  digestEvidence(checks: CheckResult[]): Record<string, unknown>;
}

/** A resource of the inventory a fleet may take in: the watchdog's view of it. */
export interface FleetCandidate {
  id: string;
  type: string;
  /** The key it uses now (versioned or not). */
  keyUrl?: string;
  /** The user-assigned identity that reaches the key. */
  identityId?: string;
}

/**
 * A change across many resources (a key rotated everywhere it is used): the workflow finds the
 * candidates (the watchdog's inventory), and each member is planned, checked, written and verified
 * by the single target that `rotate`s its type. One request, one set of approvals, one write each.
 */
export interface FleetTarget<P extends Record<string, unknown> = Record<string, unknown>> extends FormTarget<P> {
  kind: 'fleet';
  /** What the request is about (the key's resource id): named on the card and in `list`. */
  resourceId(params: P): string;
  /** The resource types a member can have (each is changed by the target that `rotate`s it). */
  memberTypes: string[];
  /** Does this resource belong to the fleet (it uses the key)? Only ever asked of resources of `memberTypes`. */
  selects(params: P, candidate: FleetCandidate): boolean;
  /**
   * The member's form values for its own target, from the values that target starts with for it
   * (its prefill): or why it is left out (already where the change would take it).
   */
  memberValues(params: P, candidate: FleetCandidate, prefilled: Record<string, string>): { values: Record<string, string> } | { skip: string };
  /** What "done" means, in one sentence. */
  doneMessage(params: P, count: number): string;
  /** The form values of the same change for just these resources (*Retry the failed ones*). */
  retry(params: P, resourceIds: string[]): Record<string, string>;
  /** The most members one request may have (a card lists them all). */
  maxMembers: number;
  /** Where the members are looked for when the request narrows it: a subscription or resource group id as `azureScope` writes it (the subscription id lower-case). */
  within?(params: P): string | undefined;
}

export type AnyTarget = Target | FleetTarget;

export function isFleet(t: AnyTarget): t is FleetTarget {
  return 'kind' in t && t.kind === 'fleet';
}

/** A change to one resource: one ARM write, verified by reading it back. */
export interface Target<P extends Record<string, unknown> = Record<string, unknown>> extends FormTarget<P> {
  kind?: 'single';
  /** ARM resource type, e.g. Microsoft.FluidRelay/fluidRelayServers. */
  resourceType: string;
  apiVersion: string;
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
  /** false: `check <resource id>` never reviews with this target (a remediation changing one setting of the resource); default true. */
  reviews?: boolean;
  /** The checks of a read-only review of `resource` (`check <resource id>`); default `checks`. */
  reviewChecks?(resource: ArmResource): readonly Check[];
  /**
   * What verification (and the look before a resent write) reads instead of GET of the planned
   * resource: e.g. the role assignment found by listing its scope, or the vault an access-policy
   * write changed. Undefined: nothing there.
   */
  readBack?(plan: ArmWritePlan, arm: ArmGateway): Promise<ArmResource | undefined>;
  /**
   * A refusal of the write that means the approved change is in place already (409
   * RoleAssignmentExists): the executor goes on to verify instead of failing. Returns the note for
   * the audit trail, or undefined for a real refusal.
   */
  alreadyInPlace?(error: { status: number; code: string }): string | undefined;
  /** Compares what ARM reports after the write with what was approved. */
  verify(plan: ArmWritePlan, actual: ArmResource): CheckResult;
  /** The id of the verification check (e.g. fluidrelay.verify). */
  verifyCheckId: string;
  /** What "done" means for this change, in one sentence. */
  doneMessage(plan: ArmWritePlan): string;
}

export type ParseOutcome<P> = { ok: true; params: P } | { ok: false; errors: Array<{ field: string; label: string; message: string }> };

export function parseForm<P extends Record<string, unknown>>(target: FormTarget<P>, data: unknown): ParseOutcome<P> {
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
