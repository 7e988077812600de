// Proactive posts and card updates through the Agents SDK's CloudAdapter to a connector on
// loopback, from conversation references as they are stored: the SDK's (`agent`) and those stored
// before the move from botbuilder (`bot`) — a request awaiting approval across the upgrade still
// gets its card updated, sent as the bot.
import { createTeamsTransport } from '../../src/chat/teams/channel';
import { conversationReference } from '../../src/chat/teams/notifier';
import { DEFAULT_TARGETS } from '../../src/targets';
import { startConnector, type FakeConnector } from '../helpers/connector';

let connector: FakeConnector;
beforeAll(async () => {
  connector = await startConnector();
});
afterAll(async () => {
  await connector?.close();
});

const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Approved by Bob' }] };
const refs = (serviceUrl: string) => ({
  agents: { activityId: 'in-1', user: { id: '29:alice', name: 'Alice' }, agent: { id: '28:cmk-bot', name: 'cmk-bot' }, conversation: { id: 'conv-agents' }, channelId: 'msteams', serviceUrl },
  botbuilder: { activityId: 'in-2', user: { id: '29:alice', name: 'Alice' }, bot: { id: '28:cmk-bot', name: 'cmk-bot' }, conversation: { id: 'conv-botbuilder' }, channelId: 'msteams', serviceUrl },
});

describe('TeamsNotifier (no app id: loopback use)', () => {
  it.each(['agents', 'botbuilder'] as const)('updates a card in place and posts a new one, from a reference stored by %s, as the bot', async (kind) => {
    const { notifier } = createTeamsTransport({ appType: 'MultiTenant' }, { targets: DEFAULT_TARGETS });
    const ref = refs(connector.url)[kind];
    await notifier.replaceCard(ref, 'card-7', card);
    const update = await connector.waitFor((a) => a.kind === 'update' && a.conversationId === ref.conversation.id, 5000, 'the card update');
    expect(update.id).toBe('card-7');
    expect(update.activity.attachments?.[0]?.content).toEqual(card);
    expect(update.activity.from).toMatchObject({ id: '28:cmk-bot' });

    await notifier.replaceCard(ref, undefined, card);
    const sent = await connector.waitFor((a) => a.kind !== 'update' && a.conversationId === ref.conversation.id, 5000, 'the new card');
    expect(sent.activity.attachments?.[0]?.content).toEqual(card);
    expect(sent.activity.from).toMatchObject({ id: '28:cmk-bot' });
  });

  it('a stored reference without a conversation or service URL is refused with a reason, and nothing is sent', async () => {
    const before = connector.log.length;
    expect(() => conversationReference({ channelId: 'msteams', serviceUrl: connector.url })).toThrow(/names no conversation/);
    const { notifier } = createTeamsTransport({ appType: 'MultiTenant' }, { targets: DEFAULT_TARGETS });
    await expect(notifier.replaceCard({ conversation: { id: 'c' }, channelId: 'msteams' }, 'card-1', card)).rejects.toThrow(/service URL/);
    expect(connector.log.length).toBe(before);
  });
});
