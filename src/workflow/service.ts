// The channel-neutral workflow: submission → checks → approvals → execution → verification.
// Teams and Slack call these methods and render what they return; nothing here knows a channel.
import type { ArmCallRecord, ArmGateway, ArmResource, StartedOperation, WriteOptions } from '../azure/port';
import { withReadCache } from '../azure/read-cache';
import { isArmError } from '../azure/port';
import { runChecks } from '../checks/runner';
import { canonicalJson, newRequestId, REQUEST_ID_PATTERN, sha256 } from '../domain/canonical';
import { diffPayload } from '../domain/diff';
import { type Actor, type ChangeRequest, type ChangeScope, type CheckResult, blocks, type Platform } from '../domain/types';
import type { AuditEntry, Store } from '../store/store';
import { StoreConflict } from '../store/store';
import { DEFAULT_TARGETS, resourceTypeOf, type TargetRegistry } from '../targets';
import { parseForm, type Target } from '../targets/types';
import type { DurableQueue, JobSpec } from './durable';
import { accountKey, type Policy, type PolicyRule, type PolicyScope } from './policy';

/** Durable job kinds the workflow owns. */
export const JOB = { card: 'request.card', post: 'request.post', execute: 'request.execute' } as const;

/** What a channel must do for the workflow: show the request card and post progress. */
export interface ChatNotifier {
  /** Update the request card in place (or post it when it has no message yet); returns its message id. */
  showRequest(req: ChangeRequest): Promise<string | undefined>;
  /** Post a message in the request's conversation (or thread). */
  post(req: ChangeRequest, text: string): Promise<void>;
}

