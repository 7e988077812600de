// Remediation targets (issue 16, part 1): purge protection on a vault (irreversible: one more
// approval), the vault firewall's trusted-services bypass (its rules kept) and the storage network
// access Chaos Studio needs (widens access) — each through Teams against the simulator, asserting
// the exact ARM body it received, its shape against the REST spec example, and the verification.
import { SIM_FIREWALL_VAULT, SIM_NOPURGE_VAULT, SIM_NOSOFTDELETE_VAULT, SIM_STORAGE_PRIVATE, simStorageId, simVaultId } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, clickData } from '../helpers/connector';
import { startSlackBot, type SlackHarness } from '../helpers/slack';
import { ALICE, BOB, CAROL, cardAction, message, post } from '../helpers/teams';
import { loadExample, shapeDiff } from '../fixtures/azure-rest/helpers';

const POLICY = parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    approvalsRequired: 1\n    irreversibleExtraApprovals: 1\n`, 'inline');

/** Every key the bot sends must be one the spec example's request sends too, of the same kind (the example may send more). */
function requestShape(exampleRel: string, body: unknown, ignore: string[] = []) {
  return shapeDiff(body, loadExample(exampleRel).parameters.parameters, ignore);
}

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(POLICY);
});
afterAll(() => bot?.close());
beforeEach(() => bot.sim.reset());

const approve = (formMsg: string, who = BOB) => post(bot.app.url, cardAction(bot.connector.url, who, 'request.approve', clickData(bot.connector, formMsg), formMsg));
const finalCard = (formMsg: string, done: RegExp) => bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && done.test(cardText(a.activity)), 20000, 'final card');

describe('vault purge protection', () => {
  it('says it can never be undone, needs one more approval than usual, then PATCHes enablePurgeProtection: true and verifies it', async () => {
    const vault = simVaultId(SIM_NOPURGE_VAULT);
    const { requestId, formMsg, text } = await submitForm(bot, { targetType: 'vault-purge-protection', vaultId: vault });
    expect(requestId).toBeDefined();
    expect(text).toContain('Key vault: purge protection on (permanent)');
    expect(text).not.toContain('customer-managed key');
    expect(text).toContain('✅ **vault.soft-delete**');
    expect(text).toContain(`Purge protection on ${SIM_NOPURGE_VAULT} can never be turned off again`);
    expect(text).toContain('Cannot be undone');
    expect(text).toContain('Waiting for 2 more approvals.');
    expect(text).toContain('Approvals: 0 of 2 approvals');
    await bot.connector.waitFor((a) => new RegExp(`${requestId} needs 2 approvals \\(one more than usual: it can never be undone\\)`).test(a.activity.text ?? ''), 10000, 'the approval request says why it needs one more');
    expect(text).toContain('• properties.enablePurgeProtection: (not set) → true');

    await approve(formMsg, BOB);
    const afterOne = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Waiting for 1 more approval/.test(cardText(a.activity)), 15000, 'one approval is not enough');
    expect(cardText(afterOne.activity)).not.toMatch(/verified/);
    expect(bot.sim.writes()).toHaveLength(0);

    await approve(formMsg, CAROL);
    const final = await finalCard(formMsg, /Purge protection is on \(permanently\) and verified/);
    expect(cardText(final.activity)).toContain('✅ **vault.purge-protection.verify** — GET shows enablePurgeProtection true.');
    const writes = bot.sim.writes();
    expect(writes.map((w) => [w.method, w.path, w.query['api-version']])).toEqual([['PATCH', vault, '2024-11-01']]);
    expect(writes[0]!.body).toEqual({ properties: { enablePurgeProtection: true } });
    expect(requestShape('Microsoft.KeyVault/2024-11-01/updateVault.json', writes[0]!.body, ['properties.enablePurgeProtection'])).toEqual([]);
  });

  it('is refused on a vault without soft delete, naming the fix; nothing is written', async () => {
    const { text } = await submitForm(bot, { targetType: 'vault-purge-protection', vaultId: simVaultId(SIM_NOSOFTDELETE_VAULT) });
    expect(text).toContain('❌ **vault.soft-delete**');
    expect(text).toContain(`az keyvault update --name ${SIM_NOSOFTDELETE_VAULT} --enable-soft-delete true`);
    expect(text).not.toMatch(/Waiting for \d+ more approval/);
    expect(bot.sim.writes()).toHaveLength(0);
  });
});

describe('vault firewall: trusted Azure services', () => {
  it('shows bypass None → AzureServices as the change, PATCHes the whole rule set with the default action and IP rule kept, and verifies', async () => {
    const vault = simVaultId(SIM_FIREWALL_VAULT);
    const { formMsg, text } = await submitForm(bot, { targetType: 'vault-firewall-bypass', vaultId: vault });
    expect(text).toContain('• properties.networkAcls.bypass: None → AzureServices');
    // Only bypass changes: the kept rules are not listed as changes.
    expect(text).not.toMatch(/• properties\.networkAcls\.(defaultAction|ipRules)/);
    expect(text).toContain('Key vault firewall: trusted Azure services allowed');
    expect(text).toContain('Firewall bypass: None → AzureServices');
    expect(text).not.toMatch(/can never be undone/);
    await approve(formMsg);
    const final = await finalCard(formMsg, /Trusted Azure services are allowed through the vault firewall, its rules kept, and verified/);
    expect(cardText(final.activity)).toContain('✅ **vault.firewall.verify**');
    const writes = bot.sim.writes();
    expect(writes.map((w) => [w.method, w.path, w.query['api-version']])).toEqual([['PATCH', vault, '2024-11-01']]);
    expect(writes[0]!.body).toEqual({ properties: { networkAcls: { bypass: 'AzureServices', defaultAction: 'Deny', ipRules: [{ value: '203.0.113.0/24' }], virtualNetworkRules: [] } } });
    // networkAcls is in the example's response (the request sends none): the shape is compared there.
    expect(shapeDiff((writes[0]!.body as { properties: { networkAcls: unknown } }).properties.networkAcls, loadExample('Microsoft.KeyVault/2024-11-01/updateVault.json').responses['200'].body.properties.networkAcls)).toEqual([]);
    // The vault now passes the check that asked for this.
    const after = bot.sim.state.get(vault)!.properties as { networkAcls: unknown };
    expect(after.networkAcls).toEqual({ bypass: 'AzureServices', defaultAction: 'Deny', ipRules: [{ value: '203.0.113.0/24' }], virtualNetworkRules: [] });
  });

  it('a vault that already lets trusted services through has nothing to change', async () => {
    const { text } = await submitForm(bot, { targetType: 'vault-firewall-bypass', vaultId: simVaultId(SIM_NOPURGE_VAULT) });
    expect(text).toContain('❌ **vault.firewall-bypass**');
    expect(text).toContain('there is nothing to change');
    expect(bot.sim.writes()).toHaveLength(0);
  });
});

describe('storage network access for Chaos Studio', () => {
  it('is marked as widening access, PATCHes publicNetworkAccess Enabled and default action Allow keeping the rules, and verifies', async () => {
    const account = simStorageId(SIM_STORAGE_PRIVATE);
    const { formMsg, text } = await submitForm(bot, { targetType: 'storage-network-access', storageAccountId: account });
    expect(text).toContain('Storage account: open to all networks for Chaos Studio — WIDENS access');
    expect(text).toMatch(/⚠️ \*\*storage.widens-access\*\* — This WIDENS network access/);
    expect(text).toContain('• properties.networkAcls.defaultAction: Deny → Allow');
    expect(text).not.toMatch(/can never be undone/);
    await approve(formMsg);
    const final = await finalCard(formMsg, /Open to all networks \(access widened\) and verified/);
    expect(cardText(final.activity)).toContain('✅ **storage.network-access.verify**');
    const writes = bot.sim.writes();
    expect(writes.map((w) => [w.method, w.path, w.query['api-version']])).toEqual([['PATCH', account, '2025-01-01']]);
    expect(writes[0]!.body).toEqual({
      properties: {
        publicNetworkAccess: 'Enabled',
        networkAcls: { bypass: 'AzureServices', virtualNetworkRules: [], ipRules: [{ value: '203.0.113.0/24', action: 'Allow' }], resourceAccessRules: [], defaultAction: 'Allow' },
      },
    });
    // StorageAccounts_Update's example: what its request sends in networkAcls, ours sends too; what ours sends, its answer has (same kinds).
    const example = loadExample('Microsoft.Storage/2025-01-01/StorageAccountUpdate.json');
    const sent = (writes[0]!.body as { properties: { networkAcls: unknown } }).properties.networkAcls;
    expect(shapeDiff(example.parameters.parameters.properties.networkAcls, sent)).toEqual([]);
    expect(shapeDiff(sent, example.responses['200'].body.properties.networkAcls)).toEqual([]);
  });
});

describe('through Slack', () => {
  let h: SlackHarness;
  const ALEX = { id: 'U0ALEX', name: 'alex' };
  const RILEY = { id: 'U0RILEY', name: 'riley' };
  beforeAll(async () => {
    h = await startSlackBot(POLICY, [ALEX, RILEY], 'C0REMEDY', {});
  });
  afterAll(() => h?.close());

  it('the vault firewall remediation goes from the modal to a verified PATCH', async () => {
    const form = await h.openForm(ALEX, 'new vault-firewall-bypass');
    const ok = await h.submit(ALEX, form, { vaultId: new RegExp(`^${SIM_FIREWALL_VAULT} `) });
    expect(ok.status).toBe(200);
    const posted = await h.slack.waitFor(() => h.slack.messages.find((m) => JSON.stringify(m.blocks ?? []).includes('None → AzureServices') && !m.thread_ts), 15000, 'request message');
    await h.press(RILEY, 'C0REMEDY', posted.ts, 'request.approve');
    await h.slack.waitFor(() => h.slack.thread('C0REMEDY', posted.ts).find((m) => /done: .*its rules kept, and verified/.test(m.text ?? '')), 15000, 'done in the thread');
    const writes = h.bot.sim.writes();
    expect(writes.map((w) => w.method)).toEqual(['PATCH']);
    expect(writes[0]!.body).toEqual({ properties: { networkAcls: { bypass: 'AzureServices', defaultAction: 'Deny', ipRules: [{ value: '203.0.113.0/24' }], virtualNetworkRules: [] } } });
  });
});

describe('starting from a resource', () => {
  /** Says `text` in a new conversation; the first answer matching `answer`, its text and card together. */
  const say = async (text: string, answer: RegExp) => {
    const conv = `conv-${Math.random().toString(36).slice(2, 8)}`;
    await post(bot.app.url, message(bot.connector.url, ALICE, text, conv));
    const all = (a: { activity: { text?: string } }) => `${a.activity.text ?? ''}\n${cardText(a.activity as never)}`;
    return all(await bot.connector.waitFor((a) => a.conversationId === conv && answer.test(all(a)), 10000, text));
  };

  it('`new vault-purge-protection <vault>` refuses a vault without soft delete, naming the fix, and opens the form for one with it', async () => {
    const refused = await say(`new vault-purge-protection ${simVaultId(SIM_NOSOFTDELETE_VAULT)}`, /has soft delete off, and purge protection needs it/);
    expect(refused).toContain(`az keyvault update --name ${SIM_NOSOFTDELETE_VAULT} --enable-soft-delete true`);
    const form = await say(`new vault-purge-protection ${simVaultId(SIM_NOPURGE_VAULT)}`, /Turn purge protection on for a key vault/);
    expect(form).toContain('Azure never lets it be turned off again');
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('`check <vault id>` stays refused: a remediation target does not review the resource it changes', async () => {
    const text = await say(`check ${simVaultId(SIM_FIREWALL_VAULT)}`, /I can review/);
    expect(text).toMatch(/I can review .*; Microsoft\.KeyVault\/vaults is not one of them/);
    expect(text).not.toMatch(/I can review [^;]*Microsoft\.KeyVault\/vaults[^;]*;/);
  });
});
