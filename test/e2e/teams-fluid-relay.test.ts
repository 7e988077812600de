// The whole Teams flow over HTTP: a message to /api/messages, the form, a card submission, an
// approval by a second user, the ARM write in the simulator and the verified result — through the
// real Agents SDK CloudAdapter, the real Azure SDK pipeline and embedded PGlite.
import type { App } from '../../src/app';
import {
  SIM_DISABLED_KEY,
  SIM_EC_KEY,
  SIM_IDENTITY,
  SIM_IDENTITY_NO_ACCESS,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_LOCATION,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_SUBSCRIPTION_ID,
  simIdentityId,
  simKeyUrl,
  simVaultId,
  type Simulator,
} from '../../src/simulator';
import type { Store } from '../../src/store/store';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, firstCard, type FakeConnector, clickData } from '../helpers/connector';
import { ALICE, BOB, CAROL, MALLORY, cardAction, message, post } from '../helpers/teams';

const POLICY = parsePolicy(
  `
version: 2
tenants: { teams: ["*"], slack: ["*"] }
groups:
  approvers: ["teams:tenant-1/${BOB.aadObjectId}", "teams:tenant-1/${CAROL.aadObjectId}", "teams:tenant-1/${ALICE.aadObjectId}"]
rules:
  - name: demo
    requesters: ["teams:tenant-1/${ALICE.aadObjectId}"]
    approvers: ["group:approvers"]
    approvalsRequired: 1
`,
  'test-policy',
);

let bot: TestBot;
let sim: Simulator;
let store: Store;
let connector: FakeConnector;
let app: App;

beforeAll(async () => {
  bot = await startBot(POLICY);
  ({ sim, store, connector, app } = bot);
});

afterAll(() => bot?.close());

beforeEach(() => sim.reset());

const formData = (over: Record<string, string> = {}) => ({
  targetType: 'fluid-relay',
  subscriptionId: SIM_SUBSCRIPTION_ID,
  resourceGroup: SIM_RG,
  name: `fr-e2e-${Math.random().toString(36).slice(2, 8)}`,
  location: SIM_LOCATION,
  identityId: simIdentityId(SIM_IDENTITY),
  keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
  keyVersion: SIM_KEY_VERSION_CURRENT,
  storagesku: 'basic',
  ...over,
});

/** Submit the form card as Alice and wait until the card it replaced shows the request. */
async function submit(data: Record<string, string>) {
  const r = await submitForm(bot, data);
  expect(cardText(r.submitResponse.body?.value as never)).toMatch(/Running 23 prerequisite checks/);
  expect(r.requestId).toBeDefined();
  return { formMsg: r.formMsg, requestId: r.requestId!, card: r.card };
}

