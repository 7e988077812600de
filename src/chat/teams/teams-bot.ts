// Teams turns → channel-neutral commands and card verbs. One handler per verb; verbs are the
// strings in cards/*.json. Card actions never throw into the channel.
import {
  ActivityHandler,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  MessageFactory,
  TurnContext,
} from 'botbuilder';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MAX_REASON_LENGTH, storableText } from '../../domain/canonical';
import type { Actor } from '../../domain/types';
import type { Store } from '../../store/store';
import type { FormCatalog } from '../../workflow/catalog';
import { buildEvidence } from '../../workflow/evidence';
import { type Place, Refusal, type Workflow } from '../../workflow/service';
import type { DurableQueue } from '../../workflow/durable';
import type { ArmGateway } from '../../azure/port';
import { isArmError } from '../../azure/port';
import { helpText, parseCommand, usageText } from '../commands';
import { auditText, evidenceText, listLine, requestView, reviewView } from '../presenter';
import { asAttachment, fitCard, formCard, noticeCard, requestCard, teamsText } from './cards';
import { parseForm } from '../../targets/types';
import type { TeamsNotifier } from './notifier';

const TEAMS_SUBMIT_JOB = 'teams.submit';
/**
 * Teams refuses messages over ~28 KB, counted on the activity as sent (where the record's quotes
 * and line breaks are escaped once more): the evidence record goes as a code block up to this.
 */
export const TEAMS_TEXT_BUDGET_BYTES = 26_000;
const SUBMIT_ATTEMPTS = 3;

interface SubmitJob {
  actor: Actor;
  conversation: { platform: 'teams'; ref: unknown };
  targetType: string;
  data: Record<string, unknown>;
  cardMessageId?: string;
}

export const VERBS = {
  formSubmit: 'form.submit',
  formReload: 'form.reload',
  approve: 'request.approve',
  reject: 'request.reject',
  refresh: 'request.refresh',
  cancel: 'request.cancel',
} as const;

const actionData = z
  .object({
    verb: z.string().optional(),
    targetType: z.string().optional(),
    requestId: z.string().optional(),
    reason: z.string().optional(),
    digest: z.string().optional(),
  })
  .passthrough();

type Reply = { card: Record<string, unknown> } | { text: string };

export interface TeamsBotDeps {
  workflow: Workflow;
  store: Store;
  arm: ArmGateway;
  queue: DurableQueue;
  catalog: FormCatalog;
  notifier: TeamsNotifier;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

/**
 * Who sent the activity, from what Teams signs: the tenant and the Entra object id (compared
 * lower-case). `from.id` only addresses the person for card refresh; it never identifies anyone,
 * and the display name is only shown.
 */
export function actorOf(ctx: TurnContext): Actor {
  const a = ctx.activity;
  const from = a.from ?? { id: '', name: '' };
  const tenant = a.conversation?.tenantId ?? (a.channelData as { tenant?: { id?: unknown } } | undefined)?.tenant?.id;
  return {
    platform: 'teams',
    id: (from.aadObjectId ?? '').trim().toLowerCase(),
    tenant: (typeof tenant === 'string' ? tenant : '').trim().toLowerCase(),
    name: from.name || 'someone',
    channelUserId: from.id,
  };
}

/** The conversation an activity came from, and whether it is the person's private chat with the bot. */
export function placeOf(ctx: TurnContext): Place {
  return { platform: 'teams', conversationId: ctx.activity.conversation?.id ?? '', personal: ctx.activity.conversation?.conversationType === 'personal' };
}

export function commandText(ctx: TurnContext): string {
  // Strip the bot's own @mention (channels and group chats), and any leftover <at> tags.
  const text = TurnContext.removeRecipientMention(ctx.activity) ?? ctx.activity.text ?? '';
  return text.replace(/<at>[^<]*<\/at>/g, '').replace(/&nbsp;/g, ' ').trim();
}

export class TeamsBot extends ActivityHandler {
  constructor(private readonly deps: TeamsBotDeps) {
    super();
    // A submitted form is a durable job: once the card says "running checks", the request is made
    // even if this process dies before the checks finish.
    deps.queue.handle(TEAMS_SUBMIT_JOB, async (p, ctx) => {
      const job = p as unknown as SubmitJob;
      const notice = (title: string, text: string) => this.deps.notifier.replaceCard(job.conversation.ref as never, job.cardMessageId, noticeCard(title, text, 'attention'));
      try {
        const out = await this.deps.workflow.submit(job.actor, job.conversation, job.targetType, job.data, job.cardMessageId);
        if (!out.ok) await notice('Request refused', out.refusal.message);
      } catch (e) {
        // The card must not say "running checks" for ever: an Azure error (or the last attempt) is shown on it.
        if (isArmError(e)) return void (await notice('Could not run the checks', `Azure answered with an error: ${e.describe()}. Nothing was stored; submit the form again.`));
        if (ctx.attempt >= SUBMIT_ATTEMPTS) return void (await notice('Could not run the checks', 'Something went wrong on my side. Nothing was stored; submit the form again.'));
        throw e;
      }
    });
    this.onMessage(async (ctx, next) => {
      await this.handleMessage(ctx);
      await next();
    });
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) {
    this.deps.log?.(level, msg, data);
  }

