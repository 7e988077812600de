// *Fix this* on a failing check (issue 16, part 2 — the first remediation wired end to end): a
// Chaos experiment blocked because its storage account has no customer-managed key offers the fix
// as a request of its own — the storage-cmk form, filled in — in Teams and in Slack; once the fix is
// approved and done, the blocked request is checked again by itself and goes on to approval.
import {
  BUILTIN_ROLE_IDS,
  roleAssignmentResource,
  SIM_BOT_PRINCIPAL_ID,
  SIM_IDENTITY,
  SIM_IDENTITY_NO_ACCESS,
  SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
  SIM_KEY,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_STORAGE_NO_CMK,
  SIM_SUBSCRIPTION_ID,
  simIdentityId,
  simKeyUrl,
  simStorageId,
} from '../../src/simulator';
import { parsePolicy } from '../../src/workflow/policy';
import { submitForm } from '../helpers/bot';
import { cardText, clickData } from '../helpers/connector';
import { chaosExperimentForm, fluidRelayForm } from '../helpers/forms';
import { startSlackBot, type SlackHarness } from '../helpers/slack';
import { ALICE, BOB, CAROL, cardAction, post } from '../helpers/teams';

/** Key Vault Crypto Service Encryption User. */
const CSEU = BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser;

const ALEX = { id: 'U0ALEX', name: 'alex' };
const RILEY = { id: 'U0RILEY', name: 'riley' };
let h: SlackHarness;

beforeAll(async () => {
  // Grants of access to key material take two approvers; everything else one.
  const policy = parsePolicy(
    `version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n  - name: grants\n    match: { targets: ["grant-key-access"] }\n    requesters: ["*"]\n    approvers: ["*"]\n    approvalsRequired: 2\n    irreversibleExtraApprovals: 0\n`,
    'inline',
  );
  // A chat request held by a test counts for as long as the test holds it.
  h = await startSlackBot(policy, [ALEX, RILEY], 'C0FIX', { chatRequestCountsForMs: 60_000 });
});
afterAll(() => h?.close());

type Action = { type: string; verb?: string; title?: string; data?: Record<string, unknown> };
function fixActions(card: unknown): Action[] {
  const out: Action[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (o.type === 'Action.Execute' && o.verb === 'request.fix') out.push(o as Action);
    Object.values(o).forEach(walk);
  };
  walk(card);
  return out;
}