describe('Teams: Fluid Relay with CMK, end to end', () => {
  it('answers help and unknown commands with usage text, @mention stripped', async () => {
    const r1 = await post(app.url, { ...message(connector.url, ALICE, '<at>cmk-chatops</at> help'), entities: [{ type: 'mention', text: '<at>cmk-chatops</at>', mentioned: { id: '28:cmk-chatops', name: 'cmk-chatops' } }] });
    expect(r1.status).toBe(200);
    const help = await connector.waitFor((a) => /new fluid-relay/.test(a.activity.text ?? ''), 5000, 'help');
    expect(help.activity.text).toMatch(/status <request id>/);
    await post(app.url, message(connector.url, ALICE, 'launch rockets'));
    const usage = await connector.waitFor((a) => /I don't know "launch"/.test(a.activity.text ?? ''), 5000, 'usage');
    // The cause, then where to read on — not the whole help, which would push the cause off screen.
    expect(usage.activity.text).toBe('I don\'t know "launch".\n\nSend `help` for the list of commands.');
  });

  it('creates, approves, writes and verifies a CMK server', async () => {
    // 1. `new fluid-relay` → a form whose pickers come from ARM.
    await post(app.url, message(connector.url, ALICE, 'new fluid-relay'));
    const form = await connector.waitFor((a) => /New Azure Fluid Relay server/.test(cardText(a.activity)), 10000, 'form');
    const formJson = JSON.stringify(firstCard(form.activity));
    expect(formJson).toContain(simIdentityId(SIM_IDENTITY));
    expect(formJson).toContain(simKeyUrl(SIM_RBAC_VAULT, SIM_KEY));
    // No key is chosen yet, so no key's versions are offered (only "latest"): a version always belongs to the chosen key.
    expect(formJson).not.toContain(SIM_KEY_VERSION_CURRENT);
    expect(formJson).toContain('"version":"1.5"');

    // 2. Submission → checks → request card in place of the form.
    const data = formData();
    const { formMsg, requestId, card } = await submit(data);
    const text = cardText(card);
    // Enabling CMK can never be undone: the policy's one approval plus one more.
    expect(text).toMatch(/Waiting for 2 more approvals/);
    expect(text).toMatch(/Prerequisite checks: 19 passed, 3 for information, 1 warning$/m);
    expect(text).toMatch(/⚠️ \*\*key.version-policy\*\* — Pinned to version/);
    expect(text).toMatch(/can never be turned off/);
    expect(text).toMatch(/\[Approve\]/);

    // The approvers are told in the conversation.
    await connector.waitFor((a) => new RegExp(`🔔 ${requestId} needs 2 approvals \\(one more than usual: it can never be undone\\) from: teams:tenant-1/aad-bob-0002`).test(a.activity.text ?? ''), 5000, 'approver notice');

    // 3. The requester cannot approve their own request, even though the policy lists them.
    const self = await post(app.url, cardAction(connector.url, ALICE, 'request.approve', clickData(connector, formMsg), formMsg));
    expect(self.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message' });
    expect(String(self.body?.value)).toMatch(/You requested .* so you cannot approve it/);
    expect((await store.getRequest(requestId))?.state).toBe('pending_approval');

    // 4. Someone outside the policy cannot approve either.
    const outsider = await post(app.url, cardAction(connector.url, MALLORY, 'request.approve', clickData(connector, formMsg), formMsg));
    expect(String(outsider.body?.value)).toMatch(/not an approver/);
    expect(sim.writes()).toHaveLength(0);

    // 5. Bob approves (1 of 2), then Carol → the bot writes, verifies and updates the card in place.
    const bobClick = clickData(connector, formMsg);
    const approve = await post(app.url, cardAction(connector.url, BOB, 'request.approve', bobClick, formMsg));
    expect(approve.body?.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(cardText(approve.body?.value as never)).toMatch(/Waiting for 1 more approval/);
    expect(sim.writes()).toHaveLength(0);
    await post(app.url, cardAction(connector.url, CAROL, 'request.approve', clickData(connector, formMsg), formMsg));
    const done = await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Created and verified/.test(cardText(a.activity)), 15000, 'final card');
    const finalText = cardText(done.activity);
    expect(finalText).toMatch(/This request is done/);
    expect(finalText).toMatch(/✅ \*\*fluidrelay.verify\*\* — GET shows the approved key and identity/);
    // Finished: nothing left to press.
    expect(finalText).not.toMatch(/\[(Approve|Reject|Cancel request|Refresh)\]/);
    await connector.waitFor((a) => /done: Fluid Relay server .* — Created and verified/.test(a.activity.text ?? ''), 5000, 'result post');

    // The exact body ARM received: the reference example's shape (FluidRelayServers_CreateWithCmk.json).
    const writes = sim.writes();
    expect(writes).toHaveLength(1);
    expect(writes[0]!.method).toBe('PUT');
    expect(writes[0]!.path).toBe(`/subscriptions/${SIM_SUBSCRIPTION_ID}/resourceGroups/${SIM_RG}/providers/Microsoft.FluidRelay/fluidRelayServers/${data.name}`);
    expect(writes[0]!.query['api-version']).toBe('2022-06-01');
    expect(writes[0]!.body).toEqual({
      location: SIM_LOCATION,
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } },
      properties: {
        storagesku: 'basic',
        encryption: {
          customerManagedKeyEncryption: {
            keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: simIdentityId(SIM_IDENTITY) },
            keyEncryptionKeyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY, SIM_KEY_VERSION_CURRENT),
          },
        },
      },
    });

    // Every step is in the audit trail, with the write's correlation id; the chain verifies.
    const trail = await store.auditTrail(requestId);
    expect(trail.map((r) => r.event)).toEqual(['requested', 'checked', 'approval_requested', 'decision_refused', 'decision_refused', 'approved', 'approved', 'executing', 'checked', 'arm_call', 'verified']);
    const armCall = trail.find((r) => r.event === 'arm_call')!;
    expect(armCall.data).toMatchObject({ ok: true, status: 200, correlationId: writes[0]!.headers['x-ms-correlation-request-id'] });
    expect(await store.verifyAuditChain()).toMatchObject({ ok: true });

    // The same click again (a Teams redelivery, or a double click) gets the first answer back
    // and is not a second decision.
    const again = await post(app.url, cardAction(connector.url, BOB, 'request.approve', bobClick, formMsg));
    expect(cardText(again.body?.value as never)).toMatch(/Waiting for 1 more approval/);
    // A click from the card as it is now (it carries the digest) is refused: the request is done.
    const { digest } = (await store.getRequest(requestId))!;
    const late = await post(app.url, cardAction(connector.url, BOB, 'request.approve', { requestId, digest }, 'status-card-copy'));
    expect(String(late.body?.value)).toMatch(/is done; it cannot be approved now/);
    await app.queue.drain();
    expect(sim.writes()).toHaveLength(1);

    // `status` shows the same request.
    await post(app.url, message(connector.url, BOB, `status ${requestId.toLowerCase()}`));
    await connector.waitFor((a) => a.kind !== 'update' && cardText(a.activity).includes(`Request: ${requestId}`) && /This request is done/.test(cardText(a.activity)), 5000, 'status card');
  });

  it.each([
    ['an EC key', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_EC_KEY), keyVersion: 'latest' }, 'key.type', /is EC; customer-managed keys need RSA/, /az keyvault key create .* --kty RSA/],
    ['a disabled key', { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_DISABLED_KEY), keyVersion: 'latest' }, 'key.enabled', /is disabled/, /az keyvault key set-attributes .* --enabled true/],
    ['an identity without access', { identityId: simIdentityId(SIM_IDENTITY_NO_ACCESS) }, 'identity.key-permissions', /lacks the read, wrap, unwrap data action/, /az role assignment create .* "Key Vault Crypto Service Encryption User"/],
  ])('%s stops the request at the checks with the remedy shown', async (_name, over, checkId, finding, remedy) => {
    const { requestId, card, formMsg } = await submit(formData(over as Record<string, string>));
    const text = cardText(card);
    expect(text).toMatch(/Blocked: fix the failing checks/);
    expect(text).toContain(`**${checkId}**`);
    expect(text).toMatch(finding);
    expect(text).toMatch(remedy);
    expect(text).not.toMatch(/\[Approve\]/);
    // Even a forged Approve click (with the request's real digest) cannot move it.
    const forced = await post(app.url, cardAction(connector.url, BOB, 'request.approve', { requestId, digest: (await store.getRequest(requestId))!.digest }, formMsg));
    expect(String(forced.body?.value)).toMatch(/blocked by failing checks; it cannot be approved now/);
    expect((await store.getRequest(requestId))?.state).toBe('checked');
    expect(sim.writes()).toHaveLength(0);
  });

  it('a bad form value comes back on the card with the field named, and nothing is stored', async () => {
    const before = (await store.listRequests()).length;
    const formMsg = 'form-bad';
    const res = await post(app.url, cardAction(connector.url, ALICE, 'form.submit', formData({ name: 'x', keyVersion: 'v1' }), formMsg));
    const text = cardText(res.body?.value as never);
    expect(text).toMatch(/Please fix the highlighted fields/);
    expect(text).toMatch(/Server name: Server name must be 3-50 letters/);
    expect(text).toMatch(/Key version: Key version must be "latest" or a 32-character/);
    expect((await store.listRequests()).length).toBe(before);
  });

  it('rejection needs a reason and ends the request', async () => {
    const { formMsg } = await submit(formData());
    const reject = clickData(connector, formMsg, 'request.reject');
    const noReason = await post(app.url, cardAction(connector.url, BOB, 'request.reject', reject, formMsg));
    expect(String(noReason.body?.value)).toMatch(/give a reason/);
    const r = await post(app.url, cardAction(connector.url, BOB, 'request.reject', { ...reject, reason: 'Use the prod vault' }, formMsg));
    expect(cardText(r.body?.value as never)).toMatch(/This request is rejected/);
    await connector.waitFor((a) => /rejected by Bob Approver: Use the prod vault/.test(a.activity.text ?? ''), 5000, 'rejection post');
    expect(sim.writes()).toHaveLength(0);
  });

  it('the Action.Submit fallback (older clients) approves through the same rules and updates the card', async () => {
    const { requestId, formMsg } = await submit(formData());
    const shown = clickData(connector, formMsg);
    const submitApprove = (user: typeof ALICE) => ({ ...message(connector.url, user, ''), text: undefined, replyToId: formMsg, value: { verb: 'request.approve', requestId, digest: shown.digest } });
    await post(app.url, submitApprove(ALICE));
    await connector.waitFor((a) => /You requested .* so you cannot approve it/.test(a.activity.text ?? ''), 5000, 'self-approval refusal');
    await post(app.url, submitApprove(BOB));
    await post(app.url, submitApprove(CAROL));
    await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Created and verified/.test(cardText(a.activity)), 15000, 'final card');
    expect(sim.writes()).toHaveLength(1);
  });

  it('a check that turns from pass to fail between approval and write stops the write, says why, and voids the approvals', async () => {
    const { requestId, formMsg } = await submit(formData({ keyVersion: 'latest' }));
    // After the request was checked, someone disables the key in the vault.
    sim.state.patch(`${simVaultId(SIM_RBAC_VAULT)}/keys/${SIM_KEY}`, { properties: { attributes: { enabled: false } } });
    await post(app.url, cardAction(connector.url, BOB, 'request.approve', clickData(connector, formMsg), formMsg));
    await post(app.url, cardAction(connector.url, CAROL, 'request.approve', clickData(connector, formMsg), formMsg));
    const stopped = await connector.waitFor((a) => /nothing was changed in Azure — checks now fail: key.enabled/.test(a.activity.text ?? ''), 15000, 'stop notice');
    expect(stopped.activity.text).toMatch(/Earlier approvals no longer count/);
    const card = await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Stopped before the write/.test(cardText(a.activity)), 5000, 'failed card');
    expect(cardText(card.activity)).toContain('❌ **key.enabled**');
    expect(sim.writes()).toHaveLength(0);
    const trail = await store.auditTrail(requestId);
    expect(trail.map((r) => r.event).slice(-4)).toEqual(['approved', 'executing', 'checked', 'voided']);
  });
});
