// Slack as a person uses it, over real HTTP against the local Web API stand-in: slash commands,
// modals filled in field by field (pickers by the text a person reads), changed pickers, buttons.
import { blockActionPayload, blockSuggestionPayload, interactionBody, postToBot, signedHeaders, slashCommandBody, startSlackStandIn, viewActionPayload, viewSubmissionPayload, type SlackStandIn } from '../../src/dev';
import type { AppOptions } from '../../src/app';
import { FORM_CALLBACK } from '../../src/chat/slack/form-modal';
import type { Policy } from '../../src/workflow/policy';
import { startBot, type TestBot } from './bot';
import { ALICE, message, post } from './teams';
import { dedupeKey, parseSlackBody } from '../../src/chat/slack/receiver';
import { deliveryKeys } from '../../src/chat/teams/channel';

export const SLACK_SECRET = 'local-signing-secret-for-tests';
export type SlackUser = { id: string; name: string };

type Option = { text: { type: 'plain_text'; text: string }; value: string };
type Block = { type?: string; block_id?: string; element?: { type?: string; options?: Option[]; initial_option?: Option }; hint?: { text: string }; text?: { text?: string } };
/** A field's answer: a picker's option by the text a person reads, one an external_select offered (suggest), or typed text. */
type Answer = RegExp | string | Option;
type View = { id: string; hash: string; view: Record<string, unknown> };

export interface SlackHarness {
  slack: SlackStandIn;
  bot: TestBot;
  slash(user: SlackUser, text: string, channel?: string): Promise<{ status: number; text: string; json?: unknown }>;
  interact(payload: Record<string, unknown>): Promise<{ status: number; text: string; json?: unknown }>;
  /** `/cmk <text>` that opens a modal; resolves with the modal once the bot has filled it in. */
  openForm(user: SlackUser, text: string, channel?: string): Promise<View>;
  /** The modal as it is now (after views.update). */
  current(id: string): View;
  /** A field's block in the modal (a dependent picker's block id also names the value it was drawn for). */
  block(view: View, field: string): Block;
  /** The option value of a picker, by the text a person reads. */
  option(view: View, field: string, text: RegExp): string;
  /** Choose an option of a picker that others depend on: the bot redraws the modal. Resolves with the new view. */
  change(user: SlackUser, view: View, field: string, text: RegExp): Promise<View>;
  /** What a long picker (external_select) offers for what the person typed: the bot's answer to Slack's block_suggestion. */
  suggest(user: SlackUser, view: View, field: string, typed: string, fields?: Record<string, Answer>): Promise<{ status: number; options: Option[] }>;
  /** Submit the modal with these fields (pickers by text or a suggested option, text inputs as strings); others as drawn. */
  submit(user: SlackUser, view: View, fields: Record<string, Answer>): Promise<{ status: number; text: string; json?: unknown }>;
  /** Press a button of a message. */
  press(user: SlackUser, channel: string, ts: string, actionId: string): Promise<{ status: number; text: string; json?: unknown }>;
  /**
   * Another person's chat request, being answered until `answer()` (which resolves with its status):
   * `/cmk help` in Slack, or `help` in Teams, whose delivery claim — that request's own, by its key —
   * waits. The bot counts it as being answered (src/workflow/inbound.ts) from when its body is read:
   * give the bot `chatRequestCountsForMs` longer than the test holds it. `close()` lets go of any
   * still held.
   */
  holdAnotherRequest(via: 'slack' | 'teams'): Promise<{ answer(): Promise<number> }>;
  close(): Promise<void>;
}

const blocksOf = (view: View) => view.view.blocks as Block[];