describe('Fix this', () => {
  it('Teams: the blocked request offers the fix, filled in; once the fix is done the request is checked again by itself and goes on, one audit trail linking both', async () => {
    const account = simStorageId(SIM_STORAGE_NO_CMK);
    const blocked = await submitForm(h.bot, chaosExperimentForm(`exp-fix-${Math.random().toString(36).slice(2, 6)}`, { storageAccountId: account }));
    expect(blocked.text).toContain('❌ **storage.cmk-enabled**');
    const [fix] = fixActions(blocked.card);
    expect(fix?.title).toBe('Fix this (new storage-cmk)');
    expect(fix?.data).toEqual({ command: 'storage-cmk', values: { storageAccountId: account }, blockedBy: blocked.requestId, from: '' });

    // Pressed: the storage-cmk form, with the account filled in and what it unblocks.
    const form = await post(h.bot.app.url, cardAction(h.bot.connector.url, ALICE, 'request.fix', fix!.data!, blocked.formMsg));
    const formText = cardText(form.body?.value as never);
    expect(formText).toContain('Switch a storage account to a customer-managed key');
    expect(formText).toContain(`This fixes what ${blocked.requestId} needs`);
    const inputs = ((form.body?.value as { body: Array<{ id?: string; value?: string }> }).body ?? []).filter((b) => b.id);
    expect(inputs.find((i) => i.id === 'storageAccountId')?.value).toBe(account);

    // The form carries what it unblocks; the fix is a request like any other: checked, approved, written, verified.
    const carried = ((form.body?.value as { actions: Array<{ verb?: string; data?: Record<string, string> }> }).actions ?? []).find((a) => a.verb === 'form.submit')?.data;
    expect(carried?.unblocks).toBe(blocked.requestId);
    // Drawn again (Reload pickers), the form still says and carries what it unblocks.
    const reloaded = await post(h.bot.app.url, cardAction(h.bot.connector.url, ALICE, 'form.reload', { ...carried!, storageAccountId: account }, blocked.formMsg));
    expect(cardText(reloaded.body?.value as never)).toContain(`This fixes what ${blocked.requestId} needs`);
    expect(((reloaded.body?.value as { actions: Array<{ verb?: string; data?: Record<string, string> }> }).actions ?? []).find((a) => a.verb === 'form.submit')?.data?.unblocks).toBe(blocked.requestId);
    const fixRequest = await submitForm(h.bot, { ...carried!, targetType: 'storage-cmk', storageAccountId: account, identityId: simIdentityId(SIM_IDENTITY), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: 'latest' });
    // The blocked request says what it waits for.
    await h.bot.connector.waitFor((a) => a.id === blocked.formMsg && a.kind === 'update' && cardText(a.activity).includes(`Blocked: waiting for ${fixRequest.requestId} (the fix)`), 10_000, 'waiting for the fix');
    await post(h.bot.app.url, cardAction(h.bot.connector.url, BOB, 'request.approve', clickData(h.bot.connector, fixRequest.formMsg), fixRequest.formMsg));
    await h.bot.connector.waitFor((a) => a.kind === 'update' && a.id === fixRequest.formMsg && /Switched to the customer-managed key and verified/.test(cardText(a.activity)), 20_000, 'fix done');

    // Nobody asks: the blocked request is checked again by itself, passes, and waits for approval.
    await h.bot.connector.waitFor((a) => a.id === blocked.formMsg && a.kind === 'update' && /Waiting for 1 more approval/.test(cardText(a.activity)) && /✅ \*\*storage\.cmk-enabled\*\*/.test(cardText(a.activity)), 20_000, 'unblocked');
    await h.bot.connector.waitFor((a) => new RegExp(`${fixRequest.requestId} is done and ${blocked.requestId} was checked again: nothing blocks it now`).test(a.activity.text ?? ''), 10_000, 'said in the chat');
    // One audit trail links both.
    const trail = await h.bot.store.auditTrail(blocked.requestId!);
    expect(trail.find((r) => r.event === 'fix_requested')?.data).toMatchObject({ fix: fixRequest.requestId, targetType: 'storage-cmk' });
    expect(trail.find((r) => r.event === 'checked' && r.data.moment === 'after-fix')?.data).toMatchObject({ fix: fixRequest.requestId, blocked: false });
    const fixTrail = await h.bot.store.auditTrail(fixRequest.requestId!);
    expect(fixTrail.find((r) => r.event === 'requested')?.data.unblocks).toBe(blocked.requestId);
  });

  it('Slack: the blocked request message has the fix button; pressed, it opens the fix’s modal filled in', async () => {
    h.bot.sim.reset();
    const form = await h.openForm(ALEX, 'new chaos-experiment');
    const name = `exp-slfix-${Math.random().toString(36).slice(2, 6)}`;
    const ack = await h.submit(ALEX, form, {
      resourceGroup: /^rg-cmk-demo /,
      name,
      location: /\(eastus\)/,
      identityId: new RegExp(`^${SIM_IDENTITY} `),
      storageAccountId: new RegExp(`^${SIM_STORAGE_NO_CMK} `),
      targetResourceId: /^vm-chaos-target /,
    });
    expect(ack.status).toBe(200);
    const posted = await h.slack.waitFor(() => h.slack.messages.find((m) => m.channel === 'C0FIX' && JSON.stringify(m.blocks ?? []).includes(name) && !m.thread_ts), 20_000, 'blocked request');
    expect(JSON.stringify(posted.blocks)).toContain('Fix storage.cmk-enabled (new storage-cmk)');
    const before = h.slack.callsTo('views.update').length;
    expect((await h.press(RILEY, 'C0FIX', posted.ts, 'request.fix.0')).status).toBe(200);
    const update = await h.slack.waitFor(() => h.slack.callsTo('views.update')[before], 15_000, 'fix modal');
    const modal = h.current(String((update.args as { view_id?: string }).view_id));
    expect(JSON.stringify(modal.view.blocks)).toContain('Switch a storage account to a customer-managed key');
    expect(h.block(modal, 'storageAccountId').element?.initial_option?.value).toBe(h.option(modal, 'storageAccountId', new RegExp(`^${SIM_STORAGE_NO_CMK} `)));

    // A button whose value was tampered with (a "request" that is no request id, a value that is no
    // text) is refused whole, as Teams refuses it: the modal says so instead of opening a form.
    const button = (posted.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'request.fix.0')!;
    const fix = JSON.parse(button.value!) as Record<string, unknown>;
    for (const tampered of [
      { ...fix, blockedBy: 'see me' },
      { ...fix, values: { storageAccountId: 42 } },
    ]) {
      button.value = JSON.stringify(tampered);
      const updates = h.slack.callsTo('views.update').length;
      expect((await h.press(RILEY, 'C0FIX', posted.ts, 'request.fix.0')).status).toBe(200);
      const answer = await h.slack.waitFor(() => h.slack.callsTo('views.update')[updates], 10_000, 'the refusal');
      const shown = JSON.stringify(h.current(String((answer.args as { view_id?: string }).view_id)).view.blocks);
      expect(shown).toContain('That fix was not understood');
      expect(shown).not.toContain('Switch a storage account to a customer-managed key');
    }

    // The trigger's 3 s count from the press's arrival, not from its handler: with another request
    // being answered and the press's own delivery claim slow (1 s), the modal opens as soon as the
    // press is acknowledged (its time to open was up), not 0.75 s after the claim.
    button.value = JSON.stringify(fix);
    const other = await h.holdAnotherRequest('slack');
    const store = h.bot.app.store;
    const claim = store.claimDelivery.bind(store);
    store.claimDelivery = async (...args) => {
      await new Promise((r) => setTimeout(r, 1_000));
      return claim(...args);
    };
    try {
      const opens = h.slack.callsTo('views.open').length;
      const pressed = Date.now();
      // Alex this time: Riley's press of this button with this value was taken already (a double click).
      expect((await h.press(ALEX, 'C0FIX', posted.ts, 'request.fix.0')).status).toBe(200);
      const acked = Date.now();
      const open = await h.slack.waitFor(() => h.slack.callsTo('views.open')[opens], 10_000, 'the fix modal');
      expect(open.at - pressed).toBeGreaterThanOrEqual(1_000);
      // Not 0.75 s after the acknowledgement: at once.
      expect(open.at - acked).toBeLessThan(500);
    } finally {
      store.claimDelivery = claim;
      await other.answer();
    }
  });

  it('Teams: blocked by identity.key-permissions → Fix this → a role assignment → two approvals → the exact PUT → the grant visible → the blocked request re-checks and is done, one audit trail linking both', async () => {
    h.bot.sim.reset();
    // The bot may grant roles here (the opt-in remediation role's rights: User Access Administrator at the group).
    h.bot.sim.state.put(
      roleAssignmentResource({
        name: '7a7a7a7a-7a7a-4a7a-8a7a-7a7a7a7a7a7b',
        scope: `/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}`,
        roleGuid: BUILTIN_ROLE_IDS.userAccessAdministrator,
        principalId: SIM_BOT_PRINCIPAL_ID,
        createdOn: new Date(Date.now() - 400 * 86_400_000).toISOString(),
      }),
    );
    const name = `fr-fix-${Math.random().toString(36).slice(2, 6)}`;
    const blocked = await submitForm(h.bot, fluidRelayForm(name, { identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS) }));
    expect(blocked.text).toContain('❌ **identity.key-permissions**');
    const fix = fixActions(blocked.card).find((a) => a.title === 'Fix this (new grant-key-access)')!;
    expect(fix.data).toEqual({ command: 'grant-key-access', values: { identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY) }, blockedBy: blocked.requestId, from: '' });

    // The same button with a "request" that is no request id is refused whole, as in Slack.
    const tampered = await post(h.bot.app.url, cardAction(h.bot.connector.url, ALICE, 'request.fix', { ...fix.data!, blockedBy: 'see me' }, blocked.formMsg));
    expect(JSON.stringify(tampered.body)).toContain('That fix was not understood');
    expect(JSON.stringify(tampered.body)).not.toContain('see me');
    const form = await post(h.bot.app.url, cardAction(h.bot.connector.url, ALICE, 'request.fix', fix.data!, blocked.formMsg));
    const carried = ((form.body?.value as { actions: Array<{ verb?: string; data?: Record<string, string> }> }).actions ?? []).find((a) => a.verb === 'form.submit')!.data!;
    const grant = await submitForm(h.bot, { ...carried, targetType: 'grant-key-access', identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS), keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), scopeLevel: 'key', roleId: CSEU });
    expect(grant.text).toMatch(/Waiting for 2 more approvals/);
    await post(h.bot.app.url, cardAction(h.bot.connector.url, BOB, 'request.approve', clickData(h.bot.connector, grant.formMsg), grant.formMsg));
    await h.bot.connector.waitFor((a) => a.id === grant.formMsg && a.kind === 'update' && /Waiting for 1 more approval/.test(cardText(a.activity)), 10_000, 'one of two');
    await post(h.bot.app.url, cardAction(h.bot.connector.url, CAROL, 'request.approve', clickData(h.bot.connector, grant.formMsg), grant.formMsg));
    await h.bot.connector.waitFor((a) => a.id === grant.formMsg && a.kind === 'update' && /grant\.verify/.test(cardText(a.activity)) && /done|verified/i.test(cardText(a.activity)), 20_000, 'grant done');
    // The exact PUT, and the grant as ARM now lists it.
    const puts = h.bot.sim.writes().filter((w) => w.method === 'PUT' && /roleAssignments/.test(w.path));
    expect(puts).toHaveLength(1);
    expect(puts[0]!.body).toEqual({
      properties: { roleDefinitionId: `/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${CSEU}`, principalId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID, principalType: 'ServicePrincipal' },
    });
    expect(h.bot.sim.state.get(puts[0]!.path)).toBeDefined();

    // The blocked request is checked again by itself, passes, and goes on to approval, write and done.
    const ready = await h.bot.connector.waitFor((a) => a.id === blocked.formMsg && a.kind === 'update' && /Waiting for 1 more approval/.test(cardText(a.activity)), 20_000, 'unblocked');
    expect(cardText(ready.activity)).toContain('✅ **identity.key-permissions**');
    await post(h.bot.app.url, cardAction(h.bot.connector.url, BOB, 'request.approve', clickData(h.bot.connector, blocked.formMsg), blocked.formMsg));
    await h.bot.connector.waitFor((a) => a.id === blocked.formMsg && a.kind === 'update' && /Created and verified/.test(cardText(a.activity)), 20_000, 'done');
    const trail = await h.bot.store.auditTrail(blocked.requestId!);
    expect(trail.map((r) => r.event)).toEqual(expect.arrayContaining(['requested', 'fix_requested', 'checked', 'approved', 'verified']));
    expect(trail.find((r) => r.event === 'fix_requested')!.data.fix).toBe(grant.requestId);
    expect((await h.bot.store.auditTrail(grant.requestId!)).find((r) => r.event === 'requested')!.data.unblocks).toBe(blocked.requestId);
  });
});
