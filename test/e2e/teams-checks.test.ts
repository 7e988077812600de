// Every seeded failing resource, submitted through /api/messages, is stopped by the right check
// with its remedy; the unusual-but-valid seeds pass; `check` reviews existing servers and
// re-runs a request's checks.
import {
  SIM_DISABLED_KEY,
  SIM_EC_KEY,
  SIM_EXPIRED_KEY,
  SIM_EXPIRING_KEY,
  SIM_FIREWALL_KEY,
  SIM_FIREWALL_VAULT,
  SIM_FLUID_CMK,
  SIM_FLUID_EXISTING,
  SIM_FLUID_STALE,
  SIM_IDENTITY,
  SIM_IDENTITY_CUSTOM_ROLE,
  SIM_IDENTITY_INHERITED,
  SIM_IDENTITY_NO_ACCESS,
  SIM_IDENTITY_NO_ASSIGN,
  SIM_IDENTITY_OTHER_TENANT,
  SIM_IDENTITY_WEST,
  SIM_IDENTITY_WRAP_ONLY,
  SIM_KEY,
  SIM_LOCATION,
  SIM_NOPURGE_KEY,
  SIM_NOPURGE_VAULT,
  SIM_NOSOFTDELETE_KEY,
  SIM_NOSOFTDELETE_VAULT,
  SIM_NOT_YET_VALID_KEY,
  SIM_NO_WRAP_KEY,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_RG_LOCKED,
  SIM_ROTATED_KEY,
  SIM_ROTATED_KEY_VERSION_OLD,
  SIM_SUBSCRIPTION_ID,
  SIM_SUBSCRIPTION3_ID,
  SIM_RG_LABS,
  simFluidRelayId,
  simVaultId,
  roleAssignmentResource,
  BUILTIN_ROLE_IDS,
  SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
  simIdentityId,
  simKeyUrl,
} from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText } from '../helpers/connector';
import { BOB, message, post } from '../helpers/teams';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(parsePolicy('version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n', 'inline'));
});
afterAll(() => bot?.close());

const base = () => ({
  targetType: 'fluid-relay',
  subscriptionId: SIM_SUBSCRIPTION_ID,
  resourceGroup: SIM_RG,
  name: `fr-chk-${Math.random().toString(36).slice(2, 8)}`,
  location: SIM_LOCATION,
  identityId: simIdentityId(SIM_IDENTITY),
  keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
  keyVersion: 'latest',
  storagesku: 'basic',
});

type Row = [seed: string, over: Record<string, string>, checkId: string, icon: '❌' | '⚠️'];
const rows: Row[] = [
  ['EC key', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EC_KEY) }, 'key.type', '❌'],
  ['disabled key', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_DISABLED_KEY) }, 'key.enabled', '❌'],
  ['key with nbf in the future', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_NOT_YET_VALID_KEY) }, 'key.enabled', '❌'],
  ['expired key', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EXPIRED_KEY) }, 'key.not-expired', '❌'],
  ['expired pinned version of a healthy key', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY), keyVersion: SIM_ROTATED_KEY_VERSION_OLD }, 'key.not-expired', '❌'],
  ['key expiring within the warning window', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EXPIRING_KEY) }, 'key.not-expired', '⚠️'],
  ['key without wrap/unwrap operations', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_NO_WRAP_KEY) }, 'key.ops', '❌'],
  ['vault without soft delete', { keyUrl: simKeyUrl(SIM_NOSOFTDELETE_VAULT, SIM_NOSOFTDELETE_KEY) }, 'vault.soft-delete', '❌'],
  ['vault without purge protection', { keyUrl: simKeyUrl(SIM_NOPURGE_VAULT, SIM_NOPURGE_KEY) }, 'vault.purge-protection', '⚠️'],
  ['firewalled vault without trusted services', { keyUrl: simKeyUrl(SIM_FIREWALL_VAULT, SIM_FIREWALL_KEY) }, 'vault.firewall', '❌'],
  ['vault that does not exist', { keyUrl: 'https://kv-nowhere.vault.azure.net/keys/k1' }, 'key.vault-found', '❌'],
  ['identity in another region', { identityId: simIdentityId(SIM_IDENTITY_WEST) }, 'placement.same-region', '❌'],
  ['identity in another tenant', { identityId: simIdentityId(SIM_IDENTITY_OTHER_TENANT) }, 'identity.same-tenant', '❌'],
  ['identity without access', { identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS) }, 'identity.key-permissions', '❌'],
  ['role granting wrap but not unwrap', { identityId: simIdentityId(SIM_IDENTITY_WRAP_ONLY) }, 'identity.key-permissions', '❌'],
  ['identity that does not exist', { identityId: simIdentityId('id-missing') }, 'identity.exists', '❌'],
  ['resource group where the bot cannot write', { resourceGroup: SIM_RG_LOCKED }, 'bot.can-write', '❌'],
  ['identity the bot may not assign', { identityId: simIdentityId(SIM_IDENTITY_NO_ASSIGN) }, 'bot.can-write', '❌'],
  ['existing server without CMK', { name: SIM_FLUID_EXISTING }, 'fluidrelay.create-only', '❌'],
];

