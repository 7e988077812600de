// A service added as one target definition, in this file alone: a user-assigned identity for CMK
// (PUT Microsoft.ManagedIdentity/userAssignedIdentities, the simulator's provider). Nothing outside
// this file knows it; given to the app, it has a `new` command, help, a form in Teams and in Slack,
// checks, approvals, the write and its verification in both channels.
import { z } from 'zod';
import type { ArmResource } from '../../src/azure/port';
import { defineCheck, fail, pass, reading } from '../../src/checks/types';
import { SIM_LOCATION, SIM_RG, SIM_SUBSCRIPTION_ID } from '../../src/simulator';
import { DEFAULT_TARGETS } from '../../src/targets';
import { FIELD, nameField, regionField, resourceGroupField, subscriptionField } from '../../src/targets/fields';
import { scopesOf } from '../../src/targets/scopes';
import type { Target } from '../../src/targets/types';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, clickData, firstCard } from '../helpers/connector';
import { startSlackBot, type SlackHarness } from '../helpers/slack';
import { ALICE, BOB, cardAction, message, post } from '../helpers/teams';

// ---- the target: everything the bot needs to know about this service ----------------------------
const API = '2024-11-30';
const NAME = nameField('Identity name', { pattern: /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/, message: '3-128 letters, digits, hyphens or underscores, starting with a letter or digit' }, 'e.g. id-cmk-orders');
const schema = z.object({ subscriptionId: subscriptionField(), resourceGroup: resourceGroupField(), name: NAME.schema, location: regionField() });
type Params = z.infer<typeof schema>;
const idOf = (p: Params) => `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${p.name}`;
const nameFree = reading({ resource: { apiVersion: API } }, [
  defineCheck({
    id: 'identity.name-free',
    title: 'No identity of that name exists yet',
    needs: ['existing'],
    evaluate: ({ existing }) => (existing ? fail(`${existing.name} exists already.`, 'Choose another name, or use the identity that exists.') : pass('The name is free.')),
  }),
])[0]!;

const identityTarget: Target<Params> = {
  type: 'cmk-identity',
  displayName: 'User-assigned identity for CMK',
  entry: { command: 'cmk-identity', help: 'create a user-assigned identity to read your keys (a form opens)' },
  form: { title: 'CMK identity', heading: 'New user-assigned identity for customer-managed keys', intro: 'Grant it get, wrap and unwrap on your key afterwards.' },
  resourceType: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  apiVersion: API,
  schema,
  fields: [FIELD.subscription, FIELD.resourceGroup, NAME.field, FIELD.region()],
  resourceId: idOf,
  plan: (p) => ({ method: 'PUT', resourceId: idOf(p), apiVersion: API, body: { location: p.location, tags: { purpose: 'cmk' } } }),
  scopes: (p) => scopesOf({ role: 'resource', id: idOf(p) }),
  subject: (p) => ({ resourceId: idOf(p), subscriptionId: p.subscriptionId, location: p.location, keyUrl: '', identityId: '' }),
  reviewSubject: (r: ArmResource) => ({ resourceId: r.id, subscriptionId: r.id.split('/')[2] ?? '', location: r.location ?? '', keyUrl: '', identityId: r.id }),
  checks: [nameFree],
  summary: (p) => [{ title: 'Region', value: p.location }],
  irreversible: () => [],
  verify: (plan, actual) => {
    const principalId = (actual.properties as { principalId?: string } | undefined)?.principalId;
    const ok = !!principalId && actual.location === (plan.body as { location: string }).location;
    return {
      id: 'identity.verify',
      title: 'The identity exists with a principal',
      status: ok ? 'pass' : 'fail',
      finding: ok ? `GET shows principal ${principalId}.` : 'GET shows no principal.',
      evidence: { principalId: principalId ?? null },
    };
  },
  verifyCheckId: 'identity.verify',
  doneMessage: () => 'Created and verified.',
  digestEvidence: () => ({}),
};
// ----------------------------------------------------------------------------------------------------

const targets = DEFAULT_TARGETS.with(identityTarget);
const ALEX = { id: 'U0ALEX', name: 'alex' };
const RILEY = { id: 'U0RILEY', name: 'riley' };
const POLICY = parsePolicy(`version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n`, 'inline');

describe('a target defined in a test, through Teams', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await startBot(POLICY, {}, undefined, { targets });
  });
  afterAll(() => bot?.close());

  it('has help, a form from its fields, checks, an approval, the PUT and its verification', async () => {
    await post(bot.app.url, message(bot.connector.url, ALICE, 'help new'));
    const help = await bot.connector.waitFor((a) => /new cmk-identity/.test(a.activity.text ?? ''), 5000, 'help');
    expect(help.activity.text).toContain('`new cmk-identity` — create a user-assigned identity to read your keys');

    await post(bot.app.url, message(bot.connector.url, ALICE, 'new cmk-identity'));
    const form = await bot.connector.waitFor((a) => /New user-assigned identity for customer-managed keys/.test(cardText(a.activity)), 10000, 'form');
    const ids = ((firstCard(form.activity)!.body ?? []) as Array<{ id?: string }>).map((b) => b.id).filter(Boolean);
    expect(ids).toEqual(['subscriptionId', 'resourceGroup', 'name', 'location']);

    const { requestId, formMsg, text } = await submitForm(bot, { targetType: 'cmk-identity', subscriptionId: SIM_SUBSCRIPTION_ID, resourceGroup: SIM_RG, name: 'id-from-a-test', location: SIM_LOCATION });
    expect(requestId).toBeDefined();
    expect(text).toContain('User-assigned identity for CMK with a customer-managed key');
    expect(text).toContain('✅ **identity.name-free**');
    await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.approve', clickData(bot.connector, formMsg), formMsg));
    await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Created and verified/.test(cardText(a.activity)), 15000, 'done');
    expect(bot.sim.writes().map((w) => [w.method, w.path.split('/').pop(), w.body])).toEqual([['PUT', 'id-from-a-test', { location: SIM_LOCATION, tags: { purpose: 'cmk' } }]]);
  });
});

describe('a target defined in a test, through Slack', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackBot(POLICY, [ALEX, RILEY], 'C0CMKREQ', { targets });
  });
  afterAll(() => h?.close());

  it('has the same form as a modal, and goes from approval to a verified write', async () => {
    const form = await h.openForm(ALEX, 'new cmk-identity');
    // Its own name rule, refused on its field with its own words.
    const bad = await h.submit(ALEX, form, { resourceGroup: new RegExp(`^${SIM_RG} `), name: '-x', location: /\(eastus\)/ });
    expect(bad.json).toEqual({ response_action: 'errors', errors: { name: 'Identity name must be 3-128 letters, digits, hyphens or underscores, starting with a letter or digit' } });
    const ok = await h.submit(ALEX, form, { resourceGroup: new RegExp(`^${SIM_RG} `), name: 'id-from-slack', location: /\(eastus\)/ });
    expect(ok.status).toBe(200);
    const posted = await h.slack.waitFor(() => h.slack.messages.find((m) => JSON.stringify(m.blocks ?? []).includes('id-from-slack') && !m.thread_ts), 15000, 'request message');
    await h.press(RILEY, 'C0CMKREQ', posted.ts, 'request.approve');
    await h.slack.waitFor(() => h.slack.thread('C0CMKREQ', posted.ts).find((m) => /done: User-assigned identity for CMK id-from-slack — Created and verified/.test(m.text ?? '')), 15000, 'done in the thread');
    expect(h.bot.sim.writes().map((w) => w.method)).toEqual(['PUT']);
  });
});
