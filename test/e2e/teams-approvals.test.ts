// The approval rules through the real HTTP endpoint: each approver counts once, racing approvals
// write once, an approval of a changed request is refused, expiry (fake clock), outsiders,
// conversations the policy does not allow, cancel, per-user card views, list and audit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIM_IDENTITY, SIM_KEY, SIM_LOCATION, SIM_RBAC_VAULT, SIM_RG, SIM_SUBSCRIPTION_ID, simIdentityId, simKeyUrl, simVaultId } from '../../src/simulator';
import { Store } from '../../src/store/store';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText } from '../helpers/connector';
import { ALICE, BOB, CAROL, MALLORY, cardAction, message, post, type TestUser } from '../helpers/teams';
import { runCli } from '../helpers/cli';

const POLICY = parsePolicy(
  `
version: 2
tenants: { teams: ["*"], slack: ["*"] }
groups:
  approvers: ["teams:tenant-1/${BOB.aadObjectId}", "teams:tenant-1/${CAROL.aadObjectId}"]
rules:
  - name: guarded
    match: { resourceGroups: ["${SIM_RG}"] }
    requesters: ["teams:tenant-1/${ALICE.aadObjectId}"]
    approvers: ["group:approvers"]
    approvalsRequired: 1
    irreversibleExtraApprovals: 1
    pendingHours: 24
    conversations: ["teams:conv-cmk", "teams:conv-general"]
`,
  'approvals-policy',
);

let clock = Date.now();
let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(POLICY, {}, () => new Date(clock));
});
afterAll(() => bot?.close());
beforeEach(() => {
  clock = Date.now();
  bot.sim.reset();
});

const data = () => ({
  targetType: 'fluid-relay',
  subscriptionId: SIM_SUBSCRIPTION_ID,
  resourceGroup: SIM_RG,
  name: `fr-appr-${Math.random().toString(36).slice(2, 8)}`,
  location: SIM_LOCATION,
  identityId: simIdentityId(SIM_IDENTITY),
  keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
  keyVersion: 'latest',
  storagesku: 'basic',
});

async function request() {
  const r = await submitForm(bot, data());
  expect(r.text).toMatch(/Waiting for 2 more approvals/);
  const req = (await bot.store.getRequest(r.requestId!))!;
  return { ...r, requestId: r.requestId!, digest: req.digest };
}

const act = (user: TestUser, verb: string, d: Record<string, unknown>, formMsg?: string) => post(bot.app.url, cardAction(bot.connector.url, user, verb, d, formMsg));
/** What the person sees: the text answer, or the card's text (a stale decision gets the current card). */
const says = (r: Awaited<ReturnType<typeof post>>) => (typeof r.body?.value === 'string' ? r.body.value : cardText(r.body?.value as never));