describe('each seeded failure is named by the right check', () => {
  it.each(rows.map(([seed, over, checkId, icon]) => ({ seed, over, checkId, icon })))('$seed → $checkId', async ({ over, checkId, icon }) => {
    const { text } = await submitForm(bot, { ...base(), ...over });
    expect(text).toContain(`${icon} **${checkId}** — `);
    const block = text.split('\n').slice(text.split('\n').findIndex((l) => l.includes(`**${checkId}**`)));
    if (icon === '❌') {
      expect(text).toMatch(/Blocked: fix the failing checks/);
      expect(block.find((l) => l.startsWith('Fix: '))).toBeTruthy();
      // Nothing can run: nothing to approve, nothing to cancel.
      expect(text).not.toMatch(/\[Approve\]|\[Cancel request\]/);
    }
  });

  it.each([
    ['RBAC access inherited from the resource group', { identityId: simIdentityId(SIM_IDENTITY_INHERITED) }],
    ['a custom role granting keys/*', { identityId: simIdentityId(SIM_IDENTITY_CUSTOM_ROLE) }],
    ['the current version of a rotated key', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_ROTATED_KEY) }],
  ])('%s passes', async (_name, over) => {
    const { text } = await submitForm(bot, { ...base(), ...over });
    expect(text).toMatch(/Waiting for 1 more approval/);
    expect(text).not.toContain('❌');
  });
  it('a subscription without Microsoft.FluidRelay registered blocks before approval, with the command that registers it', async () => {
    const { text } = await submitForm(bot, { ...base(), subscriptionId: SIM_SUBSCRIPTION3_ID, resourceGroup: SIM_RG_LABS });
    expect(text).toContain('❌ **provider.registered** — Microsoft.FluidRelay is NotRegistered in subscription');
    expect(text).toContain(`az provider register --namespace Microsoft.FluidRelay --subscription ${SIM_SUBSCRIPTION3_ID}`);
    expect(text).toMatch(/Blocked: fix the failing checks/);
    // Only the registration is wrong: the key, identity and the bot's rights in rg-labs are fine.
    expect(
      text
        .split('\n')
        .filter((l) => l.startsWith('❌'))
        .map((l) => /\*\*([^*]+)\*\*/.exec(l)?.[1]),
    ).toEqual(['provider.registered']);
  });

  it('a vault the bot cannot read makes the affected checks `error` with the ARM code and correlation id, and blocks', async () => {
    bot.sim.injectFault({ method: 'GET', pathIncludes: `/vaults/${SIM_RBAC_VAULT}`, status: 403, code: 'AuthorizationFailed', message: 'The client does not have authorization', times: Infinity });
    try {
      const { text } = await submitForm(bot, base());
      expect(text).toMatch(/⛔ \*\*key.type\*\* — Could not read key: AuthorizationFailed/);
      expect(text).toMatch(/Evidence: armCode=AuthorizationFailed · correlationId=[0-9a-f-]{36}/);
      expect(text).toMatch(/Blocked: fix the failing checks/);
    } finally {
      bot.sim.reset();
    }
  });

  it('counts check outcomes in /metrics', async () => {
    const text = await (await fetch(`${bot.app.url}/metrics`)).text();
    expect(text).toMatch(/^cmk_check_results_total\{check="key.type",status="fail"\} [1-9]\d*$/m);
    expect(text).toMatch(/^cmk_check_results_total\{check="bot.can-write",status="fail"\} [2-9]\d*$/m);
  });

  afterAll(() => expect(bot.sim.writes()).toHaveLength(0));
});

