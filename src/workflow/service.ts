// The channel-neutral workflow: submission → checks → approvals → execution → verification.
// Teams and Slack call these methods and render what they return; nothing here knows a channel.
import type { ArmCallRecord, ArmGateway, ArmResource, StartedOperation, WriteOptions } from '../azure/port';
import { withReadCache } from '../azure/read-cache';
import { isArmError } from '../azure/port';
import { runChecks } from '../checks/runner';
import { canonicalJson, newRequestId, REQUEST_ID_PATTERN, sha256 } from '../domain/canonical';
import { diffPayload } from '../domain/diff';
import { type Actor, type ChangeRequest, type CheckResult, blocks, type Platform } from '../domain/types';
import type { AuditEntry, Store } from '../store/store';
import { StoreConflict } from '../store/store';
import { findTarget, TARGETS } from '../targets';
import { parseForm, type Target } from '../targets/types';
import type { DurableQueue, JobSpec } from './durable';
import type { Policy } from './policy';

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
  constructor(
    message: string,
    readonly fieldErrors: Array<{ field: string; label: string; message: string }> = [],
  ) {
    super(message);
  }
}

export interface WorkflowDeps {
  store: Store;
  arm: ArmGateway;
  policy: Policy;
  queue: DurableQueue;
  notifiers: Partial<Record<Platform, ChatNotifier>>;
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

export function approvalsFor(req: ChangeRequest) {
  return req.approvals.filter((a) => a.decision === 'approved' && a.digest === req.digest);
}

export class Workflow {
  private readonly now: () => Date;

  constructor(private readonly deps: WorkflowDeps) {
    this.now = deps.now ?? (() => new Date());
    deps.queue.handle(JOB.card, (p) => this.runCard(p as { requestId: string; progress?: string }));
    deps.queue.handle(JOB.post, (p) => this.runPost(p as { requestId: string; text: string }));
    deps.queue.handle(JOB.execute, async (p) => void (await this.drive(String(p.requestId))));
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
    const t = findTarget(type);
    if (!t) throw new Refusal(`Unknown target "${clip(String(type), 40)}". Supported: ${Object.keys(TARGETS).join(', ')}.`);
    return t;
  }

