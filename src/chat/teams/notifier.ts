// Posts and updates the request card in its Teams conversation, proactively, from a stored
// conversation reference.
import { type ChannelAccount, type ConversationReference } from '@microsoft/agents-activity';
import { CloudAdapter, MessageFactory, type TurnContext } from '@microsoft/agents-hosting';
import type { ChangeRequest } from '../../domain/types';
import type { ChatNotifier } from '../../workflow/service';
import { DEFAULT_TARGETS, type TargetRegistry } from '../../targets';
import { requestView } from '../presenter';
import type { AlertView } from '../../workflow/alert';
import { alertCard, asAttachment, cardUpdate, fitCard, teamsText } from './cards';

/** A conversation reference as stored: the SDK's, or one stored under botbuilder (which named the bot `bot`, not `agent`). */
export type StoredReference = Partial<ConversationReference> & { bot?: ChannelAccount };

/** The reference to continue a conversation from, whichever SDK stored it. */
export function conversationReference(stored: StoredReference): ConversationReference {
  const { bot, ...ref } = stored;
  const agent = ref.agent ?? bot;
  if (!ref.conversation?.id || !ref.serviceUrl || !ref.channelId) throw new Error('The stored Teams conversation reference names no conversation, channel or service URL.');
  return { ...ref, conversation: ref.conversation, serviceUrl: ref.serviceUrl, channelId: ref.channelId, ...(agent ? { agent } : {}) };
}

export class TeamsNotifier implements ChatNotifier {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly targets: TargetRegistry = DEFAULT_TARGETS,
  ) {}

  /** Run `logic` in the stored conversation, as the bot (anonymously when no app id is configured: loopback use). */
  private continue(stored: StoredReference, logic: (ctx: TurnContext) => Promise<void>): Promise<void> {
    return this.adapter.continueConversation(this.appId ? CloudAdapter.createIdentity(this.appId) : {}, conversationReference(stored), logic);
  }

  async showRequest(req: ChangeRequest): Promise<string | undefined> {
    const attachment = asAttachment(fitCard(requestView(req, 'all', this.targets)));
    let id: string | undefined;
    await this.continue(req.conversation.ref as StoredReference, async (ctx) => {
      if (req.cardMessageId) {
        await ctx.updateActivity(cardUpdate(req.cardMessageId, attachment));
        id = req.cardMessageId;
      } else {
        const sent = await ctx.sendActivity(MessageFactory.attachment(attachment));
        id = sent?.id;
      }
    });
    return id;
  }

  /** Replace a card (or post it, when there is no message id) outside a turn. */
  async replaceCard(ref: StoredReference, messageId: string | undefined, card: Record<string, unknown>): Promise<void> {
    await this.continue(ref, async (ctx) => {
      if (messageId) await ctx.updateActivity(cardUpdate(messageId, asAttachment(card)));
      else await ctx.sendActivity(MessageFactory.attachment(asAttachment(card)));
    });
  }

  async postAlert(conversation: ChangeRequest['conversation'], alert: AlertView): Promise<void> {
    await this.continue(conversation.ref as StoredReference, async (ctx) => {
      await ctx.sendActivity(MessageFactory.attachment(asAttachment(alertCard(alert))));
    });
  }

  async post(req: ChangeRequest, text: string): Promise<void> {
    await this.continue(req.conversation.ref as StoredReference, async (ctx) => {
      // Names and reasons are in it: shown as typed, never as a link or a mention.
      await ctx.sendActivity(MessageFactory.text(teamsText(text)));
    });
  }
}