describe('approval rules', () => {
  it('an approver counts once, even clicking twice or approving again from another card', async () => {
    const { requestId, formMsg, digest } = await request();
    const first = await act(BOB, 'request.approve', { requestId, digest }, formMsg);
    // The same button again (a double click, or Teams redelivering under a new activity id): the first answer.
    const again = await act(BOB, 'request.approve', { requestId, digest }, formMsg);
    expect(again.body).toEqual(first.body);
    // Approve on another copy of the card (e.g. the one `status` posts): refused, it counts once.
    const elsewhere = await act(BOB, 'request.approve', { requestId, digest }, 'status-card-copy');
    expect(says(elsewhere)).toMatch(/already decided on .*each approver counts once/);
    const req = await bot.store.getRequest(requestId);
    expect(req?.state).toBe('pending_approval');
    expect(req?.approvals).toHaveLength(1);
    const trail = await bot.store.auditTrail(requestId);
    expect(trail.filter((r) => r.event === 'approved')).toHaveLength(1);
  });

  it('a redelivered Approve (same activity id) is answered once, with the first answer again', async () => {
    const { requestId, formMsg, digest } = await request();
    const activity = cardAction(bot.connector.url, BOB, 'request.approve', { requestId, digest }, formMsg);
    const [first, again] = await Promise.all([post(bot.app.url, activity), post(bot.app.url, activity)]);
    expect(again.body).toEqual(first.body);
    expect(cardText(first.body?.value as never)).toMatch(/Waiting for 1 more approval/);
    const trail = await bot.store.auditTrail(requestId);
    expect(trail.filter((r) => r.event === 'approved')).toHaveLength(1);
    expect(trail.filter((r) => r.event === 'decision_refused')).toHaveLength(0);
  });

  it('two approvers racing, each clicking twice at once: both count once and ARM is written exactly once', async () => {
    const { requestId, formMsg, digest } = await request();
    const clicks = [BOB, CAROL, BOB, CAROL].map((u) => act(u, 'request.approve', { requestId, digest }, formMsg));
    const answers = await Promise.all(clicks);
    // Each person's second click is the same delivery again: it gets that person's first answer.
    expect(answers[2]!.body).toEqual(answers[0]!.body);
    expect(answers[3]!.body).toEqual(answers[1]!.body);
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Created and verified/.test(cardText(a.activity)), 15000, 'final card');
    await bot.app.queue.drain();
    expect(bot.sim.writes().filter((w) => w.method === 'PUT')).toHaveLength(1);
    const trail = await bot.store.auditTrail(requestId);
    expect(trail.filter((r) => r.event === 'approved')).toHaveLength(2);
    expect(trail.filter((r) => r.event === 'executing')).toHaveLength(1);
  });

  it('an approval of a request that changed since the approver saw it is refused, and earlier approvals are void', async () => {
    const { requestId, formMsg, digest } = await request();
    await act(BOB, 'request.approve', { requestId, digest }, formMsg);
    // The key is rotated in the vault: the version the server would use is no longer the one approved.
    const keyId = `${simVaultId(SIM_RBAC_VAULT)}/keys/${SIM_KEY}`;
    const newVersion = 'feedfacefeedfacefeedfacefeedface';
    bot.sim.state.patch(keyId, { properties: { keyUriWithVersion: `https://${SIM_RBAC_VAULT}.vault.azure.net:443/keys/${SIM_KEY}/${newVersion}` } });
    await post(bot.app.url, message(bot.connector.url, ALICE, `check ${requestId}`));
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /no longer counts/.test(cardText(a.activity)), 10000, 'voided approval on the card');
    const changed = (await bot.store.getRequest(requestId))!;
    expect(changed.digest).not.toBe(digest);
    // Carol clicks Approve on the card she saw before the change.
    const stale = await act(CAROL, 'request.approve', { requestId, digest }, formMsg);
    expect(says(stale)).toMatch(/changed after you looked at it/);
    // On the new card both must approve again; Bob's earlier approval does not count.
    const fresh = await act(CAROL, 'request.approve', { requestId, digest: changed.digest }, formMsg);
    expect(cardText(fresh.body?.value as never)).toMatch(/Waiting for 1 more approval/);
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('an approval after expiry is refused, and the request says it expired (fake clock)', async () => {
    const { requestId, formMsg, digest } = await request();
    clock += 25 * 3600_000;
    const late = await act(BOB, 'request.approve', { requestId, digest }, formMsg);
    expect(says(late)).toMatch(/is expired; it cannot be approved now/);
    await bot.connector.waitFor((a) => new RegExp(`${requestId} expired at`).test(a.activity.text ?? ''), 5000, 'expiry notice');
    expect((await bot.store.getRequest(requestId))?.state).toBe('expired');
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('the expiry sweep ends forgotten requests and announces each once', async () => {
    const { requestId } = await request();
    clock += 25 * 3600_000;
    expect(await bot.app.workflow.expireDue()).toBeGreaterThanOrEqual(1);
    expect(await bot.app.workflow.expireDue()).toBe(0);
    await bot.app.queue.drain();
    const notices = bot.connector.log.filter((a) => (a.activity.text ?? '').startsWith(`⌛ ${requestId} expired`));
    expect(notices).toHaveLength(1);
  });

  it('a user outside the policy cannot approve, and a rejection needs nobody else', async () => {
    const { requestId, formMsg, digest } = await request();
    expect(says(await act(MALLORY, 'request.approve', { requestId, digest }, formMsg))).toMatch(/not an approver/);
    const rej = await act(CAROL, 'request.reject', { requestId, digest, reason: 'wrong subscription' }, formMsg);
    expect(cardText(rej.body?.value as never)).toMatch(/This request is rejected/);
    expect(says(await act(BOB, 'request.approve', { requestId, digest }, formMsg))).toMatch(/is rejected; it cannot be approved now/);
  });

  it('a request from a conversation the policy does not allow is refused and nothing is stored', async () => {
    const before = (await bot.store.listRequests({ limit: 500 })).length;
    const r = await submitForm(bot, data(), ALICE, 'conv-random');
    expect(r.text).toMatch(/Request refused/);
    expect(r.text).toMatch(/does not allow requests from this conversation \(teams:conv-random\)/);
    expect((await bot.store.listRequests({ limit: 500 })).length).toBe(before);
  });

  it('the requester may cancel before execution; nobody else can', async () => {
    const { requestId, formMsg, digest } = await request();
    expect(says(await act(BOB, 'request.cancel', { requestId }, formMsg))).toMatch(/Only the requester \(Alice Requester\) can cancel/);
    const c = await act(ALICE, 'request.cancel', { requestId }, formMsg);
    expect(cardText(c.body?.value as never)).toMatch(/This request is cancelled/);
    expect(says(await act(BOB, 'request.approve', { requestId, digest }, formMsg))).toMatch(/is cancelled/);
    expect(bot.sim.writes()).toHaveLength(0);
  });

  it('each user gets their own view of the card on refresh', async () => {
    const { requestId, formMsg } = await request();
    const view = async (u: TestUser) => cardText((await act(u, 'request.refresh', { requestId }, formMsg)).body?.value as never);
    const bob = await view(BOB);
    expect(bob).toMatch(/Your approval is requested/);
    expect(bob).toMatch(/\[Approve\]/);
    expect(bob).not.toMatch(/\[Cancel request\]/);
    const alice = await view(ALICE);
    expect(alice).toMatch(/\[Cancel request\]/);
    expect(alice).not.toMatch(/\[Approve\]/);
    const mallory = await view(MALLORY);
    expect(mallory).not.toMatch(/\[Approve\]|\[Cancel request\]/);
    // The shared card asks the requester's client to refresh for its own view.
    const shared = (await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg, 1000)).activity;
    expect(JSON.stringify(shared)).toContain(`"userIds":["${ALICE.id}"]`);
  });

  it('list and audit show where things stand and who did what', async () => {
    const { requestId, formMsg, digest } = await request();
    await act(BOB, 'request.approve', { requestId, digest }, formMsg);
    await post(bot.app.url, message(bot.connector.url, BOB, 'list pending'));
    await bot.connector.waitFor((a) => new RegExp(`${requestId} · Fluid Relay server .* waiting for approval \\(1/2 approvals\\)`).test(a.activity.text ?? ''), 5000, 'list pending');
    await post(bot.app.url, message(bot.connector.url, ALICE, 'list mine'));
    await bot.connector.waitFor((a) => /\*\*Your requests\*\*/.test(a.activity.text ?? '') && (a.activity.text ?? '').includes(requestId), 5000, 'list mine');
    await post(bot.app.url, message(bot.connector.url, CAROL, `audit ${requestId}`));
    const audit = await bot.connector.waitFor((a) => (a.activity.text ?? '').startsWith(`**Audit trail of ${requestId}**`), 5000, 'audit');
    expect(audit.activity.text).toMatch(/requested · Alice Requester/);
    expect(audit.activity.text).toMatch(/checked · bot \(checks\) · submission: 19 passed, 0 warnings, 0 failed, 0 errors · 10 ARM reads/);
    expect(audit.activity.text).toMatch(/approved · Bob Approver · digest [0-9a-f]{12}/);
  });
});

describe('npm run audit:verify', () => {
  it('passes on an intact log and names the row when one was tampered with', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cmk-audit-'));
    try {
      const store = await Store.open({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
      for (const e of ['requested', 'checked', 'approved']) await store.audit({ requestId: 'CR-AAAAAA', event: e, data: { n: e } });
      await store.close();
      const run = () => runCli('src/cli/audit-verify.ts', [], { DATA_DIR: dataDir }).then(({ code, out }) => ({ code, out }));
      expect(await run()).toEqual({ code: 0, out: 'audit log intact: 3 rows, hash chain verified\n' });
      const tamper = await Store.open({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
      await tamper.db.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
      await tamper.db.query(`UPDATE audit_log SET event = 'rejected' WHERE seq = 3`);
      await tamper.close();
      expect(await run()).toEqual({ code: 1, out: 'audit log TAMPERED: row 3: row content does not match its hash (3 rows read)\n' });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