  private async handleMessage(ctx: TurnContext): Promise<void> {
    // Action.Submit fallback: a message whose value carries the verb.
    const value = ctx.activity.value as unknown;
    if (value && typeof value === 'object' && typeof (value as { verb?: unknown }).verb === 'string') {
      const reply = await this.safely(() => this.handleAction(ctx, (value as { verb: string }).verb, value));
      if ('card' in reply && ctx.activity.replyToId) {
        await ctx.updateActivity({ type: 'message', id: ctx.activity.replyToId, attachments: [asAttachment(reply.card)] });
      } else if ('card' in reply) {
        await ctx.sendActivity(MessageFactory.attachment(asAttachment(reply.card)));
      } else {
        await ctx.sendActivity(MessageFactory.text(reply.text));
      }
      return;
    }
    const reply = await this.safely(() => this.handleCommand(ctx, commandText(ctx)));
    await ctx.sendActivity('card' in reply ? MessageFactory.attachment(asAttachment(reply.card)) : MessageFactory.text(reply.text));
  }

  protected override async onAdaptiveCardInvoke(ctx: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const verb = invokeValue?.action?.verb ?? '';
    const reply = await this.safely(() => this.handleAction(ctx, verb, invokeValue?.action?.data ?? {}));
    return 'card' in reply
      ? { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: reply.card }
      : { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: reply.text as unknown as Record<string, unknown> };
  }

  /** Refusals are shown verbatim; faults are logged and the user gets a short message. */
  private async safely(fn: () => Promise<Reply>): Promise<Reply> {
    try {
      return await fn();
    } catch (e) {
      // A refusal may quote what the user sent: shown as typed.
      if (e instanceof Refusal) return { text: teamsText(e.message) };
      if (isArmError(e)) {
        this.log('warn', 'ARM call failed during a turn', { code: e.code, correlationId: e.correlationId });
        return { text: `Azure answered with an error: ${e.describe()}` };
      }
      const ref = Math.random().toString(36).slice(2, 10);
      this.log('error', 'unexpected failure in a Teams turn', { ref, error: (e as Error).stack ?? String(e) });
      return { text: `Something went wrong on my side (reference ${ref}). Nothing was changed in Azure. Please try again.` };
    }
  }

