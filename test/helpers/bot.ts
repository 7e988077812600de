// One bot per test file: simulator + PGlite + connector stand-in + the real app on a free port.
import { createApp, type App, type AppOptions } from '../../src/app';
import { loadConfig } from '../../src/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { Store } from '../../src/store/store';
import type { Policy } from '../../src/workflow/policy';
import { cardText, startConnector, type FakeConnector } from './connector';
import { testPglite } from './pglite';
import { ALICE, cardAction, post, type TestUser } from './teams';

export interface TestBot {
  sim: Simulator;
  store: Store;
  connector: FakeConnector;
  app: App;
  close(): Promise<void>;
}

export async function startBot(policy: Policy, env: Record<string, string> = {}, now?: () => Date, tuning: Partial<AppOptions> = {}): Promise<TestBot> {
  const [sim, store, connector] = await Promise.all([startSimulator(), Store.open({ kind: 'pglite', ...testPglite() }, now), startConnector()]);
  const app = await createApp({
    // Tests reset the simulator between cases: pickers are read afresh for every form.
    config: loadConfig({ PORT: '0', LOG_LEVEL: 'silent', FORM_CHOICES_TTL_MS: '0', ...env }),
    simulator: sim,
    store,
    policy,
    now,
    armTuning: { maxRetries: 0, defaultPollMs: 50 },
    ...tuning,
  });
  return {
    sim,
    store,
    connector,
    app,
    async close() {
      await app.close();
      await Promise.all([sim.close(), store.close(), connector.close()]);
    },
  };
}

/** Submit a form as `user` and wait until the form card shows the request. */
export async function submitForm(bot: TestBot, data: Record<string, string>, user: TestUser = ALICE, conversationId = 'conv-general') {
  const formMsg = `form-${Math.random().toString(36).slice(2)}`;
  const res = await post(bot.app.url, cardAction(bot.connector.url, user, 'form.submit', data, formMsg, conversationId));
  if (res.status !== 200) throw new Error(`submit answered ${res.status}`);
  const answer = cardText(res.body?.value as never);
  if (/Please fix the highlighted fields/.test(answer))
    throw new Error(
      `the form was refused:\n${answer
        .split('\n')
        .filter((l) => l.startsWith('•'))
        .join('\n')}`,
    );
  const update = await bot.connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Prerequisite checks:|Request refused|Could not run the checks/.test(cardText(a.activity)), 15000, 'request card');
  const text = cardText(update.activity);
  const requestId = /Request: (CR-[A-Z0-9]{6})/.exec(text)?.[1];
  return { formMsg, requestId, text, card: update.activity, submitResponse: res };
}
