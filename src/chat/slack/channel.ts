// Slack: the same product through /cmk, modals and channel approvals, on the same workflow.
// Every request is acknowledged first; checks, ARM calls and message updates run after the ack.
import { App, LogLevel, webApi, type BlockAction, type ButtonAction } from '@slack/bolt';
import type { KnownBlock, ModalView } from '@slack/types';
import type { Express } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Actor, ChangeRequest } from '../../domain/types';
import { MAX_REASON_LENGTH, REQUEST_ID_PATTERN, storableText } from '../../domain/canonical';
import type { FormChoices } from '../../workflow/catalog';
import { defineJob } from '../../workflow/job-registry';
import type { TargetRegistry } from '../../targets';
import { actorSchema, formDataSchema } from '../job-payloads';
import { type ChatNotifier, type Place, Refusal } from '../../workflow/service';
import { countAnswering } from '../answering';
import { helpText, parseCommand, usageText } from '../commands';
import { describeFailure } from '../faults';
import { afterChange, checkForm, type FormCarry, formView, optionsOf } from '../forms';
import { evidenceText, requestView, type Viewer } from '../presenter';
import type { ChannelDeps } from '../channel-deps';
import { fixActionOf, type Reply } from '../router';
import { alertBlocks, esc, loadingModal, REJECT_CALLBACK, rejectModal, requestBlocks, requestFallbackText, SNOOZE_CALLBACK, snoozeModal } from './blocks';
import type { AlertView } from '../../workflow/alert';
import { errorBlocks, fieldOfBlock, FORM_CALLBACK, formModalOf, noticeModal, readModal, readModalState, suggestOptions } from './form-modal';
import { type SlackDeliveryContext, SlackReceiver } from './receiver';

type Log = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

export interface SlackSettings {
  signingSecret: string;
  botToken: string;
  apiUrl: string;
}

interface SlackRef {
  channel: string;
  team?: string;
}

/** A form open in a modal, kept in the database so whichever replica gets the next step can read it. */
type FormSession = {
  channel: string;
  targetType: string;
  /** The pickers the modal was drawn with (options carry indexes into these). */
  choices: FormChoices;
  /** Values the form carries but does not let anyone change (the resource a key change is for). */
  fixed: Record<string, string>;
  note: string;
  /** Carried with the submission: a fix's `unblocks`. (A `from` is not kept: the fixed values are, above.) */
  carry?: Pick<FormCarry, 'unblocks'>;
};

/** Durable Slack work: what a user did is acknowledged only once it is stored as a job. Handlers are the channel's. */
const noHandler = async () => undefined;
const submitJob = defineJob({
  kind: 'slack.submit',
  schema: z.object({ actor: actorSchema, channel: z.string(), team: z.string().nullable(), targetType: z.string().default('fluid-relay'), data: formDataSchema, unblocks: z.string().optional() }),
  handler: noHandler,
});
const decideJob = defineJob({
  kind: 'slack.decide',
  schema: z.object({ requestId: z.string(), actor: actorSchema, decision: z.enum(['approved', 'rejected']), reason: z.string().optional(), digest: z.string().nullable().optional(), channel: z.string() }),
  handler: noHandler,
});
const cancelJob = defineJob({ kind: 'slack.cancel', schema: z.object({ requestId: z.string(), actor: actorSchema, channel: z.string() }), handler: noHandler });
/** An alert acknowledged or snoozed (the watchdog's findings). */
const findingJob = defineJob({
  kind: 'slack.finding',
  schema: z.object({
    actor: actorSchema,
    channel: z.string(),
    messageTs: z.string(),
    watchId: z.string(),
    groupKey: z.string(),
    how: z.union([z.object({ ack: z.literal(true) }), z.object({ snoozeHours: z.number(), reason: z.string() })]),
  }),
  handler: noHandler,
});

const FORM_TTL_MS = 30 * 60_000;
/**
 * A form made at once (its pickers cached) that is not ready this long after its command arrived
 * (the database slow) shows the loading modal then instead, leaving two of the trigger's 3 s for
 * Slack to get it.
 */
const LOADING_AFTER_MS = 1000;
/**
 * A form's modal waits for a moment with no chat request being answered (src/workflow/inbound.ts),
 * but opens this long after its command arrived at the latest, whatever the load: the trigger lives
 * 3 s.
 */
