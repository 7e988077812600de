// `check <resource id>` gives a correct read-only review for every type it accepts: a healthy
// CMK storage account and a healthy CMK Chaos experiment are healthy, and their key is named —
// end to end through /api/messages (Teams) and /slack/events.
import { SIM_CHAOS_CMK, SIM_CHAOS_EXISTING, SIM_KEY, SIM_RBAC_VAULT, SIM_STORAGE_CMK, SIM_STORAGE_NO_CMK, simChaosId, simKeyUrl, simStorageId } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, type TestBot } from '../helpers/bot';
import { cardText } from '../helpers/connector';
import { BOB, message, post } from '../helpers/teams';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n`, 'inline'));
});
afterAll(() => bot?.close());
beforeEach(() => bot.sim.reset());

async function review(id: string, title: string): Promise<string> {
  await post(bot.app.url, message(bot.connector.url, BOB, `check ${id}`, `conv-${Math.random().toString(36).slice(2, 8)}`));
  const a = await bot.connector.waitFor((x) => cardText(x.activity).includes(`Review of ${title} ${id.split('/').pop()}`) || /Azure answered with an error/.test(cardText(x.activity)), 10000, `review of ${id}`);
  return cardText(a.activity);
}

describe('check <storage account id>', () => {
  it('a healthy CMK account: healthy, its key named, read with the storage api-version', async () => {
    const id = simStorageId(SIM_STORAGE_CMK);
    const text = await review(id, 'Storage account');
    expect(text).toContain('Customer-managed key is on');
    expect(text).not.toMatch(/problem/);
    expect(text).not.toContain('(no customer-managed key)');
    expect(text).toContain(`Key: ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)}`);
    expect(text).not.toMatch(/InvalidResourceType|⛔|❌/);
    const reads = bot.sim.requests.filter((r) => r.path.toLowerCase() === id.toLowerCase());
    expect(reads.every((r) => r.query['api-version'] === '2025-01-01')).toBe(true);
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('an account without CMK says so, as a problem with its fix', async () => {
    const text = await review(simStorageId(SIM_STORAGE_NO_CMK), 'Storage account');
    expect(text).toMatch(/problem/);
    expect(text).toContain('(no customer-managed key)');
    expect(text).toMatch(/new storage-cmk/);
  });
});

describe('check <chaos experiment id>', () => {
  it('a healthy CMK experiment: healthy, create-only does not apply to a review', async () => {
    const text = await review(simChaosId(SIM_CHAOS_CMK), 'Chaos Studio experiment');
    expect(text).toContain('Customer-managed key is on');
    expect(text).not.toMatch(/❌ \*\*chaos.create-only\*\*/);
    expect(text).not.toMatch(/⛔|❌/);
    expect(text).toContain(`Key: ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)}`);
    // The existing experiment's selectors, read back from ARM, say where it reaches.
    expect(text).toMatch(/ℹ️ \*\*chaos.blast-radius\*\* — Experiment \S+ reaches \d+ resources? /);
  });

  it('an experiment without CMK: the problem is named with the copy remedy', async () => {
    const text = await review(simChaosId(SIM_CHAOS_EXISTING), 'Chaos Studio experiment');
    expect(text).toMatch(/problem/);
    expect(text).toMatch(/new chaos-experiment --from/);
  });
});
