// A fleet rotation killed (SIGKILL) in the middle of its writes, then started again on the same data
// folder: it resumes where each member stood — a member whose write was sent but not recorded is
// looked up before it is written again — and the simulator, which sees every call, counts exactly
// one PATCH per resource.
import { SIM_KEY, SIM_RBAC_VAULT, simKeyUrl } from '../../src/simulator';
import { childBotRig, type ChildBotRig } from '../helpers/child-bot';
import { cardText, clickData } from '../helpers/connector';
import { seedFleet, submitRotation } from '../helpers/fleet';
import { BOB, cardAction, post } from '../helpers/teams';

let rig: ChildBotRig;
beforeAll(async () => (rig = await childBotRig('cmk-fleet-kill-')));
afterAll(() => rig?.close());

it('killed after 10 of 25 PATCHes have reached Azure: resumes after the restart, one PATCH per resource, done', async () => {
  const { sim, connector } = rig;
  const ids = seedFleet(sim, { servers: 10, sandboxAccounts: 8, labsAccounts: 7 }, 'kl');
  const next = sim.rotateKey(SIM_RBAC_VAULT, SIM_KEY);
  const url = (await rig.start()).url;
  const conv = 'conv-fleet-kill';
  const formMsg = 'form-fleet-kill';
  await submitRotation(url, connector, `rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`, formMsg, { conversation: conv });
  await connector.waitFor((a) => a.id === formMsg && /Waiting for 1 more approval/.test(cardText(a.activity)), 60_000, 'request card');

  // Kill on the tenth PATCH that reaches the simulator (it is applied; the bot never hears the answer).
  const victim = rig.bot!;
  let patches = 0;
  const off = sim.onRequest((r) => {
    if (r.method === 'PATCH' && ++patches === 10) victim.child.kill('SIGKILL');
  });
  await post(url, cardAction(connector.url, BOB, 'request.approve', clickData(connector, formMsg), formMsg, conv));
  await victim.exited;
  off();
  expect(patches).toBeGreaterThanOrEqual(10);
  expect(patches).toBeLessThan(25);

  await rig.start();
  await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /25 resources moved to version .* and verified/.test(cardText(a.activity)), 90_000, 'done after the restart');
  for (const id of ids) expect(sim.requests.filter((r) => r.method === 'PATCH' && r.path.toLowerCase() === id.toLowerCase())).toHaveLength(1);
  await rig.bot!.kill('SIGTERM');
}, 180_000);