export async function startSlackBot(policy: Policy, users: SlackUser[], channel = 'C0CMKREQ', tuning: Partial<AppOptions> = {}, extra: { env?: Record<string, string>; now?: () => Date } = {}): Promise<SlackHarness> {
  const slack = await startSlackStandIn({ users: Object.fromEntries(users.map((u) => [u.id, { name: u.name }])) });
  const bot = await startBot(policy, { SLACK_SIGNING_SECRET: SLACK_SECRET, SLACK_BOT_TOKEN: slack.botToken, SLACK_API_URL: slack.url, ...extra.env }, extra.now, tuning);
  const endpoint = () => `${bot.app.url}/slack/events`;
  /** Requests held by holdAnotherRequest: let go at close, so a failed test cannot keep the bot from stopping. */
  const held = new Set<() => void>();
  const send = (raw: string) => postToBot(endpoint(), raw, signedHeaders(SLACK_SECRET, raw, { contentType: 'application/x-www-form-urlencoded' }));
  const interact = (payload: Record<string, unknown>) => send(interactionBody(payload));
  const slash = (user: SlackUser, text: string, ch = channel) =>
    send(slashCommandBody({ text, user_id: user.id, user_name: user.name, channel_id: ch, trigger_id: slack.triggerId({ user: user.id }), response_url: slack.responseUrl({ channel: ch, user: user.id }) }));
  const current = (id: string): View => {
    const v = slack.views.get(id);
    if (!v) throw new Error(`no view ${id}`);
    return { id: v.id, hash: v.hash, view: v.view };
  };
  const block = (view: View, field: string): Block => {
    const b = blocksOf(view).find((x) => (x.block_id ?? '').split(':')[0] === field);
    if (!b)
      throw new Error(
        `no block for ${field}; the modal has ${blocksOf(view)
          .map((x) => x.block_id ?? x.type)
          .join(', ')}`,
      );
    return b;
  };
  const option = (view: View, field: string, text: RegExp): string => {
    const opt = block(view, field).element?.options?.find((o) => text.test(o.text.text));
    if (!opt) throw new Error(`no option ${text} for ${field}; it offers ${(block(view, field).element?.options ?? []).map((o) => o.text.text).join(' | ')}`);
    return opt.value;
  };
  const values = (view: View, fields: Record<string, Answer>) =>
    Object.fromEntries(
      Object.entries(fields).map(([field, v]) => {
        const b = block(view, field);
        const answer =
          typeof v === 'string'
            ? { type: 'plain_text_input', value: v }
            : v instanceof RegExp
              ? { type: 'static_select', selected_option: { value: option(view, field, v) } }
              : { type: b.element?.type ?? 'external_select', selected_option: v };
        return [b.block_id!, { value: answer }];
      }),
    );
  return {
    slack,
    bot,
    slash,
    interact,
    current,
    block,
    option,
    async openForm(user, text, ch = channel) {
      const known = new Set(slack.views.keys());
      const updates = slack.callsTo('views.update').length;
      const res = await slash(user, text, ch);
      if (res.status !== 200) throw new Error(`/cmk ${text} answered ${res.status}`);
      // The person's new modal, once it holds what it will: opened whole (the pickers were cached), or
      // opened loading and then filled in (views.update).
      const id = await slack.waitFor(
        () =>
          [...slack.views.values()].find(
            (v) =>
              !known.has(v.id) &&
              v.user === user.id &&
              // A notice (the form could not be made) is no loading modal either: done, and said below.
              ((v.view.blocks as Block[]).some((b) => b.type === 'input') ||
                v.view.callback_id !== FORM_CALLBACK ||
                slack
                  .callsTo('views.update')
                  .slice(updates)
                  .some((c) => c.args.view_id === v.id && !c.error)),
          )?.id,
        15000,
        `modal for ${text}`,
      );
      const view = current(id);
      // A modal that only says something is no form: say what it said.
      if (!(view.view.blocks as Block[]).some((b) => b.type === 'input')) throw new Error(`/cmk ${text} opened no form: ${JSON.stringify(view.view.blocks)}`);
      return view;
    },
    async change(user, view, field, text) {
      const before = slack.callsTo('views.update').length;
      const res = await interact(viewActionPayload({ user, view: { ...view.view, id: view.id, hash: view.hash }, values: values(view, { [field]: text }), blockId: block(view, field).block_id! }));
      if (res.status !== 200) throw new Error(`changing ${field} answered ${res.status}`);
      await slack.waitFor(() => slack.callsTo('views.update').length > before, 15000, `modal redrawn after ${field}`);
      return current(view.id);
    },
    async suggest(user, view, field, typed, fields = {}) {
      const res = await interact(blockSuggestionPayload({ user, view: { ...view.view, id: view.id, hash: view.hash }, blockId: block(view, field).block_id!, value: typed, values: values(view, fields) }));
      return { status: res.status, options: (res.json as { options?: Option[] } | undefined)?.options ?? [] };
    },
    submit(user, view, fields) {
      return interact(viewSubmissionPayload({ user, view: { ...view.view, id: view.id, hash: view.hash }, values: values(view, fields) }));
    },
    press(user, ch, ts, actionId) {
      return interact(blockActionPayload({ user, channel: ch, messageTs: ts, actionId, triggerId: slack.triggerId({ user: user.id }), message: slack.message(ch, ts)! }));
    },
    async holdAnotherRequest(via) {
      const store = bot.app.store;
      const claim = store.claimDelivery.bind(store);
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const letGo = () => {
        store.claimDelivery = claim;
        open();
      };
      held.add(letGo);
      const OTHER = { id: 'U0OTHER', name: 'other' };
      const raw = slashCommandBody({ text: 'help', user_id: OTHER.id, user_name: OTHER.name, channel_id: channel, trigger_id: slack.triggerId({ user: OTHER.id }), response_url: slack.responseUrl({ channel, user: OTHER.id }) });
      const activity = message(bot.connector.url, ALICE, 'help');
      const key = via === 'slack' ? `slack:${dedupeKey(parseSlackBody(raw, 'application/x-www-form-urlencoded'))}` : deliveryKeys(activity)[0]!.key;
      let claiming = false;
      store.claimDelivery = async (k, ...rest) => {
        if (k !== key) return claim(k, ...rest);
        claiming = true;
        await gate;
        return claim(k, ...rest);
      };
      const answered = (via === 'slack' ? send(raw) : post(bot.app.url, activity)).then((r) => r.status);
      void answered.catch(() => undefined);
      try {
        await slack.waitFor(() => claiming || undefined, 5000, 'the other request being answered');
      } catch (e) {
        letGo();
        throw e;
      }
      return {
        answer: async () => {
          letGo();
          held.delete(letGo);
          return answered;
        },
      };
    },
    async close() {
      for (const letGo of held) letGo();
      await bot.close();
      await slack.close();
    },
  };
}