  async submit(actor: Actor, conversation: ChangeRequest['conversation'], targetType: string, data: unknown, cardMessageId?: string): Promise<SubmitOutcome> {
    const target = this.target(targetType);
    const parsed = parseForm(target, data);
    if (!parsed.ok) {
      return { ok: false, refusal: new Refusal(`Please fix: ${parsed.errors.map((e) => `${e.label} — ${e.message}`).join('; ')}.`, parsed.errors) };
    }
    // Policy first: nothing is read from Azure for a request the policy does not allow.
    const resourceId = target.resourceId(parsed.params);
    const subscriptionId = resourceId.split('/')[2] ?? '';
    const rg = resourceId.split('/')[4] ?? '';
    const rule = this.deps.policy.ruleFor({ subscriptionId, resourceGroup: rg, targetType });
    if (!rule) {
      return { ok: false, refusal: new Refusal(`No approval policy rule covers ${target.displayName} requests in resource group ${rg} of subscription ${subscriptionId}, so the bot cannot take it. Ask the platform team to add a rule to the policy file.`) };
    }
    if (!this.deps.policy.includes(rule.requesters, actor)) {
      return { ok: false, refusal: new Refusal(`Policy rule "${rule.name}" does not list you (${actor.platform}:${actor.id}) as a requester. Ask the platform team to add you, or ask a listed requester.`) };
    }
    const conversationId = conversationIdOf(conversation);
    if (!this.deps.policy.allowsConversation(rule, conversation.platform, conversationId)) {
      return {
        ok: false,
        refusal: new Refusal(`Policy rule "${rule.name}" does not allow requests from this conversation (${conversation.platform}:${conversationId}). Make the request in one of: ${rule.conversations.join(', ')}.`),
      };
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
    const changes = current ? diffPayload(current, plan.body) : undefined;
    const irreversible = target.irreversible(params);
    const now = this.now();
    const base = { targetType, resourceId: plan.resourceId, plan };
    const blocked = checks.some(blocks);
    const req: ChangeRequest = {
      id: newRequestId(),
      ...base,
      params,
      requester: actor,
      conversation,
      cardMessageId,
      changes,
      digest: computeDigest(target, base, checks),
      state: blocked ? 'checked' : 'pending_approval',
      checks,
      approvals: [],
      requiredApprovals: this.deps.policy.approvalsNeeded(rule, irreversible.length > 0),
      approvers: this.deps.policy.describeApprovers(rule),
      policyRule: rule.name,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + rule.pendingHours * 3600_000).toISOString(),
      version: 1,
    };
    await this.deps.store.createRequest(
      req,
      [
        { actor, event: 'requested', data: { targetType, resourceId: plan.resourceId, digest: req.digest, payload: plan.body, policyRule: rule.name } },
        { actor: { system: 'checks' }, event: 'checked', data: { moment: 'submission', summary: summarize(checks), blocked, armCalls: calls } },
        ...(blocked ? [] : [{ actor: { system: 'workflow' }, event: 'approval_requested', data: { approvers: req.approvers, required: req.requiredApprovals } }]),
      ],
      [
        cardJob(req),
        ...(blocked
          ? []
          : [
              postJob(
                req,
                `🔔 ${req.id} needs ${req.requiredApprovals} approval${req.requiredApprovals > 1 ? 's' : ''}${irreversible.length ? ' (one more than usual: it can never be undone)' : ''} from: ${req.approvers.join(', ')}. ${actor.name} cannot approve their own request.`,
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

  /** `check <request id>`: run the checks of a waiting request again; changed evidence voids approvals. */
  async recheck(id: string, actor: Actor): Promise<ChangeRequest> {
    const cur0 = await this.get(id);
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
    const type = resourceId.split('/').slice(6, 8).join('/').toLowerCase();
    const target = Object.values(TARGETS).find((t) => t.resourceType.toLowerCase() === type);
    if (!target) throw new Refusal(`I can review ${Object.values(TARGETS).map((t) => t.resourceType).join(', ')} resources; ${resourceId.split('/').slice(6, 8).join('/') || 'this'} is not one of them.`);
    const resource = await this.deps.arm.getOrNull<ArmResource>(resourceId, target.apiVersion);
    if (!resource) throw new Refusal(`${resourceId} was not found (or the bot cannot read it).`);
    const checks = await runChecks(this.deps.arm, target.reviewSubject(resource), target.reviewChecks?.(resource) ?? target.checks, { now: this.now(), expiryWarningDays: this.deps.expiryWarningDays });
    await this.deps.store.audit({ actor, event: 'reviewed', data: { resourceId, summary: summarize(checks) } });
    // The key the review looked at (for Storage and Chaos it is read from the storage account).
    const keyUrl = String(checks.find((c) => c.id === 'key.url-format' && c.status === 'pass')?.evidence.keyUrl ?? target.reviewSubject(resource).keyUrl ?? '');
    return { target, resource, checks, keyUrl };
  }

  /** Approve or reject. Throws Refusal (nothing changed) when the actor may not decide now. */
  async decide(id: string, actor: Actor, decision: 'approved' | 'rejected', reason?: string, seenDigest?: string): Promise<ChangeRequest> {
    id = this.requestId(id);
    await this.get(id); // expiry is applied (and announced) before a decision is considered
    let refusal: Refusal | undefined;
    let next: ChangeRequest;
    try {
      next = await this.deps.store.mutate(id, (cur) => {
        if (cur.state !== 'pending_approval') throw new Refusal(`Request ${cur.id} is ${stateWords(cur)}; it cannot be ${decision} now.`);
        if (cur.requester.platform === actor.platform && cur.requester.id === actor.id) {
          throw new Refusal(`You requested ${cur.id}, so you cannot ${decision === 'approved' ? 'approve' : 'reject'} it. One of the approvers must decide: ${cur.approvers.join(', ')}.`);
        }
        const rule = this.deps.policy.doc.rules.find((r) => r.name === cur.policyRule);
        if (!rule || !this.deps.policy.includes(rule.approvers, actor)) {
          throw new Refusal(`You are not an approver for ${cur.id} under policy rule "${cur.policyRule}". Approvers: ${cur.approvers.join(', ')}.`);
        }
        if (seenDigest && seenDigest !== cur.digest) {
          throw new Refusal(`${cur.id} changed after you looked at it (the payload or the evidence it was checked against is different now). Review the updated card, then decide again.`);
        }
        if (cur.approvals.some((a) => a.approver.platform === actor.platform && a.approver.id === actor.id && a.digest === cur.digest)) {
          throw new Refusal(`You have already decided on ${cur.id}; each approver counts once.`);
        }
        const at = this.now().toISOString();
        const approvals = [...cur.approvals, { approver: actor, decision, digest: cur.digest, reason, at }];
        const counted = approvals.filter((a) => a.decision === 'approved' && a.digest === cur.digest).length;
        const state = decision === 'rejected' ? 'rejected' : counted >= cur.requiredApprovals ? 'approved' : 'pending_approval';
        const audit: AuditEntry[] = [{ actor, event: decision, data: { digest: cur.digest, reason: reason ?? null, counted, required: cur.requiredApprovals } }];
        const names = approvals.filter((a) => a.decision === 'approved' && a.digest === cur.digest).map((a) => a.approver.name);
        const jobs: JobSpec[] = [cardJob(cur)];
        if (state === 'rejected') jobs.push(postJob(cur, `❌ ${cur.id} was rejected by ${actor.name}${reason ? `: ${reason}` : ''}.`));
        else if (state === 'approved') jobs.push(postJob(cur, `✅ ${cur.id} approved by ${names.join(', ')}. Executing now.`), executeJob(cur.id));
        else jobs.push(postJob(cur, `👍 ${actor.name} approved ${cur.id} (${counted} of ${cur.requiredApprovals}).`));
        return { next: { ...cur, approvals, state }, audit, jobs };
      });
    } catch (e) {
      if (e instanceof Refusal || e instanceof StoreConflict) {
        refusal = e instanceof Refusal ? e : new Refusal(e.message);
        await this.deps.store.audit({ requestId: id.toUpperCase(), actor, event: 'decision_refused', data: { decision, reason: refusal.message } }).catch(() => undefined);
        throw refusal;
      }
      throw e;
    }
    this.deps.queue.wake();
    return next;
  }

  /** Form values copied from an existing resource (`new chaos-experiment --from <id>`). */
  async readExisting(resourceId: string, targetType: string): Promise<Record<string, string>> {
    const target = this.target(targetType);
    const r = await this.deps.arm.getOrNull<ArmResource>(resourceId, target.apiVersion);
    if (!r) throw new Refusal(`${resourceId} was not found (or the bot cannot read it).`);
    if (targetType === 'fluid-relay-rotate') {
      const cmk = ((r.properties ?? {}) as { encryption?: { customerManagedKeyEncryption?: { keyEncryptionKeyUrl?: string; keyEncryptionKeyIdentity?: { userAssignedIdentityResourceId?: string } } } }).encryption?.customerManagedKeyEncryption;
      if (!cmk?.keyEncryptionKeyUrl) throw new Refusal(`${r.name ?? resourceId} has no customer-managed key, and Fluid Relay can only enable CMK when a server is created: use \`new fluid-relay\` for a new server.`);
      const m = /^(https:\/\/[^/]+\/keys\/[^/]+)(?:\/([0-9a-fA-F]{32}))?$/.exec(cmk.keyEncryptionKeyUrl);
      return { resourceId, serverName: r.name ?? '', currentKeyUrl: cmk.keyEncryptionKeyUrl, keyUrl: m?.[1] ?? '', keyVersion: m?.[2] ?? 'latest', identityId: cmk.keyEncryptionKeyIdentity?.userAssignedIdentityResourceId ?? '' };
    }
    const props = (r.properties ?? {}) as { steps?: unknown; selectors?: unknown };
    if (!props.steps || !props.selectors) throw new Refusal(`${resourceId} has no steps and selectors to copy.`);
    return {
      location: r.location ?? '',
      identityId: Object.keys(r.identity?.userAssignedIdentities ?? {})[0] ?? '',
      template: '',
      definition: JSON.stringify({ steps: props.steps, selectors: props.selectors }, null, 2),
    };
  }

  /** How the actor relates to the request: decides which card view they get. */
  roleOf(req: ChangeRequest, actor: Pick<Actor, 'platform' | 'id'>): 'requester' | 'approver' | 'other' {
    if (req.requester.platform === actor.platform && req.requester.id === actor.id) return 'requester';
    const rule = this.deps.policy.doc.rules.find((r) => r.name === req.policyRule);
    const decided = req.approvals.some((a) => a.approver.platform === actor.platform && a.approver.id === actor.id && a.digest === req.digest);
    return rule && !decided && this.deps.policy.includes(rule.approvers, actor) ? 'approver' : 'other';
  }

  /** The requester may cancel until execution starts. */
  async cancel(id: string, actor: Actor): Promise<ChangeRequest> {
    id = this.requestId(id);
    let next: ChangeRequest;
    try {
      next = await this.deps.store.mutate(id, (cur) => {
        if (cur.requester.platform !== actor.platform || cur.requester.id !== actor.id) throw new Refusal(`Only the requester (${cur.requester.name}) can cancel ${cur.id}; approvers can reject it instead.`);
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

  async list(actor: Actor, which: 'pending' | 'mine'): Promise<ChangeRequest[]> {
    return which === 'pending'
      ? this.deps.store.listRequests({ states: ['pending_approval'], limit: 20 })
      : this.deps.store.listRequests({ requester: actor, limit: 20 });
  }

  async trail(id: string) {
    const req = await this.get(id);
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
    req = await this.deps.store.mutate(req.id, (cur) => ({ next: { ...cur, checks }, audit: [] }));
    return this.write(req, target);
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
