// Channel-neutral domain types shared by workflow, targets, checks, store and chat.

export type Platform = 'teams' | 'slack';

export interface Actor {
  platform: Platform;
  /** The signed user id: the Entra object id in Teams, the user id in Slack. Empty when the platform gave none. */
  id: string;
  /** The Teams tenant id, or the Slack workspace (Enterprise Grid org) id, the activity was signed for. */
  tenant?: string;
  name: string;
  /** The channel's own user id when it differs from `id` (Teams: the 29:… id that card refresh needs). */
  channelUserId?: string;
}

export type RequestState = 'draft' | 'checked' | 'pending_approval' | 'approved' | 'executing' | 'verifying' | 'succeeded' | 'failed' | 'rejected' | 'cancelled' | 'expired';

export const TERMINAL_STATES: ReadonlySet<RequestState> = new Set(['succeeded', 'failed', 'rejected', 'cancelled', 'expired']);

export type CheckStatus = 'pass' | 'warn' | 'info' | 'fail' | 'error';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  /** One line in plain words. */
  finding: string;
  /** The ARM values the check looked at. */
  evidence: Record<string, string | number | boolean | null>;
  /** What a person can do about it (portal step or az command); empty when passing. */
  remedy?: string;
  /**
   * The change that fixes it, as a request of its own (`new <command>` with these form values): the
   * card offers *Fix this*, and the fix goes through checks, approvals and the audit like any change.
   */
  fix?: { command: string; values: Record<string, string>; /** The button's words; default "Fix this (new <command>)". */ label?: string };
}

export function blocks(r: CheckResult): boolean {
  return r.status === 'fail' || r.status === 'error';
}

export interface Approval {
  approver: Actor;
  decision: 'approved' | 'rejected';
  digest: string;
  reason?: string;
  at: string;
}

/** A place a change touches, as the policy and the card see it. */
export interface ChangeScope {
  /** What it is to the change: "resource", "key vault", "identity", "storage account", "selector target"… */
  role: string;
  /** An ARM resource id, or `/subscriptions/<id>` for a subscription-wide selector. */
  id: string;
  /** The change type the policy sees here, when not the request's: a fleet member's own target (and what it relies on). */
  targetType?: string;
}

export interface ArmWritePlan {
  method: 'PUT' | 'PATCH';
  resourceId: string;
  apiVersion: string;
  body: Record<string, unknown>;
  /** For a long-running write: where its result is read (the REST spec's final-state-via). */
  finalStateVia?: 'azure-async-operation' | 'location' | 'original-uri';
}

/**
 * One resource of a change across many (a key rotated everywhere it is used): its own target's
 * params and write, what the write changes, and the evidence its approval binds.
 */
export interface FleetMember {
  resourceId: string;
  /** The single-resource target that writes it (the one `rotate` opens for its type). */
  targetType: string;
  params: Record<string, unknown>;
  plan: ArmWritePlan;
  /** Each property the write changes, from its current value. */
  changes: Array<{ path: string; from: string; to: string }>;
  /** Its target's digest evidence over its checks (key version, principal id…): part of the request's digest. */
  evidence: Record<string, unknown>;
}

/** Where one member of a fleet stands after execution (also kept, as it happens, in the fleet_members table). */
export interface FleetOutcome {
  resourceId: string;
  status: 'verified' | 'failed';
  /** Azure's error code, or the verification's id, when it failed. */
  code?: string;
  message: string;
  correlationId?: string;
}

export interface ChangeRequest {
  id: string;
  targetType: string;
  /** The resource the change is about: the one written, or (a fleet) the key its members share. */
  resourceId: string;
  /** The validated form input, as the target's schema produced it. */
  params: Record<string, unknown>;
  /** The one ARM write of a single-resource change; absent for a fleet (`fleet`: one write per member). */
  plan?: ArmWritePlan;
  /** A change across many resources: every member with its own write, in the order they are written. */
  fleet?: { members: FleetMember[]; /** Resources found but left out, and why (already on the version…). */ skipped: Array<{ resourceId: string; reason: string }> };
  requester: Actor;
  /** Opaque, channel-owned reference so the bot can post later. */
  conversation: { platform: Platform; ref: unknown };
  cardMessageId?: string;
  digest: string;
  state: RequestState;
  checks: CheckResult[];
  approvals: Approval[];
  /** The most approvals any applicable rule needs (one person may count for several rules). */
  requiredApprovals: number;
  approvers: string[];
  /** Every policy rule that applies to the change (all scopes it touches), in policy order. */
  policyRules: string[];
  /** SHA-256 of the policy the request was made (or last re-evaluated) under. */
  policyHash: string;
  /** Where each applicable rule stands, under the policy as it was last applied. */
  standing?: Array<{ rule: string; required: number; counted: number; approvers: string[] }>;
  /** Set when the policy was applied again and approvals dropped out (shown on the card). */
  policyNote?: string;
  /** Every place the change touches: the resource, and what it relies on or reaches. */
  scopes: ChangeScope[];
  /** Can the change never be undone (extra approvals)? */
  irreversible: boolean;
  result?: { status: 'succeeded' | 'failed'; message: string; correlationId?: string; verification?: CheckResult[]; /** A fleet: each member's outcome. */ members?: FleetOutcome[] };
  /** For updates: each property the payload changes, from its current value. */
  changes?: Array<{ path: string; from: string; to: string }>;
  /** A long-running ARM operation in flight, stored before the first poll so a restart can follow it. */
  /** Same shape as the ARM port's StartedOperation (state: core-lro's serialised poller state). */
  operation?: { method: 'PUT' | 'PATCH'; url: string; kind: 'azure-async-operation' | 'location' | 'body'; correlationId?: string; state?: string };
  /**
   * The audit chain's head (seq and hash of the row) as the request's last audited change left it,
   * set by the store in the same transaction. A finished request's card shows it: an anchor kept
   * outside the database.
   */
  auditHead?: { seq: number; hash: string };
  /** A fix (*Fix this*): the blocked request it unblocks — checked again once this one is done. */
  unblocks?: string;
  /** Blocked: the fixes under way for it (their request ids). */
  waitingFor?: string[];
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  version: number;
}
