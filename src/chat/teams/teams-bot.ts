// Teams turns → channel-neutral commands and card verbs. One handler per verb; verbs are the
// strings in cards/*.json. Card actions never throw into the channel.
import { ActivityHandler, type AdaptiveCardInvokeResponse, type AdaptiveCardInvokeValue, type InvokeResponse, MessageFactory, type TurnContext } from '@microsoft/agents-hosting';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MAX_REASON_LENGTH, REQUEST_ID_PATTERN, storableText } from '../../domain/canonical';
import type { Actor, ChangeRequest } from '../../domain/types';
import type { Store } from '../../store/store';
import type { FormCatalog } from '../../workflow/catalog';
import { type Place, Refusal, type Workflow } from '../../workflow/service';
import type { DurableQueue, JobContext } from '../../workflow/durable';
import { defineJob, type JobRegistry } from '../../workflow/job-registry';
import type { Watchdog } from '../../workflow/watchdog';
import { actorSchema, formDataSchema } from '../job-payloads';
import { isArmError } from '../../azure/port';
import { parseCommand, usageText } from '../commands';
import { describeFailure } from '../faults';
import { checkForm, checkingNotice, type FormCarry, formView, matchingChoices, needsChoices, optionsOf } from '../forms';
import { evidenceText, requestView, type Viewer } from '../presenter';
import { type CommandRouter, FIX_REF_PATTERN, type Reply as RouterReply } from '../router';
import { asAttachment, cardUpdate, fitCard, noticeCard, teamsText } from './cards';
import { formCardOf, parseDataset } from './form-card';
import type { StoredReference, TeamsNotifier } from './notifier';

const TEAMS_SUBMIT_JOB = 'teams.submit';
/**
 * Teams refuses messages over ~28 KB, counted on the activity as sent (where the record's quotes
 * and line breaks are escaped once more): the evidence record goes as a code block up to this.
 */
export const TEAMS_TEXT_BUDGET_BYTES = 26_000;
const SUBMIT_ATTEMPTS = 3;

/** A submitted form, kept until its checks have run and the request is stored. */
const submitJob = defineJob({
  kind: TEAMS_SUBMIT_JOB,
  schema: z.object({
    actor: actorSchema,
    conversation: z.object({
      platform: z.literal('teams'),
      ref: z.custom<StoredReference>((v) => typeof v === 'object' && v !== null && typeof (v as { conversation?: { id?: unknown } }).conversation?.id === 'string', 'a conversation reference'),
    }),
    targetType: z.string(),
    data: formDataSchema,
    cardMessageId: z.string().optional(),
    unblocks: z.string().optional(),
  }),
  // The handler is the bot's (it answers on the card); set when the bot is built.
  handler: async () => undefined,
});
type SubmitJob = z.output<typeof submitJob.schema>;

export const VERBS = {
  formSubmit: 'form.submit',
  formReload: 'form.reload',
  approve: 'request.approve',
  reject: 'request.reject',
  refresh: 'request.refresh',
  cancel: 'request.cancel',
  ack: 'finding.ack',
  snooze: 'finding.snooze',
  fix: 'request.fix',
} as const;

