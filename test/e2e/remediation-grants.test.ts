// Remediation grants end to end against the simulator: a role assignment on a key (the exact PUT,
// its verification by listing the scope), the same grant when Azure already has it (409
// RoleAssignmentExists is done, not failed), an access policy added to an access-policy vault, and
// the access policy refused on an RBAC vault — in Teams, and the access policy once through Slack.
import {
  BUILTIN_ROLE_IDS,
  roleAssignmentResource,
  SIM_BOT_PRINCIPAL_ID,
  SIM_IDENTITY,
  SIM_IDENTITY_NO_ACCESS,
  SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_KEY,
  SIM_POLICY_KEY,
  SIM_POLICY_VAULT,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_SUBSCRIPTION_ID,
  SIM_TENANT_ID,
  simIdentityId,
  simKeyUrl,
  simVaultId,
} from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { call, loadExample, shapeDiff } from '../fixtures/azure-rest/helpers';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, clickData } from '../helpers/connector';
import { startSlackBot, type SlackHarness } from '../helpers/slack';
import { BOB, cardAction, post } from '../helpers/teams';

const POLICY = parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n`, 'inline');
const CSEU = BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser;
const ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments';

/** The request body of a stored Azure REST spec example (test/fixtures/azure-rest). */
const specRequest = (file: string): unknown => (loadExample(file) as { parameters: { parameters: unknown } }).parameters.parameters;

/** Every property path of `body` is one the spec's example has, with the same JSON kind. */
function shapeWithin(body: unknown, example: unknown, at = '$'): string[] {
  const kind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
  if (kind(body) !== kind(example)) return [`${at}: ${kind(body)} where the example has ${kind(example)}`];
  if (Array.isArray(body)) return body.flatMap((b, i) => shapeWithin(b, (example as unknown[])[0], `${at}[${i}]`));
  if (kind(body) !== 'object') return [];
  const ex = example as Record<string, unknown>;
  return Object.entries(body as Record<string, unknown>).flatMap(([k, v]) => (k in ex ? shapeWithin(v, ex[k], `${at}.${k}`) : [`${at}.${k}: not in the example`]));
}

/** What Azure needs of the bot to grant roles: Role Based Access Control Administrator, or (here) User Access Administrator, at the vault's group. */
function botMayGrant(sim: TestBot['sim']) {
  sim.state.put(
    roleAssignmentResource({
      name: '7a7a7a7a-7a7a-4a7a-8a7a-7a7a7a7a7a7a',
      scope: `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}`,
      roleGuid: BUILTIN_ROLE_IDS.userAccessAdministrator,
      principalId: SIM_BOT_PRINCIPAL_ID,
      createdOn: new Date(Date.now() - 400 * 24 * 3600 * 1000).toISOString(),
    }),
  );
}

const assignmentsOf = (sim: TestBot['sim'], principalId: string) =>
  sim.state.ofType('Microsoft.Authorization/roleAssignments').filter((a) => String((a.properties as { principalId: string }).principalId).toLowerCase() === principalId.toLowerCase());

describe('remediation grants through Teams', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startBot(POLICY);
  });
  afterAll(() => bot?.close());
  beforeEach(() => {
    bot.sim.reset();
    botMayGrant(bot.sim);
  });

  async function approve(formMsg: string, done: RegExp) {
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg));
    return bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && done.test(cardText(a.activity)), 20000, 'final card');
  }

  it('grant-key-access on a key: the card says it grants access to key material, one approval, the exact PUT, verified by listing the scope', async () => {
    const keyId = `${simVaultId(SIM_RBAC_VAULT)}/keys/${SIM_KEY}`;
    expect(assignmentsOf(bot.sim, SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID)).toEqual([]);
    const { requestId, formMsg, text } = await submitForm(bot, { targetType: 'grant-key-access', identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), scopeLevel: 'key', roleId: CSEU });
    expect(requestId).toBeDefined();
    expect(text).toContain('access to key material: Key Vault Crypto Service Encryption User');
    expect(text).toContain('✅ **grant.vault-rbac**');
    expect(text).toContain('✅ **bot.can-write**');
    expect(text).toMatch(/Waiting for 1 more approval/);

    const final = await approve(formMsg, /Granted and verified/);
    expect(cardText(final.activity)).toContain(`✅ **grant.verify** — Listing the role assignments at the scope shows Key Vault Crypto Service Encryption User for principal ${SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID}`);

    const puts = bot.sim.writes();
    expect(puts.map((w) => [w.method, w.status])).toEqual([['PUT', 201]]);
    expect(puts[0]!.path).toMatch(new RegExp(`^${keyId}${ASSIGNMENTS}/[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, 'i'));
    expect(puts[0]!.query['api-version']).toBe('2022-04-01');
    expect(puts[0]!.body).toEqual({
      properties: { roleDefinitionId: `/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${CSEU}`, principalId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID, principalType: 'ServicePrincipal' },
    });
    expect(shapeWithin(puts[0]!.body, specRequest('Microsoft.Authorization/2022-04-01/RoleAssignments_CreateForResource.json'))).toEqual([]);
    // The grant is what Azure now holds, at the key, and the verification read it by listing the scope.
    expect(assignmentsOf(bot.sim, SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID).map((a) => (a.properties as { scope: string }).scope)).toEqual([keyId]);
    expect(bot.sim.requests.some((r) => r.method === 'GET' && r.path === `${keyId}${ASSIGNMENTS}` && /principalId eq/.test(r.query['$filter'] ?? ''))).toBe(true);
  });

  it('grant-key-access when the identity holds the role there already: Azure answers 409 RoleAssignmentExists, the request is done and verified, nothing added', async () => {
    const vaultId = simVaultId(SIM_RBAC_VAULT);
    const before = assignmentsOf(bot.sim, SIM_IDENTITY_PRINCIPAL_ID).length;
    const { requestId, formMsg } = await submitForm(bot, { targetType: 'grant-key-access', identityId: simIdentityId(SIM_IDENTITY), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), scopeLevel: 'vault', roleId: CSEU });
    const final = await approve(formMsg, /Granted and verified/);
    expect(cardText(final.activity)).toContain('✅ **grant.verify**');
    const puts = bot.sim.writes();
    expect(puts.map((w) => [w.method, w.status])).toEqual([['PUT', 409]]);
    expect(puts[0]!.path.startsWith(`${vaultId}${ASSIGNMENTS}/`)).toBe(true);
    expect(assignmentsOf(bot.sim, SIM_IDENTITY_PRINCIPAL_ID)).toHaveLength(before);
    const trail = await bot.store.auditTrail(requestId!);
    expect(trail.find((e) => e.event === 'arm_call')?.data).toMatchObject({ ok: true, code: 'RoleAssignmentExists' });
  });

  it('a refused read while preparing a grant is shown as Azure’s answer on the card, not taken for "no such identity"', async () => {
    bot.sim.injectFault({ method: 'GET', pathIncludes: `/userAssignedIdentities/${SIM_IDENTITY_NO_ACCESS}`, status: 403, code: 'AuthorizationFailed', message: 'The client does not have authorization', times: Infinity });
    const { text, requestId } = await submitForm(bot, { targetType: 'grant-key-access', identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), scopeLevel: 'key', roleId: CSEU });
    expect(requestId).toBeUndefined();
    expect(text).toMatch(/Could not run the checks[\s\S]*AuthorizationFailed/);
  });

  it('grant-key-access without the remediation role: refused before anyone approves, naming the role the bot lacks', async () => {
    bot.sim.reset(); // no User Access Administrator for the bot
    const { text } = await submitForm(bot, { targetType: 'grant-key-access', identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), scopeLevel: 'vault', roleId: CSEU });
    expect(text).toMatch(/❌ \*\*bot.can-write\*\* — The bot's identity lacks Microsoft.Authorization\/roleAssignments\/write at \S+\/resourceGroups\/rg-cmk-demo/);
    expect(text).toContain('cmk-chatops-remediation');
    expect(bot.sim.writes()).toEqual([]);
  });

  it('vault-access-policy on an access-policy vault: the exact PUT to accessPolicies/add, verified on the vault', async () => {
    const vaultId = simVaultId(SIM_POLICY_VAULT);
    const before = (bot.sim.state.get(vaultId)!.properties as { accessPolicies: Array<{ objectId: string }> }).accessPolicies.map((p) => p.objectId);
    expect(before).not.toContain(SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID);
    const { formMsg, text } = await submitForm(bot, { targetType: 'vault-access-policy', identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS), keyUrl: simKeyUrl(SIM_POLICY_VAULT, SIM_POLICY_KEY) });
    expect(text).toContain(`access to key material: keys get, wrapKey, unwrapKey on every key in vault ${SIM_POLICY_VAULT}`);
    expect(text).toContain('✅ **policy.vault-model**');
    const final = await approve(formMsg, /Access policy added and verified/);
    expect(cardText(final.activity)).toContain(`✅ **policy.verify** — GET of the vault shows an access policy for ${SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID} with keys get, wrapkey, unwrapkey`);
    const puts = bot.sim.writes();
    expect(puts.map((w) => [w.method, w.path, w.query['api-version'], w.status])).toEqual([['PUT', `${vaultId}/accessPolicies/add`, '2024-11-01', 200]]);
    expect(puts[0]!.body).toEqual({ properties: { accessPolicies: [{ tenantId: SIM_TENANT_ID, objectId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID, permissions: { keys: ['get', 'wrapKey', 'unwrapKey'] } }] } });
    expect(shapeWithin(puts[0]!.body, specRequest('Microsoft.KeyVault/2024-11-01/updateAccessPoliciesAdd.json'))).toEqual([]);
    // Added to the vault's policies; the ones it had are kept.
    expect((bot.sim.state.get(vaultId)!.properties as { accessPolicies: Array<{ objectId: string }> }).accessPolicies.map((p) => p.objectId)).toEqual([...before, SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID]);
  });

  it('vault-access-policy on an RBAC vault is refused before anyone approves, naming the role-assignment target', async () => {
    const { text } = await submitForm(bot, { targetType: 'vault-access-policy', identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY) });
    expect(text).toMatch(/❌ \*\*policy.vault-model\*\* — Vault kv-cmk-rbac uses Azure RBAC, which ignores access policies/);
    expect(text).toContain('new grant-key-access');
    expect(bot.sim.writes()).toEqual([]);
  });

  it('the simulator answers accessPolicies/add as the spec example does, and refuses what Azure would refuse (no tenant id; an unknown key permission)', async () => {
    const path = `${simVaultId(SIM_POLICY_VAULT)}/accessPolicies/add`;
    const example = loadExample('Microsoft.KeyVault/2024-11-01/updateAccessPoliciesAdd.json') as { responses: { 200: { body: unknown } } };
    const good = await call(bot.sim, 'PUT', path, {
      apiVersion: '2024-11-01',
      body: { properties: { accessPolicies: [{ tenantId: SIM_TENANT_ID, objectId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID, permissions: { keys: ['get'], secrets: ['get'], certificates: ['get'] } }] } },
    });
    expect(good.status).toBe(200);
    expect(shapeDiff(example.responses[200].body, good.body)).toEqual([]);
    const noTenant = await call(bot.sim, 'PUT', path, { apiVersion: '2024-11-01', body: { properties: { accessPolicies: [{ objectId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID, permissions: { keys: ['get'] } }] } } });
    expect([noTenant.status, noTenant.body.error.code]).toEqual([400, 'BadRequest']);
    const badPerm = await call(bot.sim, 'PUT', path, { apiVersion: '2024-11-01', body: { properties: { accessPolicies: [{ tenantId: SIM_TENANT_ID, objectId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID, permissions: { keys: ['getall'] } }] } } });
    expect([badPerm.status, badPerm.body.error.code]).toEqual([400, 'BadRequest']);
  });
});

