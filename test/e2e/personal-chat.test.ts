// A request made in a private chat with the bot: nobody else is in that chat, so the approval
// notice must not read as if "anyone" there could approve; it says where approvers decide.
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, type TestBot } from '../helpers/bot';
import { cardText } from '../helpers/connector';
import { fluidRelayForm } from '../helpers/forms';
import { ALICE, BOB, cardAction, post } from '../helpers/teams';

const policy = (approvers: string) =>
  parsePolicy(
    `version: 2\ntenants: { teams: ["tenant-1"] }\npeople:\n  alice: { teams: "tenant-1/${ALICE.aadObjectId}" }\n  bob: { teams: "tenant-1/${BOB.aadObjectId}" }\nrules:\n  - name: all\n    requesters: ["person:alice"]\n    approvers: [${approvers}]\n    approvalsRequired: 1\n    irreversibleExtraApprovals: 0\n`,
    'personal-chat-policy',
  );

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(policy('"person:bob"'));
});
afterAll(async () => {
  await bot?.close();
});

/** Submit the Fluid Relay form from Alice's private chat with the bot; the approval notice posted there. */
async function submitInPrivate(name: string): Promise<{ requestId: string; notice: string }> {
  const formMsg = `form-${Math.random().toString(36).slice(2)}`;
  const conversationId = `dm-alice-${name}`;
  const activity = cardAction(bot.connector.url, ALICE, 'form.submit', fluidRelayForm(name), formMsg, conversationId);
  const res = await post(bot.app.url, { ...activity, conversation: { ...activity.conversation, conversationType: 'personal' } });
  expect(res.status).toBe(200);
  const card = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Request: CR-/.test(cardText(a.activity)), 15000, 'request card');
  const requestId = /Request: (CR-[A-Z0-9]{6})/.exec(cardText(card.activity))![1]!;
  const notice = await bot.connector.waitFor((a) => new RegExp(`🔔 ${requestId} needs`).test(a.activity.text ?? ''), 5000, 'approval notice');
  return { requestId, notice: notice.activity.text ?? '' };
}

describe('a request made in a private chat', () => {
  it('says the named approvers decide from their own private chat with the bot, not that anyone here can', async () => {
    bot.sim.reset();
    bot.app.reloadPolicy(policy('"person:bob"'));
    const { requestId, notice } = await submitInPrivate(`fr-dm-${Math.random().toString(36).slice(2, 7)}`);
    expect(notice).not.toMatch(/anyone/i);
    // The policy asks for no extra approval when a change cannot be undone: none is announced.
    expect(notice).not.toMatch(/more than usual/);
    expect(notice).toMatch(/nobody else is in this private chat/);
    expect(notice).toMatch(new RegExp(`bob decides? from (their|his|her) own private chat with the bot \\(.?status ${requestId}.?\\)`));

    // And that is where Bob can decide it: his approval from his own private chat counts.
    const digest = (await bot.store.getRequest(requestId))!.digest;
    const click = cardAction(bot.connector.url, BOB, 'request.approve', { requestId, digest }, undefined, 'dm-bob');
    const res = await post(bot.app.url, { ...click, conversation: { ...click.conversation, conversationType: 'personal' } });
    expect(res.status).toBe(200);
    expect((await bot.store.getRequest(requestId))!.approvals.map((a) => a.approver.name)).toEqual([BOB.name]);
  });

  it('with only "*" as approver, says nobody can decide it from a private chat and where to ask instead', async () => {
    bot.sim.reset();
    bot.app.reloadPolicy(policy('"*"'));
    const { notice } = await submitInPrivate(`fr-dm-${Math.random().toString(36).slice(2, 7)}`);
    expect(notice).not.toMatch(/from: anyone/);
    expect(notice).toMatch(/names no approver by name/);
    expect(notice).toMatch(/make the request in a channel/);
  });
});
