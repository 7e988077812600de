// The write is the approved payload: for every target, the body ARM received equals the payload
// that was digested and shown on the card (req.plan!.body), as canonical JSON — end to end through
// /api/messages. And the two writes that used to differ: a storage key URL pasted with a version
// (version field "latest") is written pinned, and a Fluid Relay key change keeps every identity
// the server has.
import { canonicalJson } from '../../src/domain/canonical';
import { SIM_CHAOS_CMK, SIM_FLUID_CMK, SIM_IDENTITY, SIM_KEY, SIM_KEY_VERSION_CURRENT, SIM_RBAC_VAULT, SIM_STORAGE_NO_CMK, simChaosId, simFluidRelayId, simIdentityId, simKeyUrl, simStorageId } from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { chaosExperimentForm, fluidRelayForm } from '../helpers/forms';
import { BOB, cardAction, post } from '../helpers/teams';
import { clickData } from '../helpers/connector';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n`, 'inline'));
});
afterAll(() => bot?.close());
beforeEach(() => {
  bot.sim.reset();
  bot.sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 1 });
});

const rnd = () => Math.random().toString(36).slice(2, 8);

/** Submit, approve, wait for the end; returns the stored request, its card and the one write ARM received. */
async function approveAndRun(data: Record<string, string>) {
  const conversation = `conv-${rnd()}`;
  const { requestId, formMsg, text } = await submitForm(bot, data, undefined, conversation);
  expect(text).toMatch(/Waiting for 1 more approval/);
  await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg, conversation));
  const end = Date.now() + 20_000;
  for (;;) {
    const req = (await bot.store.getRequest(requestId!))!;
    if (['succeeded', 'failed'].includes(req.state)) {
      const writes = bot.sim.writes().filter((w) => w.path.toLowerCase() === req.plan!.resourceId.toLowerCase());
      return { req, text, writes };
    }
    if (Date.now() > end) throw new Error(`request ${requestId} stuck in ${req.state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const storageForm = (over: Record<string, string> = {}) => ({
  targetType: 'storage-cmk',
  storageAccountId: simStorageId(SIM_STORAGE_NO_CMK),
  identityId: simIdentityId(SIM_IDENTITY),
  keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
  keyVersion: 'latest',
  ...over,
});

const CASES: Array<[string, () => Record<string, string>]> = [
  ['fluid-relay', () => fluidRelayForm(`fr-body-${rnd()}`)],
  ['fluid-relay (pinned version)', () => fluidRelayForm(`fr-body-${rnd()}`, { keyVersion: SIM_KEY_VERSION_CURRENT })],
  ['fluid-relay-rotate', () => ({ targetType: 'fluid-relay-rotate', resourceId: simFluidRelayId(SIM_FLUID_CMK), identityId: simIdentityId(SIM_IDENTITY), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: 'latest' })],
  ['chaos-experiment', () => chaosExperimentForm(`exp-body-${rnd()}`)],
  ['chaos-identity', () => ({ targetType: 'chaos-identity', resourceId: simChaosId(SIM_CHAOS_CMK), identityId: simIdentityId(SIM_IDENTITY) })],
  ['storage-cmk', () => storageForm()],
  ['storage-cmk (key URL pasted with a version)', () => storageForm({ keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT) })],
];

describe('the body ARM received is the digested payload', () => {
  it.each(CASES)('%s', async (_name, form) => {
    const { req, writes } = await approveAndRun(form());
    expect(req.state).toBe('succeeded');
    expect(writes).toHaveLength(1);
    expect(writes[0]!.method).toBe(req.plan!.method);
    expect(writes[0]!.query['api-version']).toBe(req.plan!.apiVersion);
    expect(canonicalJson(writes[0]!.body)).toBe(canonicalJson(req.plan!.body));
  });
});

describe('the two writes that differed from what was approved', () => {
  it('storage: a key URL pasted with a version and version "latest" is written pinned, as the card and checks show', async () => {
    const pinned = simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT);
    const { req, text, writes } = await approveAndRun(storageForm({ keyUrl: pinned }));
    expect(text).toContain(`Key: ${pinned}`);
    expect(text).toMatch(/key.version-policy\*\* — .*pinned/i);
    expect(req.state).toBe('succeeded');
    const kvp = (writes[0]!.body as { properties: { encryption: { keyvaultproperties: Record<string, string> } } }).properties.encryption.keyvaultproperties;
    expect(kvp).toEqual({ keyvaulturi: `https://${SIM_RBAC_VAULT}.vault.azure.net`, keyname: SIM_KEY, keyversion: SIM_KEY_VERSION_CURRENT });
    const account = bot.sim.state.get(simStorageId(SIM_STORAGE_NO_CMK))!;
    expect((account.properties as { encryption: { keyvaultproperties: { keyversion: string } } }).encryption.keyvaultproperties.keyversion).toBe(SIM_KEY_VERSION_CURRENT);
  });

  it('Fluid Relay key change on a server with a system- and a user-assigned identity: stopped at the checks, no identity silently dropped', async () => {
    const id = simFluidRelayId(SIM_FLUID_CMK);
    const server = bot.sim.state.get(id)!;
    const identity = server.identity as { userAssignedIdentities: Record<string, unknown> };
    bot.sim.state.put({ ...server, identity: { ...identity, type: 'SystemAssigned, UserAssigned', principalId: '77777777-7777-4777-8777-777777777701', tenantId: '11111111-1111-4111-8111-111111111111' } });
    const { text, requestId } = await submitForm(bot, { targetType: 'fluid-relay-rotate', resourceId: id, identityId: simIdentityId(SIM_IDENTITY), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: 'latest' });
    expect(text).toMatch(/❌ \*\*fluidrelay.identity-type\*\* — .*has identity type "SystemAssigned, UserAssigned"\. Fluid Relay CMK requires UserAssigned only/);
    const req = (await bot.store.getRequest(requestId!))!;
    expect(req.state).toBe('checked');
    // What the card shows keeps both identities: nothing is dropped behind anyone's back.
    const shown = (req.plan!.body as { identity: { type: string; userAssignedIdentities: Record<string, unknown> } }).identity;
    expect(shown.type).toBe('SystemAssigned, UserAssigned');
    expect(Object.keys(shown.userAssignedIdentities)).toEqual(Object.keys(identity.userAssignedIdentities));
    expect(bot.sim.writes()).toHaveLength(0);
  });
});

describe('the card shows the payload it digests', () => {
  it('storage: the key on the card is the one in the payload', async () => {
    const pinned = simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT);
    const { text } = await submitForm(bot, storageForm({ keyUrl: pinned }), undefined, `conv-${rnd()}`);
    expect(text).toContain(`"keyversion": "${SIM_KEY_VERSION_CURRENT}"`);
  });
});