describe('check command', () => {
  const review = async (id: string) => {
    await post(bot.app.url, message(bot.connector.url, BOB, `check ${id}`));
    const a = await bot.connector.waitFor((x) => cardText(x.activity).includes(`Review of Fluid Relay server ${id.split('/').pop()}`), 10000, `review of ${id}`);
    return cardText(a.activity);
  };

  it('reviews a healthy CMK server read-only', async () => {
    const text = await review(simFluidRelayId(SIM_FLUID_CMK));
    expect(text).toMatch(/Customer-managed key is on and working, with warnings below/);
    expect(text).toContain('⚠️ **key.version-policy**');
    expect(text).not.toContain('❌');
  });

  it('says a server without CMK cannot get it and what to do instead', async () => {
    const text = await review(simFluidRelayId(SIM_FLUID_EXISTING));
    expect(text).toMatch(/❌ \*\*fluidrelay.create-only\*\* — This server has no customer-managed key/);
    expect(text).toMatch(/Create a new server with `new fluid-relay`/);
  });

  it('catches a server whose pinned key version has expired', async () => {
    const text = await review(simFluidRelayId(SIM_FLUID_STALE));
    expect(text).toMatch(/❌ \*\*fluidrelay.previous-key-alive\*\* — The configured key rotated-cmk version .* is expired/);
    expect(text).toMatch(/❌ \*\*key.not-expired\*\*/);
  });

  it('refuses unknown resources and types clearly', async () => {
    await post(bot.app.url, message(bot.connector.url, BOB, `check ${simFluidRelayId('fr-nope')}`));
    await bot.connector.waitFor((a) => /fr-nope was not found/.test(a.activity.text ?? ''), 5000, 'not found');
    await post(bot.app.url, message(bot.connector.url, BOB, `check /subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.Web/sites/app1`));
    await bot.connector.waitFor((a) => /Microsoft.Web\/sites is not one of them/.test(a.activity.text ?? ''), 5000, 'unsupported type');
  });

  it('re-runs a waiting request’s checks and updates its card in place', async () => {
    const { requestId, formMsg } = await submitForm(bot, { ...base(), identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS) });
    // Someone fixes the access in Azure, then asks the bot to check again.
    bot.sim.state.put(
      roleAssignmentResource({
        scope: simVaultId(SIM_RBAC_VAULT),
        name: '9d9d9d9d-0000-4000-8000-000000000001',
        roleGuid: BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser,
        principalId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
        createdOn: new Date().toISOString(),
      }),
    );
    await post(bot.app.url, message(bot.connector.url, BOB, `check ${requestId}`));
    const updated = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Waiting for 1 more approval/.test(cardText(a.activity)), 10000, 'card updated after recheck');
    // The grant is minutes old: approvers are told a managed identity may not see it for hours.
    expect(cardText(updated.activity)).toMatch(/⚠️ \*\*identity.grant-age\*\* — Role "Key Vault Crypto Service Encryption User" at \S+kv-cmk-rbac was granted \d+ minutes? ago/);
    expect((await bot.store.getRequest(requestId!))?.state).toBe('pending_approval');
    const trail = await bot.store.auditTrail(requestId!);
    expect(trail.filter((r) => r.event === 'checked').map((r) => r.data.moment)).toEqual(['submission', 'recheck']);
  });
});
