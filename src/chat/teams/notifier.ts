// Posts and updates the request card in its Teams conversation, proactively, from a stored
// conversation reference.
import { ActivityTypes, type CloudAdapter, type ConversationReference, MessageFactory } from 'botbuilder';
import type { ChangeRequest } from '../../domain/types';
import type { ChatNotifier } from '../../workflow/service';
import { DEFAULT_TARGETS, type TargetRegistry } from '../../targets';
import { requestView } from '../presenter';
import type { AlertView } from '../../workflow/alert';
import { alertCard, asAttachment, fitCard, teamsText } from './cards';

export class TeamsNotifier implements ChatNotifier {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly targets: TargetRegistry = DEFAULT_TARGETS,
  ) {}

  async showRequest(req: ChangeRequest): Promise<string | undefined> {
    const ref = req.conversation.ref as Partial<ConversationReference>;
    const attachment = asAttachment(fitCard(requestView(req, 'all', this.targets)));
    let id: string | undefined;
    await this.adapter.continueConversationAsync(this.appId, ref, async (ctx) => {
      if (req.cardMessageId) {
        await ctx.updateActivity({ type: ActivityTypes.Message, id: req.cardMessageId, attachments: [attachment], conversation: ctx.activity.conversation });
        id = req.cardMessageId;
      } else {
        const sent = await ctx.sendActivity(MessageFactory.attachment(attachment));
        id = sent?.id;
      }
    });
    return id;
  }

  /** Replace a card (or post it, when there is no message id) outside a turn. */
  async replaceCard(ref: Partial<ConversationReference>, messageId: string | undefined, card: Record<string, unknown>): Promise<void> {
    await this.adapter.continueConversationAsync(this.appId, ref, async (ctx) => {
      if (messageId) await ctx.updateActivity({ type: ActivityTypes.Message, id: messageId, attachments: [asAttachment(card)], conversation: ctx.activity.conversation });
      else await ctx.sendActivity(MessageFactory.attachment(asAttachment(card)));
    });
  }

  async postAlert(conversation: ChangeRequest['conversation'], alert: AlertView): Promise<void> {
    await this.adapter.continueConversationAsync(this.appId, conversation.ref as Partial<ConversationReference>, async (ctx) => {
      await ctx.sendActivity(MessageFactory.attachment(asAttachment(alertCard(alert))));
    });
  }

  async post(req: ChangeRequest, text: string): Promise<void> {
    const ref = req.conversation.ref as Partial<ConversationReference>;
    await this.adapter.continueConversationAsync(this.appId, ref, async (ctx) => {
      // Names and reasons are in it: shown as typed, never as a link or a mention.
      await ctx.sendActivity(MessageFactory.text(teamsText(text)));
    });
  }
}