describe('a grant whose answer is lost (the gateway retries writes as configured in production)', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startBot(POLICY, {}, undefined, { armTuning: { maxRetries: 3, retryDelayMs: 30, defaultPollMs: 50, maxOperationMs: 5000 }, resumePollMs: 50, queueTuning: { retryBaseMs: 50 } });
  });
  afterAll(() => bot?.close());

  it('grant-key-access whose answer is lost after Azure made the assignment: looked up by listing the scope, not sent again', async () => {
    botMayGrant(bot.sim);
    bot.sim.injectFault({ method: 'PUT', pathIncludes: `/keys/${SIM_KEY}/providers/Microsoft.Authorization/roleAssignments/`, status: 500, afterApply: true });
    const { formMsg } = await submitForm(bot, { targetType: 'grant-key-access', identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), scopeLevel: 'key', roleId: CSEU });
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg));
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Granted and verified/.test(cardText(a.activity)), 20000, 'final card');
    expect(bot.sim.writes().map((w) => [w.method, w.status])).toEqual([['PUT', 500]]);
    expect(assignmentsOf(bot.sim, SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID)).toHaveLength(1);
  });
});

describe('a remediation grant through Slack', () => {
  const ALEX = { id: 'U0ALEX', name: 'alex' };
  const RILEY = { id: 'U0RILEY', name: 'riley' };
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackBot(POLICY, [ALEX, RILEY], 'C0CMKREQ');
  });
  afterAll(() => h?.close());

  it('new vault-access-policy <identity>: the identity carried from the command, the key picked, approved, the same PUT, verified', async () => {
    const identityId = simIdentityId(SIM_IDENTITY_NO_ACCESS);
    const form = await h.openForm(ALEX, `new vault-access-policy ${identityId}`);
    expect(h.block(form, 'identityId').element?.initial_option?.value).toBe(h.option(form, 'identityId', new RegExp(`^${SIM_IDENTITY_NO_ACCESS} `)));
    const ok = await h.submit(ALEX, form, { keyUrl: new RegExp(`^${SIM_POLICY_VAULT} / ${SIM_POLICY_KEY} `) });
    expect(ok.status).toBe(200);
    const posted = await h.slack.waitFor(() => h.slack.messages.find((m) => JSON.stringify(m.blocks ?? []).includes('access to key material') && !m.thread_ts), 15000, 'request message');
    await h.press(RILEY, 'C0CMKREQ', posted.ts, 'request.approve');
    await h.slack.waitFor(() => h.slack.thread('C0CMKREQ', posted.ts).find((m) => /Access policy added and verified/.test(m.text ?? '')), 20000, 'done in the thread');
    const puts = h.bot.sim.writes();
    expect(puts.map((w) => [w.method, w.path])).toEqual([['PUT', `${simVaultId(SIM_POLICY_VAULT)}/accessPolicies/add`]]);
    expect(puts[0]!.body).toEqual({ properties: { accessPolicies: [{ tenantId: SIM_TENANT_ID, objectId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID, permissions: { keys: ['get', 'wrapKey', 'unwrapKey'] } }] } });
  });
});
