// Changing keys later: a Fluid Relay server moved from a pinned version to versionless
// auto-rotation (PATCH, with its warning), a refused CMK removal, a server whose configured key
// version has expired, and what rotate says for storage accounts and Chaos experiments.
import {
  SIM_CHAOS_CMK,
  SIM_FLUID_CMK,
  SIM_FLUID_STALE,
  SIM_IDENTITY,
  SIM_IDENTITY_INHERITED,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_RBAC_VAULT,
  SIM_ROTATED_KEY,
  simChaosId,
  simFluidRelayId,
  simIdentityId,
  simKeyUrl,
} from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, firstCard, clickData } from '../helpers/connector';
import { ALICE, BOB, cardAction, message, post } from '../helpers/teams';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n`, 'inline'));
});
afterAll(() => bot?.close());
beforeEach(() => bot.sim.reset());

const rotate = (server: string, over: Record<string, string> = {}) => ({
  targetType: 'fluid-relay-rotate',
  resourceId: simFluidRelayId(server),
  keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
  keyVersion: 'latest',
  identityId: simIdentityId(SIM_IDENTITY),
  ...over,
});

describe('rotate', () => {
  it('shows the current key and prefills the form', async () => {
    await post(bot.app.url, message(bot.connector.url, ALICE, `rotate ${simFluidRelayId(SIM_FLUID_CMK)}`));
    const form = await bot.connector.waitFor((a) => /Change the customer-managed key of fr-existing-cmk/.test(cardText(a.activity)), 10000, 'rotate form');
    expect(cardText(form.activity)).toContain(`Key now: ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT)}`);
    const inputs = (firstCard(form.activity)!.body as Array<{ id?: string; value?: string }>).filter((b) => b.id);
    expect(Object.fromEntries(inputs.map((i) => [i.id, i.value]))).toMatchObject({ keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: SIM_KEY_VERSION_CURRENT, identityId: simIdentityId(SIM_IDENTITY) });
  });

  it('from a pinned version to versionless: warns, PATCHes only encryption and identity, verifies', async () => {
    const { formMsg, text } = await submitForm(bot, rotate(SIM_FLUID_CMK));
    expect(text).toMatch(/⚠️ \*\*key.version-policy\*\* — Switching from pinned version .* this switch may fail/);
    expect(text).toContain('✅ **fluidrelay.previous-key-alive**');
    expect(text).toContain('✅ **fluidrelay.create-only** — The server has CMK');
    expect(text).toMatch(/Waiting for 1 more approval/); // reversible: no extra approval
    // Property by property, what the PATCH changes.
    expect(text).toContain(`What changes\n• properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl: ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT)} → ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)}`);
    expect(text).not.toMatch(/• identity\./); // the identity stays as it is
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg));
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Key changed and verified/.test(cardText(a.activity)), 15000, 'done');
    const writes = bot.sim.writes();
    expect(writes.map((w) => w.method)).toEqual(['PATCH']);
    expect(writes[0]!.body).toEqual({
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } },
      properties: {
        encryption: {
          customerManagedKeyEncryption: {
            keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: simIdentityId(SIM_IDENTITY) },
            keyEncryptionKeyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
          },
        },
      },
    });
  });

  it('a request to remove CMK is refused by fluidrelay.no-disable and never sent', async () => {
    const { text } = await submitForm(bot, rotate(SIM_FLUID_CMK, { disableCmk: 'true' }));
    expect(text).toMatch(/❌ \*\*fluidrelay.no-disable\*\* — This change would remove the customer-managed key; Fluid Relay CMK cannot be disabled/);
    expect(text).toMatch(/Blocked: fix the failing checks/);
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('a server whose configured key version has expired cannot change keys until it works again', async () => {
    const { text } = await submitForm(bot, rotate(SIM_FLUID_STALE, { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY) }));
    expect(text).toMatch(/❌ \*\*fluidrelay.previous-key-alive\*\* — The configured key rotated-cmk version .* is expired/);
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('for a Chaos experiment: says the key rotates on the storage account, and changes the identity by PATCH', async () => {
    await post(bot.app.url, message(bot.connector.url, ALICE, `rotate ${simChaosId(SIM_CHAOS_CMK)}`));
    await bot.connector.waitFor((a) => /key rotation happens on the storage account/.test(cardText(a.activity)), 5000, 'chaos rotate form');
    bot.sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 1 });
    const { text } = await submitForm(bot, { targetType: 'chaos-identity', resourceId: simChaosId(SIM_CHAOS_CMK), identityId: simIdentityId(SIM_IDENTITY_INHERITED) });
    expect(text).toContain('✅ **identity.key-permissions**');
    expect(text).toMatch(/❌ \*\*storage.blob-write\*\* — Identity id-inherited cannot write blobs/);
    // With the identity it already uses, everything passes and the PATCH carries only the identity.
    const ok = await submitForm(bot, { targetType: 'chaos-identity', resourceId: simChaosId(SIM_CHAOS_CMK), identityId: simIdentityId(SIM_IDENTITY) });
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, ok.formMsg), ok.formMsg));
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === ok.formMsg && /Identity changed and verified/.test(cardText(a.activity)), 15000, 'done');
    const patch = bot.sim.writes().find((w) => w.method === 'PATCH')!;
    expect(patch.query['api-version']).toBe('2026-11-01');
    expect(patch.body).toEqual({ identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } } });
  });
});
