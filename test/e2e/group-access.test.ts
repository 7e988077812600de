// Access granted through a group, end to end: a vault whose only access policy names a group the
// identity belongs to (through a nested group). The bot asks Microsoft Graph — here the
// simulator's Graph surface — for the identity's transitive memberships; without the Graph
// permission it warns naming the group instead of failing a valid setup.
import { SIM_GROUP_CRYPTO, SIM_GROUP_POLICY_KEY, SIM_GROUP_POLICY_VAULT, SIM_IDENTITY_GROUP_MEMBER, simIdentityId, simKeyUrl } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { fluidRelayForm } from '../helpers/forms';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(parsePolicy('version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n', 'inline'));
});
afterAll(() => bot?.close());
beforeEach(() => bot.sim.reset());

const form = () => fluidRelayForm(`fr-group-${Math.random().toString(36).slice(2, 8)}`, { identityId: simIdentityId(SIM_IDENTITY_GROUP_MEMBER), keyUrl: simKeyUrl(SIM_GROUP_POLICY_VAULT, SIM_GROUP_POLICY_KEY) });

describe('key access granted to a group', () => {
  it('passes, naming the group, when Graph shows the identity is a (nested) member', async () => {
    const { text } = await submitForm(bot, form());
    expect(text).toMatch(new RegExp(`✅ \\*\\*identity.key-permissions\\*\\* — Granted by the vault access policy for group ${SIM_GROUP_CRYPTO}, which ${SIM_IDENTITY_GROUP_MEMBER} belongs to`));
    expect(bot.sim.requests.some((r) => r.method === 'GET' && /\/v1\.0\/servicePrincipals\/.*\/transitiveMemberOf/.test(r.path))).toBe(true);
  });

  it('warns naming the group when the bot may not read memberships in Graph', async () => {
    bot.sim.setGraphPermission(false);
    const { text } = await submitForm(bot, form());
    expect(text).toMatch(new RegExp(`⚠️ \\*\\*identity.key-permissions\\*\\* — Vault ${SIM_GROUP_POLICY_VAULT} grants get, wrapKey and unwrapKey to ${SIM_GROUP_CRYPTO} but not to ${SIM_IDENTITY_GROUP_MEMBER} itself`));
    expect(text).toMatch(/needs GroupMember\.Read\.All/);
  });
});
