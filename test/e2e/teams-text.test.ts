// What Teams shows is safe: a display name or a reason is shown as typed — never as a link, a
// mention or emphasis — bidi and invisible characters are made visible, and the server enforces
// the form's limits (a 50,000-character reason is refused, not posted).
import { parsePolicy } from '../../src/workflow/policy';
import { parseForm } from '../../src/targets/types';
import { findTarget } from '../../src/targets';
import { startBot, submitForm, type TestBot } from '../helpers/bot';
import { cardText, clickData } from '../helpers/connector';
import { chaosExperimentForm, fluidRelayForm } from '../helpers/forms';
import { ALICE, BOB, cardAction, post, type TestUser } from '../helpers/teams';

const POLICY = parsePolicy('version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n', 'inline');
const EVIL: TestUser = { ...BOB, name: 'Bob [Security Team](https://evil.example/login) <at>General</at> **urgent** \u202Eevil' };
const REASON = 'See [the policy](https://evil.example/phish) <!channel> <at>everyone</at> \u202Edrawkcab \u200B';

let bot: TestBot;
beforeAll(async () => {
  bot = await startBot(POLICY);
});
afterAll(async () => {
  await bot?.close();
});

/** No markdown link, no mention tag and no bidi/invisible character survives unescaped. */
function expectSafe(text: string) {
  expect(text).not.toMatch(/(?<!\\)\[[^\]]*(?<!\\)\]\(/); // [text](url)
  expect(text).not.toMatch(/(?<!\\)<at>/);
  expect(text).not.toMatch(/(?<!\\)<!channel>/);
  expect(text).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200B-\u200F\u061C\uFEFF]/);
}

describe('Teams text from users', () => {
  it('a display name and a reason with links, mentions and U+202E are shown as typed, on the card and in the post', async () => {
    const { requestId, formMsg } = await submitForm(bot, fluidRelayForm('text-safe-1'));
    const r = await post(bot.app.url, cardAction(bot.connector.url, EVIL, 'request.reject', { ...clickData(bot.connector, formMsg, 'request.reject'), reason: REASON }, formMsg));
    const card = cardText(r.body?.value as never);
    expect(card).toMatch(/This request is rejected/);
    expectSafe(card);
    expect(card).toContain('\\[Security Team\\](https://evil.example/login)');
    expect(card).toContain('\\<U+202E\\>evil');
    const posted = await bot.connector.waitFor((a) => new RegExp(`${requestId} was rejected`).test(a.activity.text ?? ''), 5000, 'rejection post');
    const text = posted.activity.text ?? '';
    expectSafe(text);
    expect(text).toContain('\\[the policy\\](https://evil.example/phish)');
    expect(text).toContain('\\<!channel\\>');
    expect(text).toContain('\\<U+202E\\>drawkcab');
  });

  it('a 50,000-character reason is refused with the limit named, and nothing is recorded', async () => {
    const { requestId, formMsg } = await submitForm(bot, fluidRelayForm('text-safe-2'));
    const r = await post(bot.app.url, cardAction(bot.connector.url, BOB, 'request.reject', { requestId, reason: 'x'.repeat(50_000) }, formMsg));
    expect(String(r.body?.value)).toMatch(/keep the reason to 500 characters/);
    const req = await bot.store.getRequest(requestId!);
    expect(req?.state).toBe('pending_approval');
    expect(req?.approvals).toHaveLength(0);
  });

  it('names with U+061C or other invisible characters are refused by the form', () => {
    const chaos = findTarget('chaos-experiment')!;
    for (const bad of ['exp\u061Cname', 'exp\uFEFFname', 'exp\u00ADname', 'exp\u2066name']) {
      const parsed = parseForm(chaos, chaosExperimentForm(bad));
      expect(parsed.ok).toBe(false);
    }
    expect(parseForm(chaos, chaosExperimentForm('plain-name')).ok).toBe(true);
  });

  it('a requester’s name is escaped on the request card', async () => {
    const evilRequester: TestUser = { ...ALICE, name: 'Alice [admin](https://evil.example) \u202Eright' };
    const { text } = await submitForm(bot, fluidRelayForm('text-safe-3'), evilRequester);
    expectSafe(text);
    expect(text).toContain('Alice \\[admin\\](https://evil.example) \\<U+202E\\>right');
  });
});