const OPEN_BY_MS = 750;
/** Slack's limit on a message's text, in characters. */
const SLACK_TEXT_LIMIT = 40_000;

export interface SlackChannel {
  mount(server: Express): void;
}

/** What talks to Slack's Web API: the client holding the bot token, and the notifier (the workflow's port). */
export interface SlackTransport {
  settings: SlackSettings;
  client: InstanceType<typeof webApi.WebClient>;
  clientOptions: Record<string, unknown>;
  notifier: ChatNotifier;
}

/**
 * The Slack side that needs no workflow: the Web API client and the notifier. Built first, so the
 * workflow gets its notifier at construction and the channel gets the workflow at its own.
 */
export function createSlackTransport(settings: SlackSettings, deps: { targets: TargetRegistry }): SlackTransport {
  const clientOptions = {
    slackApiUrl: settings.apiUrl,
    // The Web API client's defaults retry for ~30 minutes with no timeout: wrong for a chat bot.
    timeout: 5000,
    retryConfig: { retries: 3, factor: 2, minTimeout: 200, maxTimeout: 5000, maxRetryTime: 20_000 },
    rejectRateLimitedCalls: false, // 429 → wait Retry-After, within the retries above
  };
  // Our own calls go through a client holding the bot token.
  const client = new webApi.WebClient(settings.botToken, { ...clientOptions, logLevel: webApi.LogLevel.ERROR });
  const notifier: ChatNotifier = {
    async showRequest(req: ChangeRequest) {
      const ref = req.conversation.ref as SlackRef;
      const view = requestView(req, 'all', deps.targets);
      if (req.cardMessageId) {
        await client.chat.update({ channel: ref.channel, ts: req.cardMessageId, text: requestFallbackText(view), blocks: requestBlocks(view) });
        return req.cardMessageId;
      }
      const posted = await client.chat.postMessage({ channel: ref.channel, text: requestFallbackText(view), blocks: requestBlocks(view), unfurl_links: false });
      return posted.ts;
    },
    async postAlert(conversation: ChangeRequest['conversation'], alert: AlertView) {
      const ref = conversation.ref as SlackRef;
      await client.chat.postMessage({ channel: ref.channel, text: esc(alert.title), blocks: alertBlocks(alert), unfurl_links: false });
    },
    async post(req: ChangeRequest, text: string) {
      const ref = req.conversation.ref as SlackRef;
      await client.chat.postMessage({ channel: ref.channel, thread_ts: req.cardMessageId, text: esc(text), unfurl_links: false });
    },
  };
  return { settings, client, clientOptions, notifier };
}

export interface SlackChannelDeps extends ChannelDeps {
  /** Tests: the clock the signature's timestamp is judged by. */
  now?: () => number;
}

