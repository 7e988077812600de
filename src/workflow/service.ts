// The channel-neutral workflow: submission → checks → approvals → execution → verification.
// Teams and Slack call these methods and render what they return; nothing here knows a channel.
// `Workflow` is a thin facade: each use case lives in its own module over a shared context.
import type { ArmResource } from '../azure/port';
import type { Actor, ChangeRequest, CheckResult } from '../domain/types';
import type { TargetRegistry } from '../targets';
import type { AnyTarget, Target } from '../targets/types';
import { admit, targetOf } from './access';
import { type Place, WorkflowContext, type WorkflowDeps } from './context';
import { cancel, decide } from './decisions';
import { execute, drive, executeJobDefinition, recover } from './execution';
import { expireDue } from './expiry';
import { JobRegistry } from './job-registry';
import { cardJobDefinition, postJobDefinition } from './notifications';
import type { Policy } from './policy';
import { canSee, getRequest, list, readExisting, review, roleOf, trail, view } from './queries';
import { recheck, recheckJobDefinition, submit, type SubmitOutcome } from './submission';

// The names the channels and the rest of the app import from here.
export type { ChatNotifier, Place, WorkflowDeps } from './context';
export { Refusal } from './refusal';
export type { SubmitOutcome } from './submission';
export { cardJob, chatLane, JOB, postJob } from './notifications';
export { executeJob } from './execution';
export { approvalsFor, computeDigest, conversationIdOf, MAX_SHOWN_PAYLOAD_CHARS, MAX_SHOWN_SCOPES, policyScopeOf, recording, sameAccount, sameConversation, summarize } from './request-helpers';
export { stateWords } from './texts';
export { irreversibleOf } from './fleet';

export class Workflow {
  private readonly ctx: WorkflowContext;

  constructor(deps: WorkflowDeps) {
    this.ctx = new WorkflowContext(deps);
    const registry = deps.registry ?? new JobRegistry(deps.log);
    registry.define(cardJobDefinition(this.ctx), postJobDefinition(this.ctx), executeJobDefinition(this.ctx), recheckJobDefinition(this.ctx));
    // Given a registry, the caller wires it once with every channel's kinds; without one, this is ours.
    if (!deps.registry) registry.wire(deps.queue);
  }

  /** Put another policy in force (a reload): later decisions and the check before each write use it. */
  setPolicy(policy: Policy): void {
    this.ctx.policy = policy;
  }

  /** Every completed check run (metrics). */
  onChecks(listener: (results: CheckResult[]) => void): void {
    this.ctx.onChecks(listener);
  }

  /** The targets this workflow serves. */
  get targets(): TargetRegistry {
    return this.ctx.targets;
  }

  target(type: string): AnyTarget {
    return targetOf(this.ctx, type);
  }

  /**
   * Who is this? Only what the platform signed identifies a person: a tenant (workspace) the policy
   * admits and a user id. Anything else is refused before it is looked at.
   */
  admit(actor: Actor): void {
    admit(this.ctx, actor);
  }

  /** `unblocks`: the blocked request this one fixes (*Fix this*); it is checked again when this one is done. */
  submit(actor: Actor, conversation: ChangeRequest['conversation'], targetType: string, data: unknown, cardMessageId?: string, opts: { unblocks?: string } = {}): Promise<SubmitOutcome> {
    return submit(this.ctx, actor, conversation, targetType, data, cardMessageId, opts);
  }

  /** A request by id, with expiry applied. */
  get(id: string): Promise<ChangeRequest> {
    return getRequest(this.ctx, id);
  }

  /** May this person see this request from where they are? */
  canSee(req: ChangeRequest, actor: Actor, place: Place): boolean {
    return canSee(this.ctx, req, actor, place);
  }

  /** A request as the asker may see it (`status`, card refresh): refused when they may not. */
  view(id: string, actor: Actor, place: Place): Promise<ChangeRequest> {
    return view(this.ctx, id, actor, place);
  }

  /** `check <request id>`: run the checks of a waiting request again; changed evidence voids approvals. */
  recheck(id: string, actor: Actor, place: Place): Promise<ChangeRequest> {
    return recheck(this.ctx, id, actor, place);
  }

  /** `check <resource id>`: a read-only review of an existing resource. */
  review(resourceId: string, actor: Actor): Promise<{ target: Target; resource: ArmResource; checks: CheckResult[]; keyUrl: string }> {
    return review(this.ctx, resourceId, actor);
  }

  /** Approve or reject; a Refusal (nothing changed) when the actor may not decide now, or here. */
  decide(id: string, actor: Actor, decision: 'approved' | 'rejected', opts: { reason?: string; digest?: string; place: Place }): Promise<ChangeRequest> {
    return decide(this.ctx, id, actor, decision, opts);
  }

  /** A target's form values for an existing resource (`rotate <id>`, `new … --from <id>`), for people the policy names for it. */
  readExisting(resourceId: string, targetType: string, actor: Actor): Promise<{ values: Record<string, string>; note: string }> {
    return readExisting(this.ctx, resourceId, targetType, actor);
  }

  /** How the actor relates to the request: decides which card view they get. */
  roleOf(req: ChangeRequest, actor: Pick<Actor, 'platform' | 'id' | 'tenant'>): 'requester' | 'approver' | 'other' {
    return roleOf(this.ctx, req, actor);
  }

  /** The requester may cancel until execution starts. */
  cancel(id: string, actor: Actor): Promise<ChangeRequest> {
    return cancel(this.ctx, id, actor);
  }

  /** End every waiting request whose time is up (run periodically; each expiry is announced once). */
  expireDue(): Promise<number> {
    return expireDue(this.ctx);
  }

  /** `list pending` / `list mine`: only requests the asker may see from where they ask. */
  list(actor: Actor, which: 'pending' | 'mine', place: Place): Promise<ChangeRequest[]> {
    return list(this.ctx, actor, which, place);
  }

  trail(id: string, actor: Actor, place: Place) {
    return trail(this.ctx, id, actor, place);
  }

  /** The durable execution job: takes the request from wherever it stands to its end. */
  drive(id: string): Promise<ChangeRequest | undefined> {
    return drive(this.ctx, id);
  }

  /** Runs once per request: approved → executing is taken under a row lock. */
  execute(id: string): Promise<ChangeRequest | undefined> {
    return execute(this.ctx, id);
  }

  /** At start-up: every request between approval and its end gets an execution job if it lost it. */
  recover(): Promise<number> {
    return recover(this.ctx);
  }
}