/** An `application/search` invoke (a picker's Data.Query: a dependent one, or one too long to list): the dataset and the card's other inputs. */
const searchValue = z.object({
  dataset: z.string().max(200),
  queryText: z.string().max(500).optional(),
  queryOptions: z
    .object({ skip: z.number().int().min(0).max(10_000).optional(), top: z.number().int().min(1).max(1000).optional() })
    .partial()
    .optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

/**
 * What a form's actions carry besides its fields (forms.ts FormCarry): the blocked request a fix's
 * form unblocks, when it names one of ours, and the check whose values filled it in.
 */
function carryOf(data: Record<string, unknown>): FormCarry {
  const unblocks = typeof data.unblocks === 'string' ? data.unblocks.toUpperCase() : '';
  if (typeof data.from === 'string' && data.from && !FIX_REF_PATTERN.test(data.from)) throw new Refusal(FORM_NOT_UNDERSTOOD);
  const from = typeof data.from === 'string' ? data.from : '';
  const fromDigest = typeof data.fromDigest === 'string' ? data.fromDigest : '';
  return { ...(REQUEST_ID_PATTERN.test(unblocks) ? { unblocks } : {}), ...(from ? { from, fromDigest } : {}) };
}
const FORM_NOT_UNDERSTOOD = 'That form was not understood. Send `help` to start again.';

/** An alert's Acknowledge / Snooze: which watch and key, and for a snooze how long and why. */
const alertAction = z.object({ watchId: z.string().max(40), groupKey: z.string().max(2048), snoozeHours: z.string().max(10).optional(), snoozeReason: z.string().max(2000).optional() }).passthrough();

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
  watchdog?: Watchdog;
  router: CommandRouter;
  /** Where the bot defines its durable job kinds (wired to the queue once, by the app). */
  registry: JobRegistry;
  store: Store;
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
  const text = ctx.activity.removeRecipientMention() || ctx.activity.text || '';
  return text
    .replace(/<at>[^<]*<\/at>/g, '')
    .replace(/&nbsp;/g, ' ')
    .trim();
}

export class TeamsBot extends ActivityHandler {
  constructor(private readonly deps: TeamsBotDeps) {
    super();
    // A submitted form is a durable job: once the card says "running checks", the request is made
    // even if this process dies before the checks finish.
    deps.registry.define({ ...submitJob, handler: (job, ctx) => this.submitted(job, ctx) });
    this.onMessage(async (ctx, next) => {
      await this.handleMessage(ctx);
      await next();
    });
  }

  /** The durable submission: the checks run and the request is stored, or the card says why not. */
  private async submitted(job: SubmitJob, ctx: JobContext): Promise<void> {
    {
      const notice = (title: string, text: string) => this.deps.notifier.replaceCard(job.conversation.ref, job.cardMessageId, noticeCard(title, text, 'attention'));
      try {
        const out = await this.deps.workflow.submit(job.actor, job.conversation, job.targetType, job.data, job.cardMessageId, { unblocks: job.unblocks });
        if (!out.ok) await notice('Request refused', out.refusal.message);
      } catch (e) {
        // The card must not say "running checks" for ever: an Azure error (or the last attempt) is shown on it.
        if (isArmError(e)) return void (await notice('Could not run the checks', `Azure answered with an error: ${e.describe()}. Nothing was stored; submit the form again.`));
        if (ctx.attempt >= SUBMIT_ATTEMPTS) return void (await notice('Could not run the checks', 'Something went wrong on my side. Nothing was stored; submit the form again.'));
        throw e;
      }
    }
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) {
    this.deps.log?.(level, msg, data);
  }

  private async handleMessage(ctx: TurnContext): Promise<void> {
    // Action.Submit fallback: a message whose value carries the verb.
    const value = ctx.activity.value as unknown;
    if (value && typeof value === 'object' && typeof (value as { verb?: unknown }).verb === 'string') {
      const reply = await this.safely(() => this.handleAction(ctx, (value as { verb: string }).verb, value));
      if ('card' in reply) {
        // The card that was clicked is replaced; when it cannot be (the message is gone, or the
        // fallback named no message of ours) the answer comes as a new card instead of being lost.
        const replyTo = ctx.activity.replyToId;
        const replaced =
          !!replyTo &&
          (await ctx.updateActivity(cardUpdate(replyTo, asAttachment(reply.card))).then(
            () => true,
            (e: unknown) => {
              this.log('warn', 'could not update the clicked card; sending a new one', { replyToId: replyTo, error: (e as Error).message });
              return false;
            },
          ));
        if (!replaced) await ctx.sendActivity(MessageFactory.attachment(asAttachment(reply.card)));
      } else {
        await ctx.sendActivity(MessageFactory.text(reply.text));
      }
      return;
    }
    const reply = await this.safely(() => this.handleCommand(ctx, commandText(ctx)));
    await ctx.sendActivity('card' in reply ? MessageFactory.attachment(asAttachment(reply.card)) : MessageFactory.text(reply.text));
  }

  protected override async onInvokeActivity(ctx: TurnContext): Promise<InvokeResponse> {
    // The SDK refuses a search without query text; a dependent picker opened before anything is
    // typed sends none, and must still get its choices.
    if (ctx.activity.name === 'application/search') {
      try {
        const body = await this.searchChoices(ctx);
        return { status: body.statusCode, body };
      } catch (e) {
        const reply = await this.safely(() => Promise.reject(e));
        const message = 'text' in reply ? reply.text : 'The choices could not be read.';
        return { status: 200, body: { statusCode: 500, type: 'application/vnd.microsoft.error', value: { code: 'InternalError', message } } };
      }
    }
    return super.onInvokeActivity(ctx);
  }

  protected override async onAdaptiveCardInvoke(ctx: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    // Outside input: a verb that is not text is no verb (answered as an unknown action).
    const verb = typeof invokeValue?.action?.verb === 'string' ? invokeValue.action.verb : '';
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
      const failure = describeFailure(e, (level, msg, data) => this.log(level, msg, data), 'a Teams turn');
      // A refusal may quote what the user sent: shown as typed.
      return { text: failure.kind === 'refusal' ? teamsText(failure.text) : failure.text };
    }
  }

  private async handleCommand(ctx: TurnContext, text: string): Promise<Reply> {
    const conversation = { platform: 'teams' as const, ref: ctx.activity.getConversationReference() };
    return this.render(await this.deps.router.run(parseCommand(text, this.deps.workflow.targets), actorOf(ctx), placeOf(ctx), conversation));
  }

  /** A request as this viewer sees it, as a card. */
  private card(req: ChangeRequest, viewer: Viewer): Record<string, unknown> {
    return fitCard(requestView(req, viewer, this.deps.workflow.targets));
  }

  /** The router's reply as Teams shows it: outside text shown as typed, requests and forms as cards. */
  private render(reply: RouterReply): Reply {
    switch (reply.kind) {
      case 'markdown':
        return { text: reply.text };
      case 'usage':
        // The problem can quote what the person typed: shown as typed, never as a link or mention.
        return { text: usageText(teamsText(reply.problem), reply.verb) };
      case 'lines':
        return { text: [...(reply.head ? [reply.head] : []), ...reply.lines.map(teamsText)].join('\n') };
      case 'request':
        return { card: fitCard(reply.view) };
      case 'review':
        return { card: fitCard(reply.view) };
      case 'form':
        return { card: formCardOf(reply.form) };
      case 'evidence':
        return { text: evidenceText(reply.record, (t) => Buffer.byteLength(JSON.stringify(t)) <= TEAMS_TEXT_BUDGET_BYTES) };
    }
  }

  /**
   * A picker's choices (Data.Query, `application/search`), filtered by what the person typed: for a
   * dependent picker those that belong to the value chosen for the field it depends on (a key's
   * versions). Read from the subscription the person chose on the card, else the one the card was
   * drawn for (its dataset: a form without a subscription picker).
   */
  async searchChoices(ctx: TurnContext): Promise<{ statusCode: number; type: string; value: unknown }> {
    const v = searchValue.safeParse(ctx.activity.value);
    const fail = (message: string) => ({ statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: 'BadRequest', message } });
    if (!v.success) return fail('Not a search request.');
    const dataset = parseDataset(v.data.dataset);
    const target = dataset ? this.deps.workflow.targets.find(dataset.targetType) : undefined;
    const field = target?.fields.find((f) => f.name === dataset?.field);
    if (!target || !field || field.kind !== 'picker') return fail('Unknown dataset.');
    this.deps.workflow.admit(actorOf(ctx));
    const data = v.data.data ?? {};
    const choices = await this.deps.catalog.choices(typeof data.subscriptionId === 'string' && data.subscriptionId ? data.subscriptionId : dataset?.subscriptionId);
    const skip = v.data.queryOptions?.skip ?? 0;
    const top = Math.min(v.data.queryOptions?.top ?? 25, 100);
    const all = optionsOf(field, choices, data);
    const results = matchingChoices(all, v.data.queryText ?? '')
      .slice(skip, skip + top)
      .map((i) => all[i]!);
    return { statusCode: 200, type: 'application/vnd.microsoft.search.searchResponse', value: { results } };
  }

  private async handleAction(ctx: TurnContext, verb: string, raw: unknown): Promise<Reply> {
    const data = actionData.safeParse(raw);
    if (!data.success) return { text: 'That card action was not understood. Send `help` to start again.' };
    const actor = actorOf(ctx);
    switch (verb) {
      case VERBS.formReload: {
        // Another subscription or key: the pickers again, for the values chosen; dependents start over.
        const target = this.deps.workflow.target(data.data.targetType ?? '');
        this.deps.workflow.admit(actor);
        const { values, carry } = await this.deps.router.withFixedFrom(target, carryOf(data.data), data.data, actor, placeOf(ctx), false);
        return { card: formCardOf((await this.deps.router.form(target, values, [], { carry })).form) };
      }
      case VERBS.formSubmit: {
        const target = this.deps.workflow.target(data.data.targetType ?? '');
        // A form filled in from a request's check carries the check's name, not its values: read them
        // again, and refuse them if they are no longer what the form showed.
        const { values, carry } = await this.deps.router.withFixedFrom(target, carryOf(data.data), data.data, actor, placeOf(ctx), true);
        const sub = typeof values.subscriptionId === 'string' && values.subscriptionId ? values.subscriptionId : undefined;
        // The pickers, to hold a dependent choice against (a key version of the chosen key) — read only
        // when one names a specific value; an Azure error reading them is answered as Azure's error.
        const choices = needsChoices(target, values) ? await this.deps.catalog.choices(sub) : undefined;
        const parsed = checkForm(target, values, choices);
        if (!parsed.ok) {
          const form = choices ? formView(target, choices, values, parsed.errors, { carry }) : (await this.deps.router.form(target, values, parsed.errors, { carry })).form;
          return { card: formCardOf(form) };
        }
        const { unblocks } = carry;
        // Checks take several ARM round trips: answer now, update this card when they are done.
        const conversation = { platform: 'teams' as const, ref: ctx.activity.getConversationReference() };
        const cardMessageId = ctx.activity.replyToId;
        // Only the fields the schema took (as sent, the fixed ones as the check holds them): a stray field is not stored with the job.
        const fields = Object.fromEntries(Object.keys(parsed.params).map((k) => [k, values[k]]));
        await this.deps.queue.enqueue(
          submitJob.spec(
            { actor, conversation, targetType: target.type, data: { ...fields, targetType: target.type }, cardMessageId, ...(unblocks ? { unblocks } : {}) },
            { key: `teams.submit:${conversation.ref.conversation?.id}:${cardMessageId ?? randomUUID()}`, maxAttempts: SUBMIT_ATTEMPTS },
          ),
        );
        const notice = checkingNotice(target, values);
        return { card: noticeCard(notice.title, notice.text, 'accent') };
      }
      case VERBS.approve:
      case VERBS.reject: {
        const id = data.data.requestId ?? '';
        const reason = storableText(data.data.reason ?? '').trim();
        if (verb === VERBS.reject && !reason) throw new Refusal('Please give a reason in the box on the card to reject this request.');
        if (reason.length > MAX_REASON_LENGTH) throw new Refusal(`Please keep the reason to ${MAX_REASON_LENGTH} characters (it has ${reason.length}); nothing was recorded.`);
        try {
          const req = await this.deps.workflow.decide(id, actor, verb === VERBS.approve ? 'approved' : 'rejected', { reason: reason || undefined, digest: data.data.digest, place: placeOf(ctx) });
          return { card: this.card(req, this.deps.workflow.roleOf(req, actor)) };
        } catch (e) {
          // A decision on a card that is no longer current (or that named no digest): the person gets
          // the request as it is now, with the reason their click did not count.
          if (e instanceof Refusal && e.current) return { card: fitCard({ ...requestView(e.current, this.deps.workflow.roleOf(e.current, actor), this.deps.workflow.targets), notice: teamsText(e.message) }) };
          throw e;
        }
      }
      case VERBS.cancel: {
        const req = await this.deps.workflow.cancel(data.data.requestId ?? '', actor);
        return { card: this.card(req, 'requester') };
      }
      case VERBS.refresh: {
        // Universal Actions refresh: each user gets their own view of the same request.
        const req = await this.deps.workflow.view(data.data.requestId ?? '', actor, placeOf(ctx));
        return { card: this.card(req, this.deps.workflow.roleOf(req, actor)) };
      }
      case VERBS.fix: {
        return { card: formCardOf((await this.deps.router.fix(actor, raw, placeOf(ctx))).form) };
      }
      case VERBS.ack:
      case VERBS.snooze: {
        const watchdog = this.deps.watchdog;
        if (!watchdog) throw new Refusal('The watchdog is not running on this bot.');
        this.deps.workflow.admit(actor);
        const d = alertAction.safeParse(raw);
        if (!d.success) return { text: 'That alert action was not understood.' };
        if (verb === VERBS.ack) {
          const { count } = await watchdog.mark(actor, placeOf(ctx), d.data.watchId, d.data.groupKey, { ack: true });
          return { text: teamsText(`✔️ ${actor.name} acknowledged this alert (${count} finding${count === 1 ? '' : 's'}).`) };
        }
        const hours = Number(d.data.snoozeHours ?? 0);
        const reason = storableText(d.data.snoozeReason ?? '').trim();
        await watchdog.mark(actor, placeOf(ctx), d.data.watchId, d.data.groupKey, { snoozeHours: hours, reason });
        const until = new Date(Date.now() + hours * 3600_000).toISOString().replace('T', ' ').slice(0, 16);
        return { text: teamsText(`💤 ${actor.name} snoozed this alert until ${until} UTC: ${reason}`) };
      }
      default:
        return { text: `Unknown card action "${teamsText(verb.slice(0, 100))}". Send \`help\` to start again.` };
    }
  }
}