/** A refusal the user can fix: shown verbatim, nothing was changed. */
export class Refusal extends Error {
  readonly code = 'refusal';
  /** When set, the person should see the request as it is now (e.g. a decision on a stale card). */
  current?: ChangeRequest;
  constructor(
    message: string,
    readonly fieldErrors: Array<{ field: string; label: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** Where a person said something: the conversation, and whether it is their private chat with the bot. */
export interface Place {
  platform: Platform;
  conversationId: string;
  /** A one-to-one chat between the person and the bot (Teams personal scope, Slack DM). */
  personal: boolean;
}

/** The largest ARM payload a card shows in full (pretty-printed characters). Larger is refused, never clipped. */
export const MAX_SHOWN_PAYLOAD_CHARS = 12_000;
/** The most scopes a card lists in full. */
export const MAX_SHOWN_SCOPES = 40;

/** `/subscriptions/<sub>[/resourceGroups/<rg>/…]` → the policy's view of the place. */
export function policyScopeOf(id: string, targetType: string): PolicyScope {
  const parts = id.split('/');
  const sub = parts[1]?.toLowerCase() === 'subscriptions' ? (parts[2] ?? '') : '';
  const rg = parts[3]?.toLowerCase() === 'resourcegroups' ? (parts[4] ?? '') : '';
  return { subscriptionId: sub, resourceGroup: rg, targetType };
}

export interface WorkflowDeps {
  store: Store;
  arm: ArmGateway;
  policy: Policy;
  queue: DurableQueue;
  notifiers: Partial<Record<Platform, ChatNotifier>>;
  /** The targets served (default: every built-in one). */
  targets?: TargetRegistry;
  now?: () => Date;
  expiryWarningDays?: number;
  /** How often a resource still provisioning is read again while resuming (default 1 s). */
  resumePollMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

export type SubmitOutcome = { ok: true; request: ChangeRequest } | { ok: false; refusal: Refusal };

export function computeDigest(target: Target, req: Pick<ChangeRequest, 'targetType' | 'resourceId' | 'plan'>, checks: CheckResult[]): string {
  return sha256(
    canonicalJson({
      targetType: req.targetType,
      resourceId: req.resourceId.toLowerCase(),
      apiVersion: req.plan.apiVersion,
      method: req.plan.method,
      payload: req.plan.body,
      evidence: target.digestEvidence(checks),
    }),
  );
}

export function approvalsFor(req: Pick<ChangeRequest, 'approvals' | 'digest'>) {
  return req.approvals.filter((a) => a.decision === 'approved' && a.digest === req.digest);
}

/** Two actors are the same account: platform, tenant and id, in canonical form. */
export function sameAccount(a: Pick<Actor, 'platform' | 'id' | 'tenant'>, b: Pick<Actor, 'platform' | 'id' | 'tenant'>): boolean {
  return accountKey(a) === accountKey(b);
}

export class Workflow {
  private readonly now: () => Date;
  readonly targets: TargetRegistry;

  constructor(private deps: WorkflowDeps) {
    this.now = deps.now ?? (() => new Date());
    this.targets = deps.targets ?? DEFAULT_TARGETS;
    deps.queue.handle(JOB.card, (p) => this.runCard(p as { requestId: string; progress?: string }));
    deps.queue.handle(JOB.post, (p) => this.runPost(p as { requestId: string; text: string }));
    deps.queue.handle(JOB.execute, async (p) => void (await this.drive(String(p.requestId))));
  }

  /** Put another policy in force (a reload): later decisions and the check before each write use it. */
  setPolicy(policy: Policy): void {
    this.deps.policy = policy;
  }

  private readonly checkListeners = new Set<(results: CheckResult[]) => void>();

  /** Every completed check run (metrics). */
  onChecks(listener: (results: CheckResult[]) => void): void {
    this.checkListeners.add(listener);
  }

  private checked(results: CheckResult[]): CheckResult[] {
    for (const l of this.checkListeners) l(results);
    return results;
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) {
    this.deps.log?.(level, msg, data);
  }

  target(type: string): Target {
    const t = this.targets.find(type);
    if (!t) throw new Refusal(`Unknown target "${clip(String(type), 40)}". Supported: ${this.targets.all.map((x) => x.type).join(', ')}.`);
    return t;
  }

  /**
   * Who is this? Only what the platform signed identifies a person: a tenant (workspace) the policy
   * admits and a user id. Anything else is refused before it is looked at.
   */
  admit(actor: Actor): void {
    if (!actor.id) throw new Refusal('I cannot tell who you are: the message carries no signed user id (Entra object id in Teams). Nothing was changed.');
    if (!this.deps.policy.admitsTenant(actor.platform, actor.tenant)) {
      throw new Refusal(`Your ${actor.platform === 'teams' ? 'Teams tenant' : 'Slack workspace'} (${clip(actor.tenant || 'unknown', 60)}) is not one this bot's policy admits. Ask the platform team to add it to the policy's tenants.`);
    }
  }

  /**
   * The rules that apply to a change touching these scopes, having checked that the requester may
   * request under every one of them, from this conversation.
   */
  private rulesForRequest(actor: Actor, conversation: ChangeRequest['conversation'], target: Target, scopes: ChangeScope[]): PolicyRule[] {
    const policy = this.deps.policy;
    const primary = scopes.find((s) => s.role === 'resource') ?? scopes[0]!;
    const ps = policyScopeOf(primary.id, target.type);
    if (!policy.rulesFor(ps).length) {
      throw new Refusal(`No approval policy rule covers ${target.displayName} requests in resource group ${ps.resourceGroup} of subscription ${ps.subscriptionId}, so the bot cannot take it. Ask the platform team to add a rule to the policy file.`);
    }
    const rules = policy.rulesForAll(scopes.map((s) => policyScopeOf(s.id, target.type)));
    const conversationId = conversationIdOf(conversation);
    for (const rule of rules) {
      if (!policy.includes(rule.requesters, actor)) {
        const where = scopes.filter((s) => policy.rulesFor(policyScopeOf(s.id, target.type)).includes(rule)).map((s) => `${s.role} ${s.id.split('/').pop()}`);
        throw new Refusal(`Policy rule "${rule.name}" (it covers ${where.join(', ')}) does not list you (${actor.platform}:${actor.tenant ?? ''}/${actor.id}) as a requester. Ask the platform team to add you, or ask a listed requester.`);
      }
      if (!policy.allowsConversation(rule, conversation.platform, conversationId)) {
        throw new Refusal(`Policy rule "${rule.name}" does not allow requests from this conversation (${conversation.platform}:${conversationId}). Make the request in one of: ${rule.conversations.join(', ')}.`);
      }
    }
    return rules;
  }

  /** The approval terms of a request under the current policy. */
  private terms(rules: PolicyRule[], irreversible: boolean) {
    const policy = this.deps.policy;
    return {
      policyRules: rules.map((r) => r.name),
      policyHash: policy.hash,
      requiredApprovals: Math.max(...rules.map((r) => policy.approvalsNeeded(r, irreversible))),
      approvers: [...new Set(rules.flatMap((r) => policy.describeApprovers(r)))],
      pendingHours: Math.min(...rules.map((r) => r.pendingHours)),
    };
  }

  private standingOf(req: Pick<ChangeRequest, 'policyRules' | 'irreversible' | 'requester' | 'approvals' | 'digest'>) {
    const s = this.deps.policy.standing(req.policyRules, req.irreversible, req.requester, approvalsFor(req));
    return { ...s, view: s.rules.map((r) => ({ rule: r.rule, required: r.required, counted: r.counted.length, approvers: r.approvers })) };
  }

  async submit(actor: Actor, conversation: ChangeRequest['conversation'], targetType: string, data: unknown, cardMessageId?: string): Promise<SubmitOutcome> {
    const target = this.target(targetType);
    const parsed = parseForm(target, data);
    if (!parsed.ok) {
      return { ok: false, refusal: new Refusal(`Please fix: ${parsed.errors.map((e) => `${e.label} — ${e.message}`).join('; ')}.`, parsed.errors) };
    }
    // Policy first: nothing is read from Azure for a request the policy does not allow. Every
    // place the form names (the resource, its identity, storage account, selector targets) counts.
    try {
      this.admit(actor);
      this.rulesForRequest(actor, conversation, target, target.scopes(parsed.params, []));
    } catch (e) {
      if (e instanceof Refusal) return { ok: false, refusal: e };
      throw e;
    }
    // One read cache for the whole submission: prepare(), the checks and the diff share reads.
    const calls: ArmCallRecord[] = [];
    const armR = withReadCache(recording(this.deps.arm, calls));
    const params = target.prepare ? await target.prepare(parsed.params, armR) : parsed.params;
    const plan = target.plan(params);
    const subject = target.subject(params);
    const [checks, current] = await Promise.all([
      runChecks(armR, subject, target.checks, { now: this.now(), expiryWarningDays: this.deps.expiryWarningDays }).then((r) => this.checked(r)),
      // An update shows approvers what changes, property by property.
      plan.method === 'PATCH' ? armR.getOrNull<ArmResource>(plan.resourceId, plan.apiVersion) : Promise.resolve(undefined),
    ]);
    // What the checks found (the key's vault) is part of the blast radius too.
    const scopes = target.scopes(params, checks);
    let rules: PolicyRule[];
    try {
      rules = this.rulesForRequest(actor, conversation, target, scopes);
    } catch (e) {
      if (e instanceof Refusal) return { ok: false, refusal: e };
      throw e;
    }
    // Nothing a person approves is ever clipped: a change too large to show in full is refused.
    const shown = JSON.stringify(plan.body, null, 2).length;
    if (shown > MAX_SHOWN_PAYLOAD_CHARS) {
      return { ok: false, refusal: new Refusal(`This change is too large to show in full on a card (its ARM payload is ${shown.toLocaleString('en-US')} characters; at most ${MAX_SHOWN_PAYLOAD_CHARS.toLocaleString('en-US')}), and approvers must see everything they approve. Split it into smaller changes (e.g. fewer steps or selectors per experiment).`) };
    }
    if (scopes.length > MAX_SHOWN_SCOPES) {
      return { ok: false, refusal: new Refusal(`This change touches ${scopes.length} places (at most ${MAX_SHOWN_SCOPES} can be listed on a card), and approvers must see every one. Split it into smaller changes.`) };
    }
    const changes = current ? diffPayload(current, plan.body) : undefined;
    const irreversible = target.irreversible(params).length > 0;
    const now = this.now();
    const base = { targetType, resourceId: plan.resourceId, plan };
    const blocked = checks.some(blocks);
    const { pendingHours, ...terms } = this.terms(rules, irreversible);
    const draft = {
      id: newRequestId(),
      ...base,
      params,
      requester: actor,
      conversation,
      cardMessageId,
      changes,
      digest: computeDigest(target, base, checks),
      state: (blocked ? 'checked' : 'pending_approval') as ChangeRequest['state'],
      checks,
      approvals: [],
      ...terms,
      scopes,
      irreversible,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + pendingHours * 3600_000).toISOString(),
      version: 1,
    };
    const req: ChangeRequest = { ...draft, standing: this.standingOf(draft).view };
    const personal = (conversation.ref as { conversation?: { conversationType?: string } } | undefined)?.conversation?.conversationType === 'personal';
    const who = req.approvers.join(', ');
    await this.deps.store.createRequest(
      req,
      [
        { actor, event: 'requested', data: { targetType, resourceId: plan.resourceId, digest: req.digest, payload: plan.body, policyRules: req.policyRules, policyHash: req.policyHash, scopes } },
        { actor: { system: 'checks' }, event: 'checked', data: { moment: 'submission', summary: summarize(checks), blocked, armCalls: calls } },
        ...(blocked ? [] : [{ actor: { system: 'workflow' }, event: 'approval_requested', data: { approvers: req.approvers, required: req.requiredApprovals, rules: req.standing } }]),
      ],
      [
        cardJob(req),
        ...(blocked
          ? []
          : [
              postJob(
                req,
                `🔔 ${req.id} needs ${req.requiredApprovals} approval${req.requiredApprovals > 1 ? 's' : ''}${irreversible ? ' (one more than usual: it can never be undone)' : ''} from: ${who}. ${actor.name} cannot approve their own request.${personal ? ' This is a private chat: approvers decide from their own private chat with the bot (`status ' + req.id + '`), where the policy names them.' : ''}`,
              ),
            ]),
      ],
    );
    this.deps.queue.wake();
    return { ok: true, request: req };
  }

  /** A request id from outside (a card, a button, a command): only ids of our form reach the store. */
  private requestId(id: unknown): string {
    const up = typeof id === 'string' ? id.toUpperCase() : '';
    if (!REQUEST_ID_PATTERN.test(up)) throw new Refusal(`There is no request ${clip(String(id ?? ''), 40)}. Request ids look like CR-7KQ2MX; \`list mine\` and \`list pending\` show yours and those waiting.`);
    return up;
  }

  async get(id: string): Promise<ChangeRequest> {
    const req = await this.deps.store.getRequest(this.requestId(id));
    if (!req) throw new Refusal(`There is no request ${id}. Request ids look like CR-7KQ2MX; \`list mine\` and \`list pending\` show yours and those waiting.`);
    return this.expireIfDue(req);
  }

  /**
   * May this person see this request from where they are? In the request's own conversation,
   * anyone there; elsewhere, the requester, the approvers its rules name, and the policy's auditors.
   */
  canSee(req: ChangeRequest, actor: Actor, place: Place): boolean {
    const policy = this.deps.policy;
    if (place.platform === req.conversation.platform && sameConversation(place.conversationId, conversationIdOf(req.conversation))) return true;
    if (policy.personOf(actor) === policy.personOf(req.requester)) return true;
    if (policy.isAuditor(actor)) return true;
    return req.policyRules.some((n) => {
      const r = policy.rule(n);
      return !!r && policy.includes(r.approvers, actor);
    });
  }

  /** A request as the asker may see it (`status`, card refresh): refused when they may not. */
  async view(id: string, actor: Actor, place: Place): Promise<ChangeRequest> {
    this.admit(actor);
    const req = await this.get(id);
    if (!this.canSee(req, actor, place)) throw new Refusal(notVisible(req.id));
    return req;
  }

  /** May this person look at an existing resource through the bot (`check <resource id>`, `--from`)? */
  private mayLookAt(resourceId: string, targetType: string, actor: Actor): boolean {
    const policy = this.deps.policy;
    if (policy.isAuditor(actor)) return true;
    return policy.rulesFor(policyScopeOf(resourceId, targetType)).some((r) => policy.includes(r.requesters, actor) || policy.includes(r.approvers, actor));
  }

  /** `check <request id>`: run the checks of a waiting request again; changed evidence voids approvals. */
  async recheck(id: string, actor: Actor, place: Place): Promise<ChangeRequest> {
    const cur0 = await this.view(id, actor, place);
    if (!['checked', 'pending_approval'].includes(cur0.state)) throw new Refusal(`Request ${cur0.id} is ${stateWords(cur0)}; only waiting requests can be checked again.`);
    const target = this.target(cur0.targetType);
    const calls: ArmCallRecord[] = [];
    const checks = await runChecks(recording(this.deps.arm, calls), target.subject(cur0.params as never), target.checks, { now: this.now(), expiryWarningDays: this.deps.expiryWarningDays });
    const digest = computeDigest(target, cur0, checks);
    const blocked = checks.some(blocks);
    const next = await this.deps.store.mutate(cur0.id, (cur) => {
      if (!['checked', 'pending_approval'].includes(cur.state)) throw new Refusal(`Request ${cur.id} is ${stateWords(cur)}; only waiting requests can be checked again.`);
      const audit: AuditEntry[] = [{ actor, event: 'checked', data: { moment: 'recheck', summary: summarize(checks), blocked, digest, armCalls: calls } }];
      if (digest !== cur.digest && approvalsFor(cur).length) audit.push({ actor: { system: 'workflow' }, event: 'voided', data: { reason: 'the checks’ evidence changed', oldDigest: cur.digest, newDigest: digest } });
      return { next: { ...cur, checks, digest, state: blocked ? 'checked' : 'pending_approval' }, audit, jobs: [cardJob(cur)] };
    });
    this.deps.queue.wake();
    return next;
  }

  /** `check <resource id>`: a read-only review of an existing resource. Nothing is stored but the audit entry. */
  async review(resourceId: string, actor: Actor): Promise<{ target: Target; resource: ArmResource; checks: CheckResult[]; keyUrl: string }> {
    this.admit(actor);
    const target = this.targets.forReview(resourceTypeOf(resourceId));
    if (!target) throw new Refusal(`I can review ${[...new Set(this.targets.all.map((t) => t.resourceType))].join(', ')} resources; ${resourceTypeOf(resourceId) || 'this'} is not one of them.`);
    if (!this.mayLookAt(resourceId, target.type, actor)) throw new Refusal(notCovered(resourceId));
    const resource = await this.deps.arm.getOrNull<ArmResource>(resourceId, target.apiVersion);
    if (!resource) throw new Refusal(`${resourceId} was not found (or the bot cannot read it).`);
    const checks = await runChecks(this.deps.arm, target.reviewSubject(resource), target.reviewChecks?.(resource) ?? target.checks, { now: this.now(), expiryWarningDays: this.deps.expiryWarningDays });
    await this.deps.store.audit({ actor, event: 'reviewed', data: { resourceId, summary: summarize(checks) } });
    // The key the review looked at (for Storage and Chaos it is read from the storage account).
    const keyUrl = String(checks.find((c) => c.id === 'key.url-format' && c.status === 'pass')?.evidence.keyUrl ?? target.reviewSubject(resource).keyUrl ?? '');
    return { target, resource, checks, keyUrl };
  }

  /**
   * Approve or reject. Throws Refusal (nothing changed) when the actor may not decide now, or here.
   * A decision names the digest of the card the person saw; without it, or with another, it is not
   * a decision, and the Refusal carries the request as it is now so the person sees it.
   */
  async decide(id: string, actor: Actor, decision: 'approved' | 'rejected', opts: { reason?: string; digest?: string; place: Place }): Promise<ChangeRequest> {
    id = this.requestId(id);
    const verb = decision === 'approved' ? 'approve' : 'reject';
    let next: ChangeRequest;
    try {
      this.admit(actor);
      await this.get(id); // expiry is applied (and announced) before a decision is considered
      next = await this.deps.store.mutate(id, (cur) => {
        const policy = this.deps.policy;
        const refuse = (message: string, showCurrent = false) => {
          const r = new Refusal(message);
          if (showCurrent) r.current = cur;
          return r;
        };
        if (cur.state !== 'pending_approval') throw refuse(`Request ${cur.id} is ${stateWords(cur)}; it cannot be ${decision} now.`);
        if (policy.personOf(actor) === policy.personOf(cur.requester)) {
          throw refuse(`You requested ${cur.id} (the policy counts ${actor.platform}:${actor.tenant ?? ''}/${actor.id} as the same person as the requester), so you cannot ${verb} it. One of the approvers must decide: ${cur.approvers.join(', ')}.`);
        }
        const rules = cur.policyRules.map((n) => policy.rule(n)).filter((r): r is PolicyRule => !!r);
        if (!rules.some((r) => policy.includes(r.approvers, actor))) {
          throw refuse(`You are not an approver for ${cur.id} under policy rule${cur.policyRules.length > 1 ? 's' : ''} ${cur.policyRules.map((n) => `"${n}"`).join(', ')}. Approvers: ${cur.approvers.join(', ')}.`);
        }
        // Decisions happen where the request lives, or in a named approver's private chat with the bot.
        const here = opts.place.platform === cur.conversation.platform && sameConversation(opts.place.conversationId, conversationIdOf(cur.conversation));
        const named = rules.some((r) => policy.includes(r.approvers, actor, { named: true }));
        if (!here && !(opts.place.personal && named)) {
          throw refuse(
            opts.place.personal
              ? `You can decide on ${cur.id} in its own conversation. Deciding from a private chat with the bot needs the policy to name you as an approver (not only "*").`
              : `Decisions on ${cur.id} are made in the conversation where it was requested${named ? ', or in your private chat with the bot' : ''}, not here.`,
          );
        }
        if (!opts.digest) throw refuse(`Your ${verb === 'approve' ? 'approval' : 'rejection'} did not say which version of ${cur.id} you saw, so it was not counted. Here is the request as it is now: review it and decide again.`, true);
        if (opts.digest !== cur.digest) {
          throw refuse(`${cur.id} changed after you looked at it (the payload or the evidence it was checked against is different now), so your ${verb === 'approve' ? 'approval' : 'rejection'} was not counted. Review the updated card, then decide again.`, true);
        }
        const mine = cur.approvals.find((a) => a.digest === cur.digest && policy.personOf(a.approver) === policy.personOf(actor));
        if (mine) {
          throw refuse(`You have already decided on ${cur.id}${sameAccount(mine.approver, actor) ? '' : ` (as ${mine.approver.platform}:${mine.approver.tenant ?? ''}/${mine.approver.id}, which the policy counts as you)`}; each approver counts once — one vote per person.`);
        }
        const at = this.now().toISOString();
        const approvals = [...cur.approvals, { approver: actor, decision, digest: cur.digest, reason: opts.reason, at }];
        const standing = this.standingOf({ ...cur, approvals });
        const counted = new Set(standing.rules.flatMap((r) => r.counted)).size;
        const state = decision === 'rejected' ? 'rejected' : standing.satisfied ? 'approved' : 'pending_approval';
        const audit: AuditEntry[] = [{ actor, event: decision, data: { digest: cur.digest, reason: opts.reason ?? null, counted, required: cur.requiredApprovals, rules: standing.view, place: { platform: opts.place.platform, personal: opts.place.personal } } }];
        const names = approvalsFor({ approvals, digest: cur.digest }).map((a) => a.approver.name);
        const jobs: JobSpec[] = [cardJob(cur)];
        if (state === 'rejected') jobs.push(postJob(cur, `❌ ${cur.id} was rejected by ${actor.name}${opts.reason ? `: ${opts.reason}` : ''}.`));
        else if (state === 'approved') jobs.push(postJob(cur, `✅ ${cur.id} approved by ${names.join(', ')}. Executing now.`), executeJob(cur.id));
        else jobs.push(postJob(cur, `👍 ${actor.name} approved ${cur.id} (${counted} of ${cur.requiredApprovals}).`));
        return { next: { ...cur, approvals, state, standing: standing.view }, audit, jobs };
      });
    } catch (e) {
      if (e instanceof Refusal || e instanceof StoreConflict) {
        const refusal = e instanceof Refusal ? e : new Refusal(e.message);
        // The refusal stands whether or not its audit row could be written; a lost row is logged.
        await this.deps.store
          .audit({ requestId: id, actor, event: 'decision_refused', data: { decision, reason: refusal.message } })
          .catch((err: unknown) => this.log('warn', 'could not audit a refused decision', { requestId: id, error: (err as Error).message }));
        throw refusal;
      }
      throw e;
    }
    this.deps.queue.wake();
    return next;
  }

  /**
   * The form values a target starts with for an existing resource (`rotate <id>`, `new … --from <id>`,
   * `new storage-cmk <id>`): the target's prefill, over the resource read with the bot's identity
   * when the target needs it. Only for people the policy names for that resource.
   */
  async readExisting(resourceId: string, targetType: string, actor: Actor): Promise<{ values: Record<string, string>; note: string }> {
    this.admit(actor);
    const target = this.target(targetType);
    if (!this.mayLookAt(resourceId, targetType, actor)) throw new Refusal(notCovered(resourceId));
    if (!target.prefill) return { values: {}, note: '' };
    let resource: ArmResource | undefined;
    if (target.prefill.read) {
      resource = await this.deps.arm.getOrNull<ArmResource>(resourceId, target.apiVersion);
      if (!resource) throw new Refusal(`${resourceId} was not found (or the bot cannot read it).`);
    }
    const out = target.prefill.values(resourceId, resource);
    if ('refusal' in out) throw new Refusal(out.refusal);
    return { values: out.values, note: out.note ?? '' };
  }

  /** How the actor relates to the request: decides which card view they get. */
  roleOf(req: ChangeRequest, actor: Pick<Actor, 'platform' | 'id' | 'tenant'>): 'requester' | 'approver' | 'other' {
    const policy = this.deps.policy;
    const me = policy.personOf(actor);
    if (me === policy.personOf(req.requester)) return 'requester';
    const decided = req.approvals.some((a) => a.digest === req.digest && policy.personOf(a.approver) === me);
    const approver = req.policyRules.some((n) => {
      const r = policy.rule(n);
      return !!r && policy.includes(r.approvers, actor);
    });
    return approver && !decided ? 'approver' : 'other';
  }

  /** The requester may cancel until execution starts. */
  async cancel(id: string, actor: Actor): Promise<ChangeRequest> {
    id = this.requestId(id);
    this.admit(actor);
    let next: ChangeRequest;
    try {
      next = await this.deps.store.mutate(id, (cur) => {
        if (this.deps.policy.personOf(cur.requester) !== this.deps.policy.personOf(actor)) throw new Refusal(`Only the requester (${cur.requester.name}) can cancel ${cur.id}; approvers can reject it instead.`);
        if (!['checked', 'pending_approval', 'approved'].includes(cur.state)) throw new Refusal(`${cur.id} is ${stateWords(cur)}; it can no longer be cancelled.`);
        return {
          next: { ...cur, state: 'cancelled' },
          audit: [{ actor, event: 'cancelled', data: { from: cur.state } }],
          jobs: [cardJob(cur), postJob(cur, `🚫 ${cur.id} was cancelled by ${actor.name}. Nothing was changed in Azure.`)],
        };
      });
    } catch (e) {
      if (e instanceof StoreConflict) throw new Refusal(e.message);
      throw e;
    }
    this.deps.queue.wake();
    return next;
  }

  /** End every waiting request whose time is up (run periodically; each expiry is announced once). */
  async expireDue(): Promise<number> {
    const due = (await this.deps.store.listRequests({ states: ['checked', 'pending_approval'], limit: 500 })).filter((r) => new Date(r.expiresAt) <= this.now());
    for (const r of due) await this.expireIfDue(r);
    return due.length;
  }

  /** `list pending` / `list mine`: only requests the asker may see from where they ask. */
  async list(actor: Actor, which: 'pending' | 'mine', place: Place): Promise<ChangeRequest[]> {
    this.admit(actor);
    const policy = this.deps.policy;
    const me = policy.personOf(actor);
    const all = await this.deps.store.listRequests(which === 'pending' ? { states: ['pending_approval'], limit: 200 } : { limit: 200 });
    return all.filter((r) => (which === 'mine' ? policy.personOf(r.requester) === me : this.canSee(r, actor, place))).slice(0, 20);
  }

  async trail(id: string, actor: Actor, place: Place) {
    const req = await this.view(id, actor, place);
    return { request: req, rows: await this.deps.store.auditTrail(req.id) };
  }

  /**
   * The durable execution job: takes the request from wherever it stands to its end. A job that
   * is run again (its process died, or a replica took over) resumes from the stored state and the
   * stored ARM operation, and never writes twice when the first write landed.
   */
  async drive(id: string): Promise<ChangeRequest | undefined> {
    const req = await this.deps.store.getRequest(id);
    if (!req) return undefined;
    if (req.state === 'approved') return this.execute(id);
    if (req.state !== 'executing' && req.state !== 'verifying') return req; // finished, or decided otherwise
    const target = this.target(req.targetType);
    await this.deps.store.audit({ requestId: req.id, actor: { system: 'executor' }, event: 'recovering', data: { state: req.state, operation: req.operation?.url ?? null } });
    if (req.state === 'verifying') return this.verify(req, target);
    if (req.operation) return this.write(req, target, req.operation);
    // No operation stored: the write may or may not have reached Azure. Look before writing again.
    const seen = await this.landed(req, target);
    if (seen === 'landed') {
      const v = await this.transition(req.id, ['executing'], 'verifying', {}, { actor: { system: 'executor' }, event: 'arm_call', data: { method: 'GET', ok: true, note: 'the write had landed before the restart; not sent again' } }, [cardJob(req)]);
      return v ? this.verify(v, target) : undefined;
    }
    return this.checkAndWrite(req, target);
  }

  /** Did the approved write reach Azure? A resource still provisioning is followed until it settles. */
  private async landed(req: ChangeRequest, target: Target): Promise<'landed' | 'absent'> {
    for (let polls = 0; polls < 120; polls++) {
      const resource = await this.deps.arm.getOrNull<ArmResource>(req.plan.resourceId, req.plan.apiVersion);
      if (!resource) return 'absent';
      const state = String((resource.properties as { provisioningState?: unknown } | undefined)?.provisioningState ?? 'Succeeded');
      if (/^(succeeded|failed|canceled|cancelled)$/i.test(state)) return target.verify(req.plan, resource).status === 'pass' ? 'landed' : 'absent';
      await new Promise((r) => setTimeout(r, this.deps.resumePollMs ?? 1000));
    }
    return 'absent';
  }

  /** Runs once per request: approved → executing is taken under a row lock. */
  async execute(id: string): Promise<ChangeRequest | undefined> {
    let req: ChangeRequest;
    try {
      req = await this.deps.store.mutate(id, (cur) => {
        if (cur.state !== 'approved') throw new StoreConflict(`not approved (${cur.state})`);
        return { next: { ...cur, state: 'executing' }, audit: [{ actor: { system: 'executor' }, event: 'executing', data: { digest: cur.digest } }], jobs: [cardJob(cur)] };
      });
    } catch (e) {
      if (e instanceof StoreConflict) return undefined; // another worker has it, or it was decided otherwise
      throw e;
    }
    this.deps.queue.wake();
    return this.checkAndWrite(req, this.target(req.targetType));
  }

  /** Moment two: the checks again, immediately before the write; then the write. */
  private async checkAndWrite(req: ChangeRequest, target: Target): Promise<ChangeRequest | undefined> {
    const calls: ArmCallRecord[] = [];
    const checks = await runChecks(recording(this.deps.arm, calls), target.subject(req.params as never), target.checks, { now: this.now(), expiryWarningDays: this.deps.expiryWarningDays });
    await this.deps.store.audit({ requestId: req.id, actor: { system: 'checks' }, event: 'checked', data: { moment: 'before-write', summary: summarize(checks), armCalls: calls } });
    const digest = computeDigest(target, req, checks);
    const turned = checks.filter(blocks);
    if (turned.length || digest !== req.digest) {
      const why = turned.length
        ? `checks now fail: ${turned.map((c) => `${c.id} (${c.finding})`).join('; ')}`
        : 'the evidence the approvals were bound to changed (key version or identity)';
      return this.transition(
        req.id,
        ['executing'],
        turned.length ? 'failed' : 'pending_approval',
        { checks, digest, result: turned.length ? { status: 'failed', message: `Stopped before the write: ${why}.` } : undefined },
        { actor: { system: 'executor' }, event: 'voided', data: { reason: why, oldDigest: req.digest, newDigest: digest } },
        [cardJob(req), postJob(req, `⛔ ${req.id}: nothing was changed in Azure — ${why}. Earlier approvals no longer count.`)],
      );
    }
    // The policy decides, every time: under the policy in force now, do the approvals still suffice?
    const again = this.reapplyPolicy(req, target);
    if (again) {
      return this.transition(req.id, ['executing'], again.state, again.patch, again.audit, [cardJob(req), postJob(req, again.message)]);
    }
    req = await this.deps.store.mutate(req.id, (cur) => ({ next: { ...cur, checks }, audit: [] }));
    return this.write(req, target);
  }

  /**
   * The policy applied again right before the write. Returns what to do instead of writing when the
   * approvals no longer suffice (back to waiting, with the reason on the card) or the requester may
   * no longer request it (failed); undefined when the write may go ahead.
   */
  private reapplyPolicy(req: ChangeRequest, target: Target):
    | { state: ChangeRequest['state']; patch: Partial<ChangeRequest>; audit: AuditEntry; message: string }
    | undefined {
    const policy = this.deps.policy;
    const scopes = req.scopes?.length ? req.scopes : [{ role: 'resource', id: req.resourceId }];
    const primary = policy.rulesFor(policyScopeOf(req.resourceId, target.type));
    const rules = primary.length ? policy.rulesForAll(scopes.map((s) => policyScopeOf(s.id, target.type))) : [];
    const refusedBy = rules.find((r) => !policy.includes(r.requesters, req.requester));
    if (!rules.length || refusedBy) {
      const why = !rules.length ? 'no rule of the policy in force covers it any more' : `policy rule "${refusedBy!.name}" no longer lists ${req.requester.name} as a requester`;
      return {
        state: 'failed',
        patch: { result: { status: 'failed', message: `Stopped before the write: ${why}.` } },
        audit: { actor: { system: 'executor' }, event: 'policy_reapplied', data: { policyHash: policy.hash, previousHash: req.policyHash ?? null, outcome: 'refused', reason: why } },
        message: `⛔ ${req.id}: nothing was changed in Azure — ${why}.`,
      };
    }
    const { policyRules, policyHash, requiredApprovals, approvers } = this.terms(rules, req.irreversible ?? false);
    const kept = { policyRules, policyHash, requiredApprovals, approvers };
    const next = { ...req, ...kept };
    const standing = this.standingOf(next);
    if (standing.satisfied) return undefined;
    const dropped = approvalsFor(req).filter((a) => standing.dropped.includes(accountKey(a.approver))).map((a) => a.approver.name);
    const missing = standing.rules.filter((r) => r.counted.length < r.required).map((r) => `"${r.rule}" has ${r.counted.length} of ${r.required}`);
    const note = `The policy changed before the write: ${dropped.length ? `approvals by ${dropped.join(', ')} no longer count; ` : ''}${missing.join('; ')}.`;
    return {
      state: 'pending_approval',
      patch: { ...kept, standing: standing.view, policyNote: note },
      audit: { actor: { system: 'executor' }, event: 'policy_reapplied', data: { policyHash: policy.hash, previousHash: req.policyHash ?? null, outcome: 'waiting', dropped, rules: standing.view } },
      message: `⏸️ ${req.id}: nothing was changed in Azure yet. ${note} It waits for approval again.`,
    };
  }

  /**
   * The ARM write, or — after a restart — the rest of it: a stored long-running operation is
   * followed again rather than sent twice.
   */
  private async write(req: ChangeRequest, target: Target, resumeFrom?: StartedOperation): Promise<ChangeRequest | undefined> {
    const writeCalls: ArmCallRecord[] = [];
    const armW = recording(this.deps.arm, writeCalls);
    let lastProgress = 0;
    const opts: WriteOptions = {
      finalStateVia: req.plan.finalStateVia,
      onOperation: async (op) => {
        // Stored before the first poll, so another process can pick it up.
        req = await this.deps.store.mutate(req.id, (cur) => ({
          next: { ...cur, operation: op },
          audit: [{ actor: { system: 'executor' }, event: 'operation_started', data: { method: op.method, operationUrl: op.url, kind: op.kind, correlationId: op.correlationId ?? null } }],
          jobs: [postJob(cur, `⏳ ${cur.id}: Azure accepted the change and is applying it (long-running operation); this card updates when it is done.`)],
        }));
        this.deps.queue.wake();
      },
      onProgress: async (status, polls) => {
        if (polls - lastProgress < 5) return; // the card, not a stream of messages
        lastProgress = polls;
        await this.deps.queue.enqueue(cardJob(req, `Azure reports ${status} (check ${polls})…`)).catch(() => undefined);
      },
      // A write whose answer was lost (dropped connection, timeout, 5xx) is looked up before it is sent again.
      landed: async () => (await this.landed(req, target)) === 'landed',
    };
    let written;
    try {
      written = resumeFrom
        ? await armW.resume(resumeFrom, req.plan.resourceId, req.plan.apiVersion, opts)
        : req.plan.method === 'PUT'
          ? await armW.put(req.plan.resourceId, req.plan.apiVersion, req.plan.body, opts)
          : await armW.patch(req.plan.resourceId, req.plan.apiVersion, req.plan.body, opts);
    } catch (e) {
      const message = isArmError(e) ? `Azure refused the change: ${e.describe()}` : `The change could not be sent: ${(e as Error).message}`;
      return this.transition(
        req.id,
        ['executing'],
        'failed',
        { result: { status: 'failed', message, correlationId: isArmError(e) ? e.correlationId : undefined } },
        {
          actor: { system: 'executor' },
          event: 'arm_call',
          data: { method: req.plan.method, resourceId: req.plan.resourceId, apiVersion: req.plan.apiVersion, ok: false, code: isArmError(e) ? e.code : 'unknown', status: isArmError(e) ? e.status : null, correlationId: isArmError(e) ? (e.correlationId ?? null) : null, calls: writeCalls },
        },
        [cardJob(req), postJob(req, `❌ ${req.id} failed: ${message}`)],
      );
    }
    const verifying = await this.transition(
      req.id,
      ['executing'],
      'verifying',
      {},
      {
        actor: { system: 'executor' },
        event: 'arm_call',
        data: { method: req.plan.method, resourceId: req.plan.resourceId, apiVersion: req.plan.apiVersion, ok: true, status: written.status, correlationId: written.correlationId ?? null, operationUrl: written.operationUrl ?? null, resumed: Boolean(resumeFrom), calls: writeCalls },
      },
      [cardJob(req)],
    );
    return verifying ? this.verify(verifying, target, written.correlationId) : undefined;
  }

  /** Moment three: verification from a fresh GET, not from the write's echo. */
  private async verify(req: ChangeRequest, target: Target, correlationId?: string): Promise<ChangeRequest | undefined> {
    const calls: ArmCallRecord[] = [];
    let verification: CheckResult;
    try {
      const actual = await recording(this.deps.arm, calls).get<ArmResource>(req.plan.resourceId, req.plan.apiVersion);
      verification = target.verify(req.plan, actual);
    } catch (e) {
      verification = {
        id: `${target.verifyCheckId}`,
        title: 'Verification read',
        status: 'error',
        finding: `Could not read the resource back: ${isArmError(e) ? e.describe() : (e as Error).message}`,
        evidence: {},
        remedy: 'Run `status` again shortly; if it persists, open the resource in the portal.',
      };
    }
    const ok = verification.status === 'pass';
    return this.transition(
      req.id,
      ['verifying'],
      ok ? 'succeeded' : 'failed',
      { result: { status: ok ? 'succeeded' : 'failed', message: ok ? target.doneMessage(req.plan) : verification.finding, correlationId: correlationId ?? req.result?.correlationId, verification: [verification] } },
      { actor: { system: 'verifier' }, event: 'verified', data: { ok, finding: verification.finding, evidence: verification.evidence, armCalls: calls } },
      [
        cardJob(req),
        postJob(
          req,
          ok ? `🔐 ${req.id} done: ${target.displayName} ${req.resourceId.split('/').pop()} — ${target.doneMessage(req.plan)}` : `⚠️ ${req.id}: the write landed but verification failed — ${verification.finding}`,
        ),
      ],
    );
  }

  /**
   * At start-up: every request between approval and its end has an execution job. Normally the job
   * is still in the queue (it is durable); this repairs a database whose job was lost or failed.
   */
  async recover(): Promise<number> {
    const stuck = await this.deps.store.listRequests({ states: ['approved', 'executing', 'verifying'], limit: 500 });
    let repaired = 0;
    for (const req of stuck) {
      if (await this.deps.store.hasActiveJob(executeJob(req.id).key)) continue;
      await this.deps.queue.enqueue(executeJob(req.id));
      repaired++;
    }
    return repaired;
  }

  /**
   * Move a request from one of `from` to `state`. Returns undefined when it is no longer in `from`:
   * another worker (or the process before a restart) got there first, and this one stops.
   */
  private async transition(id: string, from: ChangeRequest['state'][], state: ChangeRequest['state'], patch: Partial<ChangeRequest>, audit: AuditEntry, jobs: JobSpec[] = []): Promise<ChangeRequest | undefined> {
    try {
      const next = await this.deps.store.mutate(id, (cur) => {
        if (!from.includes(cur.state)) throw new StoreConflict(`${cur.id} is ${cur.state}, not ${from.join('/')}`);
        return { next: { ...cur, ...patch, state }, audit: [audit], jobs };
      });
      this.deps.queue.wake();
      return next;
    } catch (e) {
      if (e instanceof StoreConflict) {
        this.log('info', 'state moved on elsewhere; stopping this worker', { requestId: id, to: state, reason: e.message });
        return undefined;
      }
      throw e;
    }
  }

  private async expireIfDue(req: ChangeRequest): Promise<ChangeRequest> {
    if (!['pending_approval', 'checked'].includes(req.state) || new Date(req.expiresAt) > this.now()) return req;
    try {
      const expired = await this.deps.store.mutate(req.id, (cur) => {
        if (!['pending_approval', 'checked'].includes(cur.state)) throw new StoreConflict('already moved on');
        return {
          next: { ...cur, state: 'expired' },
          audit: [{ actor: { system: 'workflow' }, event: 'expired', data: { expiresAt: cur.expiresAt } }],
          jobs: [cardJob(cur), postJob(cur, `⌛ ${cur.id} expired at ${cur.expiresAt} without enough approvals. Submit a new request if it is still needed.`)],
        };
      });
      this.deps.queue.wake();
      return expired;
    } catch (e) {
      if (e instanceof StoreConflict) return (await this.deps.store.getRequest(req.id)) ?? req;
      throw e;
    }
  }

  /** The card job: the request as it is *now* (a coalesced job shows the latest state); remembers the message id. */
  private async runCard(p: { requestId: string; progress?: string }): Promise<void> {
    const req = await this.deps.store.getRequest(p.requestId);
    const n = req && this.deps.notifiers[req.conversation.platform];
    if (!req || !n) return;
    const shown = p.progress && req.state === 'executing' ? { ...req, result: { status: 'failed' as const, message: p.progress } } : req;
    const messageId = await n.showRequest(shown);
    if (messageId && messageId !== req.cardMessageId) {
      await this.deps.store.mutate(req.id, (cur) => ({ next: { ...cur, cardMessageId: messageId }, audit: [] }));
    }
  }

  private async runPost(p: { requestId: string; text: string }): Promise<void> {
    const req = await this.deps.store.getRequest(p.requestId);
    if (req) await this.deps.notifiers[req.conversation.platform]?.post(req, p.text);
  }
}

/** The chat lane of a request: its conversation, so posts keep their order and the platform's rate limit. */
export function chatLane(req: Pick<ChangeRequest, 'conversation'>): string {
  return `${req.conversation.platform}:${conversationIdOf(req.conversation)}`;
}

/** Update the request's card; a queued update not yet sent is replaced, so the latest state wins. */
export function cardJob(req: Pick<ChangeRequest, 'id' | 'conversation'>, progress?: string): JobSpec {
  return { kind: JOB.card, key: `card:${req.id}`, lane: chatLane(req), payload: { requestId: req.id, ...(progress ? { progress } : {}) }, replace: true, maxAttempts: 6 };
}

export function postJob(req: Pick<ChangeRequest, 'id' | 'conversation'>, text: string): JobSpec {
  return { kind: JOB.post, key: `post:${req.id}:${sha256(text).slice(0, 16)}`, lane: chatLane(req), payload: { requestId: req.id, text }, maxAttempts: 6 };
}

/** One execution lane per request: never two workers on one request, on any replica. */
export function executeJob(requestId: string): JobSpec {
  return { kind: JOB.execute, key: `execute:${requestId}`, lane: `request:${requestId}`, payload: { requestId }, maxAttempts: 10 };
}

/** Outside text echoed in a refusal: short. */
function clip(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join('')}…`;
}

function notVisible(id: string): string {
  return `You cannot see ${id} from here: ask in the conversation where it was requested. Elsewhere, only its requester, its approvers and the policy's auditors can see it.`;
}

function notCovered(resourceId: string): string {
  return `You can look at ${clip(resourceId.split('/').pop() ?? resourceId, 80)} through the bot only where the policy names you as a requester or approver for it (or as an auditor).`;
}

/** Teams conversation ids may carry a `;messageid=` suffix (a thread in a channel): compare without it. */
export function sameConversation(a: string, b: string): boolean {
  return a.split(';')[0]!.toLowerCase() === b.split(';')[0]!.toLowerCase() && a !== '';
}

/** The conversation id a request was made in, for policy and listing. */
export function conversationIdOf(c: ChangeRequest['conversation']): string {
  const ref = c.ref as { conversation?: { id?: string }; channel?: string } | undefined;
  return ref?.conversation?.id ?? ref?.channel ?? '';
}

/** A view of the gateway that also records every call it makes (for the request's audit trail). */
export function recording(arm: ArmGateway, into: ArmCallRecord[]): ArmGateway {
  return arm.scoped((c) => into.push(c));
}

export function summarize(checks: CheckResult[]) {
  const count = (s: CheckResult['status']) => checks.filter((c) => c.status === s).length;
  return { pass: count('pass'), warn: count('warn'), info: count('info'), fail: count('fail'), error: count('error'), failing: checks.filter(blocks).map((c) => c.id) };
}

export function stateWords(req: Pick<ChangeRequest, 'state'>): string {
  switch (req.state) {
    case 'draft':
      return 'a draft';
    case 'checked':
      return 'blocked by failing checks';
    case 'pending_approval':
      return 'waiting for approval';
    case 'approved':
      return 'approved and about to run';
    case 'executing':
      return 'being applied in Azure';
    case 'verifying':
      return 'being verified';
    case 'succeeded':
      return 'done';
    case 'failed':
      return 'failed';
    case 'rejected':
      return 'rejected';
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
  }
}