/** The Slack endpoint (our receiver in front of Bolt) and its handlers, with every collaborator given at construction. */
export function createSlackChannel(transport: SlackTransport, deps: SlackChannelDeps): SlackChannel {
  const { settings, client, clientOptions } = transport;
  const receiver = new SlackReceiver({
    signingSecret: settings.signingSecret,
    log: deps.log,
    now: deps.now,
    // Retries and double clicks are recognised on every replica.
    claim: async (key) => (await deps.store.claimDelivery(`slack:${key}`)).kind === 'new',
    forget: (key) => deps.store.forgetDelivery(`slack:${key}`),
    routed: countAnswering(deps.inbound),
  });
  // Who the bot is, asked once (lazily: not while the server starts) and remembered. Bolt's own
  // lazy mode asks auth.test again on every event, so every acknowledgement waited for it.
  let identity: Promise<{ botId?: string; botUserId?: string }> | undefined;
  const whoAmI = () => {
    identity ??= client.auth.test().then(
      (r) => ({ botId: r.bot_id, botUserId: r.user_id }),
      (e: unknown) => {
        identity = undefined; // try again next time
        throw e;
      },
    );
    return identity;
  };
  const app = new App({
    receiver,
    // No conversation store: Bolt's default keeps per-conversation state in this process's memory,
    // which another replica cannot see (a form's state is in the database instead), and looks it up
    // for every event — for an event it holds nothing for, by making and discarding an Error.
    convoStore: false,
    logLevel: LogLevel.ERROR,
    authorize: async () => ({ botToken: settings.botToken, ...(await whoAmI()) }),
    clientOptions,
  });
  const wf = () => deps.workflow;
  const targets = () => deps.workflow.targets;

  const log: Log = deps.log ?? (() => undefined);
  /**
   * Who acted, from the signed payload: the workspace (or Enterprise Grid org) and the user id.
   * The display name is only shown.
   */
  const actorOf = (user: { id: string; name?: string; username?: string; team_id?: string }, workspace: { team?: string | null; enterprise?: string | null }): Actor => ({
    platform: 'slack',
    id: user.id,
    tenant: workspace.enterprise || workspace.team || user.team_id || '',
    name: user.name ?? user.username ?? user.id,
    channelUserId: user.id,
  });
  const workspaceOf = (body: { team?: { id?: string } | null; enterprise?: { id?: string } | null }) => ({ team: body.team?.id ?? null, enterprise: body.enterprise?.id ?? null });
  /** A Slack conversation: DMs (ids starting with D) are the person's private chat with the bot. */
  const placeOf = (channel: string): Place => ({ platform: 'slack', conversationId: channel, personal: /^D/.test(channel) });

  /** Refusals go to the user privately; faults are logged and summarised. */
  const tell = async (channel: string, user: string, e: unknown, actor?: Actor) => {
    const failure = describeFailure(e, log, 'a Slack handler');
    if (failure.kind === 'refusal' && failure.current) {
      // A decision on a stale card (or one that named no digest): the person sees the request as it is now.
      const v = { ...requestView(failure.current, actor ? viewerFor(failure.current, actor) : 'other', targets()), notice: failure.text };
      await client.chat.postEphemeral({ channel, user, text: esc(failure.text), blocks: requestBlocks(v) }).catch((err) => log('warn', 'could not post an ephemeral message', { error: (err as Error).message }));
      return;
    }
    await client.chat.postEphemeral({ channel, user, text: esc(failure.text) }).catch((err) => log('warn', 'could not post an ephemeral message', { error: (err as Error).message }));
  };

  /**
   * Work after the ack. The runner is bounded (a burst cannot grow memory without limit): when it is
   * full the work is refused, and `busy` tells the person to try again (nothing was done).
   */
  const later = (key: string, fn: () => Promise<void>, busy?: () => Promise<unknown>) => {
    if (deps.jobs.enqueue(key, fn)) return;
    log('warn', 'work after the ack refused: the bot is at its limit of background work', { job: key });
    busy?.().catch((e: unknown) => log('warn', 'could not say the bot is busy', { job: key, error: (e as Error).message }));
  };
  /** When the delivery reached the receiver (SlackDeliveryContext): a trigger id's 3 s count from then, not from the handler. */
  const arrivalOf = (context: object) => (context as Partial<SlackDeliveryContext>).receivedAt ?? performance.now();
  const BUSY = 'The bot is busy with many requests right now and did nothing with this one; please try again in a minute.';

  const router = () => deps.router;

  /** Keep a form for its modal: the next step (a changed picker, the submission) may reach another replica. */
  const keepForm = async (formId: string, session: FormSession) => deps.store.putFormSession(formId, session, FORM_TTL_MS);

  /** What a form's modal keeps for its next step. */
  const sessionOf = (channel: string, reply: Extract<Reply, { kind: 'form' }>): FormSession => ({
    channel,
    targetType: reply.target.type,
    choices: reply.choices,
    fixed: reply.fixed,
    note: reply.form.note,
    ...(reply.form.carry?.unblocks ? { carry: { unblocks: reply.form.carry.unblocks } } : {}),
  });

  /**
   * A form in a modal. Under a burst the acks come first: the modal opens once no chat request is
   * being answered, or OPEN_BY_MS after the command arrived (`receivedAt`) — the trigger id lives 3 s.
   * Then a loading modal opens and is filled in its turn on the bounded runner, when ARM has answered
   * (or says why it cannot become a form). `ready`: the form's pickers are in the catalog's cache, so
   * the form is made in milliseconds; if the runner has a free slot, it is made now and opens whole,
   * in one call — unless it is not made by LOADING_AFTER_MS after the command arrived (the database
   * slow), when the loading modal opens then and the form fills it. A command that took half that to
   * get here (its delivery claim slow, or a burst) takes the loading modal at once.
   */
  const openForm = async (triggerId: string, channel: string, title: string, receivedAt: number, produce: () => Promise<Reply>, ready = false) => {
    await deps.inbound.quiet(receivedAt + OPEN_BY_MS);
    const notice = (e: unknown) => noticeModal(title, describeFailure(e, log, 'a Slack form').text);
    // The form's modal, its session stored first (the next step may reach another replica); a
    // failure becomes a modal that says why.
    const formModal = async () => {
      try {
        const reply = await produce();
        if (reply.kind !== 'form') throw new Error(`a form command answered ${reply.kind}`);
        const formId = randomUUID();
        await keepForm(formId, sessionOf(channel, reply));
        return formModalOf(reply.form, formId);
      } catch (e) {
        return notice(e);
      }
    };
    const couldNot = (what: string) => (err: unknown) => log('warn', `could not ${what} a modal`, { error: (err as Error).message });
    const openLoading = async () => {
      const r = await client.views.open({ trigger_id: triggerId, view: loadingModal(FORM_CALLBACK, title) });
      return { id: r.view!.id!, hash: r.view!.hash };
    };
    // The loading modal filled in; if Slack refuses what it is filled with, a notice that says so.
    const fill = async (opened: { id: string; hash?: string }, view: ModalView) => {
      try {
        await client.views.update({ view_id: opened.id, hash: opened.hash, view });
      } catch (e) {
        await client.views.update({ view_id: opened.id, view: notice(e) }).catch(couldNot('update'));
      }
    };
    const elapsed = performance.now() - receivedAt;
    if (ready && elapsed < LOADING_AFTER_MS / 2) {
      // One open per trigger, whichever comes first: the whole form, or the loading modal it then fills.
      let loading: Promise<{ id: string; hash?: string } | undefined> | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const now = async () => {
        const view = await formModal();
        clearTimeout(timer);
        if (!loading) await client.views.open({ trigger_id: triggerId, view }).catch(couldNot('open'));
        else {
          const opened = await loading;
          if (opened) await fill(opened, view);
        }
      };
      if (deps.jobs.startIfFree(`slack-form:${triggerId}`, now)) {
        timer = setTimeout(() => {
          loading = openLoading().catch((e: unknown) => void couldNot('open')(e));
        }, LOADING_AFTER_MS - elapsed);
        return;
      }
    }
    const opened = await openLoading();
    later(
      `slack-form:${opened.id}`,
      async () => fill(opened, await formModal()),
      () => client.views.update({ view_id: opened.id, view: noticeModal(title, BUSY) }),
    );
  };

  app.command('/cmk', async ({ command, ack, respond, context }) => {
    const cmd = parseCommand(command.text ?? '', wf().targets);
    const actor = actorOf({ id: command.user_id, name: command.user_name }, { team: command.team_id, enterprise: command.enterprise_id });
    const place = placeOf(command.channel_id);
    // Commands that open a form: the modal opens at once (the trigger id lives 3 seconds), its content follows.
    if (cmd.kind === 'new' || cmd.kind === 'rotate' || cmd.kind === 'rotate-key') {
      await ack();
      const title = cmd.kind === 'new' ? (wf().targets.find(cmd.target)?.form.title ?? 'cmk-chatops') : cmd.kind === 'rotate-key' ? (wf().targets.forCommand('rotate-key')?.form.title ?? 'Rotate a key') : 'Change a key';
      await openForm(command.trigger_id, command.channel_id, title, arrivalOf(context), () => router().run(cmd, actor, place), router().formFromMemory(cmd));
      return;
    }
    await ack();
    later(
      `slack-cmd:${command.trigger_id}`,
      async () => {
        try {
          const conversation = { platform: 'slack' as const, ref: { channel: command.channel_id, ...(command.team_id ? { team: command.team_id } : {}) } satisfies SlackRef };
          await respond({ response_type: 'ephemeral', ...render(await router().run(cmd, actor, place, conversation)) });
        } catch (e) {
          await tell(command.channel_id, command.user_id, e);
        }
      },
      () => respond({ response_type: 'ephemeral', text: BUSY }),
    );
  });

  /** The router's reply as Slack shows it: outside text escaped, requests and reviews as blocks. */
  function render(reply: Reply): { text: string; blocks?: KnownBlock[] } {
    switch (reply.kind) {
      case 'markdown':
        return { text: slackify(reply.text) };
      case 'usage':
        return { text: slackify(usageText(reply.problem, reply.verb)) };
      case 'lines':
        return { text: [...(reply.head ? [slackify(reply.head)] : []), ...reply.lines.map(esc)].join('\n') };
      case 'request':
      case 'review':
        return { text: requestFallbackText(reply.view), blocks: requestBlocks(reply.view) };
      case 'form':
        return { text: 'A form opens for this command.' };
      case 'evidence': {
        // Slack refuses message text over 40,000 characters, counted after escaping.
        const text = evidenceText(reply.record, (t) => esc(t).length <= SLACK_TEXT_LIMIT, '');
        return { text: esc(text).replace(/\*\*([^*]+)\*\*/, '*$1*') };
      }
    }
  }

  function viewerFor(req: ChangeRequest, actor: Actor): Viewer {
    return wf().roleOf(req, actor);
  }

  /** The form a modal belongs to: its id from private_metadata (only one of ours is looked up) and the stored session. */
  const formOf = async (privateMetadata: string | undefined) => {
    const meta = safeJson<{ formId?: string }>(privateMetadata);
    const formId = typeof meta?.formId === 'string' && /^[0-9a-f-]{36}$/i.test(meta.formId) ? meta.formId : undefined;
    const session = formId ? await deps.store.getFormSession<FormSession>(formId) : undefined;
    const target = session ? wf().targets.find(session.targetType) : undefined;
    return formId && session && target ? { formId, session, target } : undefined;
  };

  app.view(FORM_CALLBACK, async ({ ack, body, view }) => {
    const form = await formOf(view.private_metadata);
    if (!form) {
      await ack({ response_action: 'errors', errors: errorBlocks(view.blocks, [{ field: '', message: 'This form has expired. Close it and run the /cmk command again.' }]) });
      return;
    }
    const { formId, session, target } = form;
    // Outside input: a submission may come without the state Slack documents (answered as errors, not a fault).
    const read = readModalState(target, view.state?.values, session.choices, session.fixed);
    const data = { ...read.values, targetType: target.type };
    const checked = checkForm(target, data, session.choices);
    const staleErrors = read.stale.map((f) => ({ field: f, message: `${target.fields.find((x) => x.name === f)?.label ?? f} was chosen for an earlier choice above it; choose it again` }));
    const parsed = staleErrors.length ? { ok: false as const, errors: [...staleErrors, ...(checked.ok ? [] : checked.errors)] } : checked;
    if (!parsed.ok) {
      // Modal validation comes back on the named field, within the ack; the same words Teams shows.
      await ack({ response_action: 'errors', errors: errorBlocks(view.blocks, parsed.errors) });
      return;
    }
    // Taken once: a second submission of the same form (another replica, a retry) finds it gone.
    if (!(await deps.store.takeFormSession(formId))) {
      await ack();
      return;
    }
    const actor = actorOf(body.user, workspaceOf(body));
    await deps.queue.enqueue(
      submitJob.spec(
        { actor, channel: session.channel, team: body.team?.id ?? null, targetType: target.type, data, ...(session.carry?.unblocks ? { unblocks: session.carry.unblocks } : {}) },
        { key: `slack.submit:${view.id}`, maxAttempts: 3 },
      ),
    );
    await ack();
  });

  // A picker others depend on changed (dispatch_action): the modal again with their choices for the
  // new value — a key's own versions, another subscription's resources — and the dependents reset.
  app.action<BlockAction>({ action_id: 'value' }, async ({ ack, body }) => {
    await ack();
    const view = body.view;
    if (!view || body.container?.type !== 'view') return;
    const changed = fieldOfBlock(String((body.actions[0] as { block_id?: string } | undefined)?.block_id ?? ''));
    later(`slack-form-change:${view.id}:${(body.actions[0] as { action_ts?: string } | undefined)?.action_ts ?? randomUUID()}`, async () => {
      try {
        const form = await formOf(view.private_metadata);
        if (!form) return;
        const { formId, session, target } = form;
        let choices = session.choices;
        let values: Record<string, unknown> = readModal(target, view.state?.values, choices, session.fixed);
        if (changed === 'subscriptionId' && typeof values.subscriptionId === 'string' && values.subscriptionId !== choices.subscriptionId) {
          choices = await deps.catalog.choices(values.subscriptionId);
          // Resource groups, identities, keys… of another subscription: those chosen no longer apply.
          values = { subscriptionId: values.subscriptionId, ...Object.fromEntries(target.fields.filter((f) => f.kind !== 'picker').map((f) => [f.name, values[f.name]])) };
        }
        values = afterChange(target, values, changed);
        await keepForm(formId, { ...session, choices });
        await client.views.update({ view_id: view.id, hash: view.hash, view: formModalOf(formView(target, choices, values, [], { note: session.note }), formId) });
      } catch (e) {
        log('warn', 'could not redraw a form after a change', { error: (e as Error).message });
      }
    });
  });

  // A picker longer than Slack lists (external_select): the options that match what the person typed,
  // from the choices the form was drawn with — for a dependent picker, those of the value chosen above
  // it. Read only; a form that expired offers nothing (its submission says why).
  app.options<'block_suggestion'>({ action_id: 'value' }, async ({ ack, body }) => {
    const admitted = (() => {
      try {
        wf().admit(actorOf(body.user, workspaceOf(body)));
        return true;
      } catch {
        return false;
      }
    })();
    const form = admitted && body.type === 'block_suggestion' ? await formOf(body.view?.private_metadata) : undefined;
    const field = form?.target.fields.find((f) => f.name === fieldOfBlock(String(body.block_id ?? '')));
    if (!form || !field) {
      await ack({ options: [] });
      return;
    }
    const values = readModal(form.target, body.view?.state?.values, form.session.choices, form.session.fixed);
    await ack({ options: suggestOptions(optionsOf(field, form.session.choices, values), typeof body.value === 'string' ? body.value : '') });
  });

  deps.registry.define(
    {
      ...submitJob,
      handler: async ({ actor, channel, team, targetType, data, unblocks }) => {
        try {
          const out = await wf().submit(actor, { platform: 'slack', ref: { channel, ...(team ? { team } : {}) } satisfies SlackRef }, targetType, data, undefined, { unblocks });
          if (!out.ok) await tell(channel, actor.id, out.refusal);
        } catch (e) {
          await tell(channel, actor.id, e);
        }
      },
    },
    {
      ...decideJob,
      handler: async ({ requestId, actor, decision, reason, digest, channel }) => {
        try {
          await wf().decide(requestId, actor, decision, { reason, digest: digest ?? undefined, place: placeOf(channel) });
        } catch (e) {
          await tell(channel, actor.id, e, actor);
        }
      },
    },
    {
      ...findingJob,
      handler: async ({ actor, channel, messageTs, watchId, groupKey, how }) => {
        try {
          if (!deps.watchdog) throw new Refusal('The watchdog is not running on this bot.');
          const { count } = await deps.watchdog.mark(actor, placeOf(channel), watchId, groupKey, how);
          const text = 'ack' in how ? `✔️ ${actor.name} acknowledged this alert (${count} finding${count === 1 ? '' : 's'}).` : `💤 ${actor.name} snoozed this alert for ${how.snoozeHours} hours: ${how.reason}`;
          await client.chat.postMessage({ channel, ...(messageTs ? { thread_ts: messageTs } : {}), text: esc(text), unfurl_links: false });
        } catch (e) {
          await tell(channel, actor.id, e);
        }
      },
    },
    {
      ...cancelJob,
      handler: async ({ requestId, actor, channel }) => {
        try {
          await wf().cancel(requestId, actor);
        } catch (e) {
          await tell(channel, actor.id, e);
        }
      },
    },
  );

  /** A button's value is outside input: only a request id and a digest of the right form are kept. */
  const buttonValue = (body: BlockAction): { requestId?: string; digest?: string } => {
    const v = safeJson<{ requestId?: unknown; digest?: unknown }>((body.actions[0] as ButtonAction | undefined)?.value ?? '') ?? {};
    const requestId = typeof v.requestId === 'string' && REQUEST_ID_PATTERN.test(v.requestId.toUpperCase()) ? v.requestId.toUpperCase() : undefined;
    const digest = typeof v.digest === 'string' && /^[0-9a-f]{64}$/.test(v.digest) ? v.digest : undefined;
    return { requestId, digest };
  };

  app.action<BlockAction>('request.approve', async ({ ack, body }) => {
    const { requestId, digest } = buttonValue(body);
    await deps.queue.enqueue(
      decideJob.spec(
        { requestId: requestId ?? '', actor: actorOf(body.user, workspaceOf(body)), decision: 'approved', digest: digest ?? null, channel: body.channel?.id ?? '' },
        { key: `slack.approve:${requestId}:${body.user.id}:${(body.actions[0] as ButtonAction).action_ts}`, maxAttempts: 3 },
      ),
    );
    await ack();
  });

  app.action<BlockAction>('request.reject', async ({ ack, body }) => {
    await ack();
    const { requestId, digest } = buttonValue(body);
    if (!requestId) return void (await tell(body.channel?.id ?? '', body.user.id, new Refusal('That button does not name a request. Use `/cmk list pending` to find it.')));
    // Rejection asks for a reason.
    await client.views.open({ trigger_id: body.trigger_id, view: rejectModal(requestId ?? '', digest ?? '', body.channel?.id ?? '', body.message?.ts ?? '') });
  });

  app.view(REJECT_CALLBACK, async ({ ack, body, view }) => {
    const raw = safeJson<{ requestId?: unknown; digest?: unknown; channel?: unknown }>(view.private_metadata);
    const meta = {
      requestId: typeof raw?.requestId === 'string' && REQUEST_ID_PATTERN.test(raw.requestId) ? raw.requestId : '',
      digest: typeof raw?.digest === 'string' && /^[0-9a-f]{64}$/.test(raw.digest) ? raw.digest : undefined,
      channel: typeof raw?.channel === 'string' ? raw.channel.slice(0, 40) : '',
    };
    const reasonBlock = (view.state?.values as Record<string, Record<string, { value?: unknown }> | null> | undefined)?.reason?.value?.value;
    const reason = storableText(typeof reasonBlock === 'string' ? reasonBlock : '').trim();
    if (reason.length < 3 || reason.length > MAX_REASON_LENGTH) {
      await ack({ response_action: 'errors', errors: { reason: reason.length < 3 ? 'Give the requester a reason (at least 3 characters).' : `Keep the reason to ${MAX_REASON_LENGTH} characters (it has ${reason.length}).` } });
      return;
    }
    await deps.queue.enqueue(
      decideJob.spec(
        { requestId: meta.requestId, actor: actorOf(body.user, workspaceOf(body)), decision: 'rejected', reason, digest: meta.digest ?? null, channel: meta.channel },
        { key: `slack.reject:${meta.requestId}:${body.user.id}:${view.id}`, maxAttempts: 3 },
      ),
    );
    await ack();
  });

  // *Fix this* on a failing check: the remediation's form, filled in, in a modal.
  app.action<BlockAction>(/^request\.fix\.\d+$/, async ({ ack, body, context }) => {
    await ack();
    const button = safeJson((body.actions[0] as ButtonAction | undefined)?.value ?? '');
    const channel = body.channel?.id ?? '';
    // The modal's title is the fix's form's; the router reads the button (and refuses one it did not make).
    const title = wf().targets.forCommand(fixActionOf(button)?.command ?? '')?.form.title ?? 'Fix';
    await openForm(body.trigger_id, channel, title, arrivalOf(context), async () => router().fix(actorOf(body.user, workspaceOf(body)), button, placeOf(channel)));
  });

  // Watchdog alerts: Acknowledge is stored as a job, then acknowledged; Snooze asks how long and why.
  const alertValue = (body: BlockAction): { watchId?: string; groupKey?: string } => {
    const v = safeJson<{ watchId?: unknown; groupKey?: unknown }>((body.actions[0] as ButtonAction | undefined)?.value ?? '') ?? {};
    return { watchId: typeof v.watchId === 'string' && /^W-[0-9A-F]{8}$/.test(v.watchId) ? v.watchId : undefined, groupKey: typeof v.groupKey === 'string' && v.groupKey.length <= 2048 ? v.groupKey : undefined };
  };
  app.action<BlockAction>('finding.ack', async ({ ack, body }) => {
    const { watchId, groupKey } = alertValue(body);
    if (watchId && groupKey) {
      await deps.queue.enqueue(
        findingJob.spec(
          { actor: actorOf(body.user, workspaceOf(body)), channel: body.channel?.id ?? '', messageTs: body.message?.ts ?? '', watchId, groupKey, how: { ack: true } },
          { key: `slack.finding:ack:${watchId}:${body.user.id}:${(body.actions[0] as ButtonAction).action_ts}`, maxAttempts: 3 },
        ),
      );
    }
    await ack();
  });
  app.action<BlockAction>('finding.snooze', async ({ ack, body }) => {
    await ack();
    const { watchId, groupKey } = alertValue(body);
    if (!watchId || !groupKey) return;
    await client.views.open({ trigger_id: body.trigger_id, view: snoozeModal(watchId, groupKey, body.channel?.id ?? '', body.message?.ts ?? '') });
  });
  app.view(SNOOZE_CALLBACK, async ({ ack, body, view }) => {
    const raw = safeJson<{ watchId?: unknown; groupKey?: unknown; channel?: unknown; messageTs?: unknown }>(view.private_metadata) ?? {};
    const values = view.state?.values as Record<string, Record<string, { value?: unknown; selected_option?: { value?: unknown } | null } | null> | null> | undefined;
    const reason = storableText(typeof values?.reason?.value?.value === 'string' ? values.reason.value.value : '').trim();
    const hours = Number(values?.hours?.value?.selected_option?.value ?? 0);
    if (reason.length < 3 || reason.length > 500) {
      await ack({ response_action: 'errors', errors: { reason: reason.length < 3 ? 'Give a reason (at least 3 characters): it is recorded.' : `Keep the reason to 500 characters (it has ${reason.length}).` } });
      return;
    }
    if (typeof raw.watchId !== 'string' || typeof raw.groupKey !== 'string') {
      await ack({ response_action: 'errors', errors: { reason: 'This snooze no longer names an alert: close it and press Snooze on the alert again.' } });
      return;
    }
    await deps.queue.enqueue(
      findingJob.spec(
        {
          actor: actorOf(body.user, workspaceOf(body)),
          channel: typeof raw.channel === 'string' ? raw.channel : '',
          messageTs: typeof raw.messageTs === 'string' ? raw.messageTs : '',
          watchId: raw.watchId,
          groupKey: raw.groupKey,
          how: { snoozeHours: hours, reason },
        },
        { key: `slack.finding:snooze:${raw.watchId}:${body.user.id}:${view.id}:${view.hash}`, maxAttempts: 3 },
      ),
    );
    await ack();
  });

  app.action<BlockAction>('request.cancel', async ({ ack, body }) => {
    const { requestId } = buttonValue(body);
    await deps.queue.enqueue(
      cancelJob.spec(
        { requestId: requestId ?? '', actor: actorOf(body.user, workspaceOf(body)), channel: body.channel?.id ?? '' },
        { key: `slack.cancel:${requestId}:${body.user.id}:${(body.actions[0] as ButtonAction).action_ts}`, maxAttempts: 3 },
      ),
    );
    await ack();
  });

  app.action<BlockAction>('request.refresh', async ({ ack, body }) => {
    await ack();
    const { requestId } = buttonValue(body);
    later(`slack-refresh:${requestId}:${body.user.id}:${(body.actions[0] as ButtonAction).action_ts}`, async () => {
      try {
        const actor = actorOf(body.user, workspaceOf(body));
        const req = await wf().view(requestId ?? '', actor, placeOf(body.channel?.id ?? ''));
        const v = requestView(req, viewerFor(req, actor), targets());
        // Each user's own view (their buttons) privately; the shared message keeps the status.
        await client.chat.postEphemeral({ channel: body.channel?.id ?? '', user: body.user.id, text: requestFallbackText(v), blocks: requestBlocks(v) });
      } catch (e) {
        await tell(body.channel?.id ?? '', body.user.id, e);
      }
    });
  });

  // Mentioning the bot in a channel gets the usage text in a thread (Events API; retries are deduplicated).
  app.event('app_mention', async ({ event }) => {
    await client.chat.postMessage({ channel: event.channel, thread_ts: event.ts, text: slackify(helpText(undefined, wf().targets)), unfurl_links: false });
  });

  app.error(async (e) => {
    log('error', 'Slack handler error', { error: (e as Error).stack ?? String(e) });
    // Back to the receiver: a delivery not yet acknowledged is answered 500 and forgotten, so
    // Slack's retry is taken rather than dropped as a duplicate.
    throw e;
  });

  return {
    mount(server) {
      receiver.mount(server);
    },
  };
}

/** The shared help text in Slack's terms: escaped, `*bold*`, and verbs as /cmk commands. */
export function slackify(text: string): string {
  return esc(text)
    .replace(/\*\*([^*]+)\*\*/g, '*$1*')
    .replace(/`(new|status|check|list|cancel|audit|evidence|help)\b/g, '`/cmk $1');
}

function safeJson<T>(s: string | undefined): T | undefined {
  try {
    return s ? (JSON.parse(s) as T) : undefined;
  } catch {
    return undefined;
  }
}
