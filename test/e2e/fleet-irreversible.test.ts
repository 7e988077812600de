// A fleet is as irreversible as its members: when the change a member's own target makes cannot be
// undone, the fleet's card says so and the policy's extra approvals apply to the whole request.
import { SIM_KEY, SIM_RBAC_VAULT, simKeyUrl } from '../../src/simulator';
import { DEFAULT_TARGETS, TargetRegistry } from '../../src/targets';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, type TestBot } from '../helpers/bot';
import { cardText } from '../helpers/connector';
import { seedFleet, submitRotation } from '../helpers/fleet';

const NEVER = 'The old key version can never be used by this server again (test target).';
let bot: TestBot;
beforeAll(async () => {
  // Fluid Relay key changes made irreversible, for this test only.
  const targets = new TargetRegistry(DEFAULT_TARGETS.all.map((t) => (t.type === 'fluid-relay-rotate' ? { ...t, irreversible: () => [NEVER] } : t)));
  bot = await startBot(parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 1\n`, 'inline'), {}, undefined, { targets });
});
afterAll(() => bot?.close());

it('a member that cannot be undone makes the fleet need the extra approval, and the card says why', async () => {
  seedFleet(bot.sim, { servers: 2, sandboxAccounts: 1, labsAccounts: 0 }, 'irr');
  const next = bot.sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
  await submitRotation(bot.app.url, bot.connector, `rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`, 'form-irr');
  const asked = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === 'form-irr' && /Prerequisite checks:/.test(cardText(a.activity)), 30_000, 'request card');
  const text = cardText(asked.activity);
  expect(text).toContain('Resources: 3 resources in 2 subscriptions');
  expect(text).toContain(`Cannot be undone\n• ${NEVER}`);
  expect(text).toMatch(/Waiting for 2 more approvals/);
});
