// The bot process is killed (SIGKILL) at each step of execution in turn — right after the
// approval, during the checks before the write, as the write reaches Azure, while a long-running
// write is polled, and during verification — then started again on the same data folder. Each
// request completes exactly once: the simulator, which sees every call, counts one applied PUT.
import type { RecordedRequest, Simulator } from '../../src/simulator';
import { childBotRig, type ChildBot, type ChildBotRig } from '../helpers/child-bot';
import { cardText, type ConnectorActivity, type FakeConnector, clickData } from '../helpers/connector';
import { chaosExperimentForm, fluidRelayForm } from '../helpers/forms';
import { ALICE, BOB, cardAction, post } from '../helpers/teams';

let rig: ChildBotRig;
let sim: Simulator;
let connector: FakeConnector;
let bot: ChildBot | undefined;

beforeAll(async () => {
  // Long-running writes take a few polls, half a second apart: time to kill the bot mid-way.
  rig = await childBotRig('cmk-kill-', { lro: { retryAfterSeconds: 1, pollsToComplete: 3 } });
  ({ sim, connector } = rig);
});

afterAll(() => rig?.close());

const start = async () => (bot = await rig.start());

const fluid = (name: string) => fluidRelayForm(name);
const chaos = (name: string) => chaosExperimentForm(name);

type KillPoint = { arm: (r: RecordedRequest, name: string, putSeen: boolean) => boolean } | { chat: (a: ConnectorActivity, requestId: string) => boolean };

const STEPS: Array<{ step: string; form: (name: string) => Record<string, string>; done: RegExp; at: KillPoint }> = [
  { step: 'right after the approval is recorded', form: fluid, done: /Created and verified/, at: { chat: (a, id) => new RegExp(`${id} approved by`).test(a.activity.text ?? '') } },
  { step: 'during the checks before the write', form: fluid, done: /Created and verified/, at: { arm: (r, _n, put) => !put && r.method === 'GET' && r.path.includes('/providers/Microsoft.KeyVault/vaults/') } },
  { step: 'as the (synchronous) PUT reaches Azure', form: fluid, done: /Created and verified/, at: { arm: (r, n) => r.method === 'PUT' && r.path.endsWith(`/${n}`) } },
  { step: 'during verification', form: fluid, done: /Created and verified/, at: { arm: (r, n, put) => put && r.method === 'GET' && r.path.endsWith(`/${n}`) } },
  { step: 'as the long-running PUT is accepted, before its operation is stored', form: chaos, done: /Created with customer data storage and verified/, at: { arm: (r, n) => r.method === 'PUT' && r.path.endsWith(`/${n}`) } },
  { step: 'while the long-running PUT is polled', form: chaos, done: /Created with customer data storage and verified/, at: { arm: (r) => r.method === 'GET' && r.path.includes('/operationStatuses/') } },
];

describe('SIGKILL at each step of execution, then restart', () => {
  it.each(STEPS)(
    'killed $step: completes exactly once',
    async ({ form, done, at }) => {
      const name = `kill-${Math.random().toString(36).slice(2, 8)}`;
      const formMsg = `form-${name}`;
      const url = (await start()).url;
      const conv = `conv-${name}`; // its own conversation: its posts do not wait on another step's rate limit
      await post(url, cardAction(connector.url, ALICE, 'form.submit', form(name), formMsg, conv));
      const card = await connector.waitFor((a) => a.id === formMsg && /Waiting for 1 more approval/.test(cardText(a.activity)), 30_000, 'request card');
      const requestId = /Request: (CR-[A-Z0-9]{6})/.exec(cardText(card.activity))![1]!;

      // Arm the kill point, then approve.
      let killed = false;
      let putSeen = false;
      const victim = bot!;
      const kill = () => {
        if (killed) return;
        killed = true;
        victim.child.kill('SIGKILL');
      };
      const offArm = sim.onRequest((r) => {
        if ('arm' in at && at.arm(r, name, putSeen)) kill();
        if (r.method === 'PUT' && r.path.endsWith(`/${name}`)) putSeen = true;
      });
      const chatKill = 'chat' in at ? connector.waitFor((a) => at.chat(a, requestId), 20_000, 'kill point in chat').then(kill) : undefined;
      await post(url, cardAction(connector.url, BOB, 'request.approve', clickData(connector, formMsg), formMsg, conv));
      await chatKill;
      await victim.exited;
      offArm();
      expect(killed).toBe(true);

      // Same data folder: the restarted bot picks the request up by itself.
      await start();
      await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && done.test(cardText(a.activity)), 60_000, 'finished after restart');
      const puts = sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/${name}`));
      expect(puts).toHaveLength(1);
      expect(sim.state.get(puts[0]!.path)).toBeDefined();
      await bot!.kill('SIGTERM');
      expect(sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/${name}`))).toHaveLength(1);
    },
    150_000,
  );
});
