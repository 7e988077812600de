// Channel-neutral domain types shared by workflow, targets, checks, store and chat.

export type Platform = 'teams' | 'slack';

export interface Actor {
  platform: Platform;
  /** Stable user id: AAD object id in Teams (falls back to the channel user id), Slack user id. */
  id: string;
  name: string;
  /** The channel's own user id when it differs from `id` (Teams: the 29:… id that card refresh needs). */
  channelUserId?: string;
}

export type RequestState =
  | 'draft'
  | 'checked'
  | 'pending_approval'
  | 'approved'
  | 'executing'
  | 'verifying'
  | 'succeeded'
  | 'failed'
  | 'rejected'
  | 'cancelled'
  | 'expired';

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

export interface ArmWritePlan {
  method: 'PUT' | 'PATCH';
  resourceId: string;
  apiVersion: string;
  body: Record<string, unknown>;
}

export interface ChangeRequest {
  id: string;
  targetType: string;
  resourceId: string;
  /** The validated form input, as the target's schema produced it. */
  params: Record<string, unknown>;
  plan: ArmWritePlan;
  requester: Actor;
  /** Opaque, channel-owned reference so the bot can post later. */
  conversation: { platform: Platform; ref: unknown };
  cardMessageId?: string;
  digest: string;
  state: RequestState;
  checks: CheckResult[];
  approvals: Approval[];
  requiredApprovals: number;
  approvers: string[];
  policyRule: string;
  result?: { status: 'succeeded' | 'failed'; message: string; correlationId?: string; verification?: CheckResult[] };
  /** For updates: each property the payload changes, from its current value. */
  changes?: Array<{ path: string; from: string; to: string }>;
  /** A long-running ARM operation in flight, stored before the first poll so a restart can follow it. */
  operation?: { method: 'PUT' | 'PATCH'; url: string; kind: 'azure-async-operation' | 'location'; correlationId?: string };
  /**
   * The audit chain's head (seq and hash of the row) as the request's last audited change left it,
   * set by the store in the same transaction. A finished request's card shows it: an anchor kept
   * outside the database.
   */
  auditHead?: { seq: number; hash: string };
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
  version: number;
}