  private async handleCommand(ctx: TurnContext, text: string): Promise<Reply> {
    const cmd = parseCommand(text);
    switch (cmd.kind) {
      case 'help':
        return { text: helpText() };
      case 'usage':
        // The problem can quote what the person typed: shown as typed, never as a link or mention.
        return { text: usageText(teamsText(cmd.problem)) };
      case 'status': {
        const req = await this.deps.workflow.view(cmd.id, actorOf(ctx), placeOf(ctx));
        return { card: requestCard(req, this.deps.workflow.roleOf(req, actorOf(ctx))) };
      }
      case 'list': {
        const reqs = await this.deps.workflow.list(actorOf(ctx), cmd.which, placeOf(ctx));
        if (!reqs.length) return { text: cmd.which === 'pending' ? 'No request is waiting for approval.' : 'You have no requests yet. Start one with `new fluid-relay`.' };
        return { text: [`**${cmd.which === 'pending' ? 'Waiting for approval' : 'Your requests'}**`, ...reqs.map((r) => teamsText(listLine(r)))].join('\n') };
      }
      case 'cancel':
        return { card: requestCard(await this.deps.workflow.cancel(cmd.id, actorOf(ctx)), 'requester') };
      case 'audit': {
        const { request, rows } = await this.deps.workflow.trail(cmd.id, actorOf(ctx), placeOf(ctx));
        const [head, ...lines] = auditText(request, rows).split('\n');
        return { text: [head, ...lines.map(teamsText)].join('\n') };
      }
      case 'evidence': {
        const req = await this.deps.workflow.view(cmd.id, actorOf(ctx), placeOf(ctx));
        const record = await buildEvidence(this.deps.store, req.id);
        if (!record) throw new Refusal(`There is no request ${cmd.id}.`);
        return { text: evidenceText(record, (t) => Buffer.byteLength(JSON.stringify(t)) <= TEAMS_TEXT_BUDGET_BYTES) };
      }
      case 'rotate': {
        const type = cmd.resourceId.split('/').slice(6, 8).join('/').toLowerCase();
        if (type === 'microsoft.storage/storageaccounts') {
          const choices = await this.deps.catalog.choices(cmd.resourceId.split('/')[2]);
          return { card: formCard('storage-cmk', choices, { storageAccountId: cmd.resourceId }) };
        }
        if (type === 'microsoft.chaos/experiments') {
          // The key lives on the storage account; the experiment's only CMK property PATCH may change is its identity.
          const choices = await this.deps.catalog.choices(cmd.resourceId.split('/')[2]);
          return { card: formCard('chaos-identity', choices, { resourceId: cmd.resourceId, experimentName: cmd.resourceId.split('/').pop() }) };
        }
        if (type !== 'microsoft.fluidrelay/fluidrelayservers') throw new Refusal(`I can rotate keys of Fluid Relay servers and storage accounts; ${cmd.resourceId.split('/').slice(6, 8).join('/')} is neither.`);
        const server = await this.deps.workflow.readExisting(cmd.resourceId, 'fluid-relay-rotate', actorOf(ctx));
        const choices = await this.deps.catalog.choices(cmd.resourceId.split('/')[2]);
        return { card: formCard('fluid-relay-rotate', choices, server) };
      }
      case 'check-request':
        return { card: requestCard(await this.deps.workflow.recheck(cmd.id, actorOf(ctx), placeOf(ctx))) };
      case 'check-resource': {
        const { target, resource, checks, keyUrl } = await this.deps.workflow.review(cmd.resourceId, actorOf(ctx));
        return { card: fitCard(reviewView(target.displayName, resource.id, resource.location, keyUrl, checks)) };
      }
      case 'new': {
        if (cmd.from) {
          // CMK can only be set at creation: copy the experiment's steps and selectors into a new one.
          const source = await this.deps.workflow.readExisting(cmd.from, cmd.target, actorOf(ctx));
          const choices = await this.deps.catalog.choices(cmd.from.split('/')[2]);
          const rg = cmd.from.split('/')[4];
          return { card: formCard(cmd.target, choices, { ...source, resourceGroup: rg, name: `${cmd.from.split('/').pop()}-cmk`, from: cmd.from }) };
        }
        const choices = await this.deps.catalog.choices(cmd.resourceId?.split('/')[2]);
        return { card: formCard(cmd.target, choices, cmd.resourceId ? { storageAccountId: cmd.resourceId } : {}) };
      }
    }
  }

