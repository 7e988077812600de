// The notice that asks for approvals, by where the request was made: a channel names who may
// approve; a private chat (Teams personal scope, Slack DM) says where approvers decide instead.
import { isPersonalConversation } from '../../src/workflow/request-helpers';
import { texts } from '../../src/workflow/texts';

const base = { id: 'CR-ABCDEF', required: 2, irreversible: false, extraForIrreversible: 0, approvers: ['bob', 'carol'], namedApprovers: ['bob', 'carol'], requesterName: 'Alice', personal: false };

describe('where a request was made', () => {
  it.each([
    [{ platform: 'teams' as const, ref: { conversation: { id: 'a:1', conversationType: 'personal' } } }, true],
    [{ platform: 'teams' as const, ref: { conversation: { id: '19:x@thread.tacv2', conversationType: 'channel' } } }, false],
    [{ platform: 'teams' as const, ref: { conversation: { id: '19:y', conversationType: 'groupChat' } } }, false],
    [{ platform: 'slack' as const, ref: { channel: 'D0ALICE' } }, true],
    [{ platform: 'slack' as const, ref: { channel: 'C0CMKREQ' } }, false],
    [{ platform: 'slack' as const, ref: undefined }, false],
  ])('%j → personal %s', (conversation, personal) => {
    expect(isPersonalConversation(conversation)).toBe(personal);
  });
});

describe('the approval notice', () => {
  it('in a channel: who may approve, and that the requester cannot', () => {
    expect(texts.approvalRequested(base)).toBe('🔔 CR-ABCDEF needs 2 approvals from: bob, carol. Alice cannot approve their own request.');
  });

  it('says "one more than usual" only when the policy asks for more for a change that cannot be undone', () => {
    expect(texts.approvalRequested({ ...base, irreversible: true, extraForIrreversible: 1 })).toMatch(/needs 2 approvals \(one more than usual: it can never be undone\) from:/);
    expect(texts.approvalRequested({ ...base, irreversible: true, extraForIrreversible: 2 })).toMatch(/\(2 more than usual: it can never be undone\)/);
    expect(texts.approvalRequested({ ...base, irreversible: true, extraForIrreversible: 0 })).toMatch(/needs 2 approvals \(it can never be undone\) from:/);
  });

  it('in a private chat: nobody else is here; the named approvers decide from their own private chat with the bot', () => {
    const t = texts.approvalRequested({ ...base, personal: true, required: 1, approvers: ['bob', 'anyone but the requester'], namedApprovers: ['bob'] });
    expect(t).toBe('🔔 CR-ABCDEF needs 1 approval. Alice cannot approve their own request, and nobody else is in this private chat: bob decides from their own private chat with the bot (`status CR-ABCDEF`), where the policy names them.');
  });

  it('in a private chat with nobody named: says no one can decide it from a private chat, and where to ask', () => {
    const t = texts.approvalRequested({ ...base, personal: true, approvers: ['anyone but the requester'], namedApprovers: [] });
    expect(t).not.toMatch(/from: anyone/);
    expect(t).toMatch(/names no approver by name/);
    expect(t).toMatch(/make the request in a channel the policy allows instead, or cancel this one\.$/);
  });
});