  private async handleAction(ctx: TurnContext, verb: string, raw: unknown): Promise<Reply> {
    const data = actionData.safeParse(raw);
    if (!data.success) return { text: 'That card action was not understood. Send `help` to start again.' };
    const actor = actorOf(ctx);
    switch (verb) {
      case VERBS.formReload: {
        const target = this.deps.workflow.target(data.data.targetType ?? '');
        const choices = await this.deps.catalog.choices(String(data.data.subscriptionId ?? ''));
        return { card: formCard(target.type, choices, data.data) };
      }
      case VERBS.formSubmit: {
        const target = this.deps.workflow.target(data.data.targetType ?? '');
        const parsed = parseForm(target, data.data);
        if (!parsed.ok) {
          const choices = await this.deps.catalog.choices(String(data.data.subscriptionId ?? ''));
          return { card: formCard(target.type, choices, data.data, parsed.errors) };
        }
        // Checks take several ARM round trips: answer now, update this card when they are done.
        const conversation = { platform: 'teams' as const, ref: TurnContext.getConversationReference(ctx.activity) };
        const cardMessageId = ctx.activity.replyToId;
        // Only the fields the schema took (as sent): a stray field is not stored with the job.
        const fields = Object.fromEntries(Object.keys(parsed.params).map((k) => [k, (data.data as Record<string, unknown>)[k]]));
        const job: SubmitJob = { actor, conversation, targetType: target.type, data: { ...fields, targetType: target.type }, cardMessageId };
        await this.deps.queue.enqueue({ kind: TEAMS_SUBMIT_JOB, key: `teams.submit:${conversation.ref.conversation?.id}:${cardMessageId ?? randomUUID()}`, payload: job as never, maxAttempts: SUBMIT_ATTEMPTS });
        return { card: noticeCard(`⏳ Running ${target.checks.length} prerequisite checks…`, `Checking key, identity and region for ${target.displayName} ${String(data.data.name ?? '')}. This card updates when they finish.`, 'accent') };
      }
      case VERBS.approve:
      case VERBS.reject: {
        const id = data.data.requestId ?? '';
        const reason = storableText(data.data.reason ?? '').trim();
        if (verb === VERBS.reject && !reason) throw new Refusal('Please give a reason in the box on the card to reject this request.');
        if (reason.length > MAX_REASON_LENGTH) throw new Refusal(`Please keep the reason to ${MAX_REASON_LENGTH} characters (it has ${reason.length}); nothing was recorded.`);
        try {
          const req = await this.deps.workflow.decide(id, actor, verb === VERBS.approve ? 'approved' : 'rejected', { reason: reason || undefined, digest: data.data.digest, place: placeOf(ctx) });
          return { card: requestCard(req, this.deps.workflow.roleOf(req, actor)) };
        } catch (e) {
          // A decision on a card that is no longer current (or that named no digest): the person gets
          // the request as it is now, with the reason their click did not count.
          if (e instanceof Refusal && e.current) return { card: fitCard({ ...requestView(e.current, this.deps.workflow.roleOf(e.current, actor)), notice: teamsText(e.message) }) };
          throw e;
        }
      }
      case VERBS.cancel: {
        const req = await this.deps.workflow.cancel(data.data.requestId ?? '', actor);
        return { card: requestCard(req, 'requester') };
      }
      case VERBS.refresh: {
        // Universal Actions refresh: each user gets their own view of the same request.
        const req = await this.deps.workflow.view(data.data.requestId ?? '', actor, placeOf(ctx));
        return { card: requestCard(req, this.deps.workflow.roleOf(req, actor)) };
      }
      default:
        return { text: `Unknown card action "${teamsText(verb.slice(0, 100))}". Send \`help\` to start again.` };
    }
  }
}
