// The check engine against the simulator through the real SDK gateway: every distinct ARM read is
// made once per run, and a healthy request passes every blocking check. (Timing: bench/checks.)
import { SdkArmGateway, staticTokenCredential } from '../../src/azure/sdk-gateway';
import { runChecks } from '../../src/checks/runner';
import { blocks } from '../../src/domain/types';
import { SIM_IDENTITY, SIM_KEY, SIM_LOCATION, SIM_RBAC_VAULT, SIM_RG, SIM_SUBSCRIPTION_ID, simIdentityId, simKeyUrl, startSimulator, type Simulator } from '../../src/simulator';
import { fluidRelayTarget } from '../../src/targets/fluid-relay.target';

let sim: Simulator;
let arm: SdkArmGateway;
beforeAll(async () => {
  sim = await startSimulator();
  arm = new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries: 0 });
});
afterAll(() => sim.close());

it('a full Fluid Relay run reads each distinct ARM resource exactly once and passes', async () => {
  const params = fluidRelayTarget.schema.parse({
    subscriptionId: SIM_SUBSCRIPTION_ID,
    resourceGroup: SIM_RG,
    name: 'fr-once',
    location: SIM_LOCATION,
    identityId: simIdentityId(SIM_IDENTITY),
    keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY),
  });
  sim.requests.length = 0;
  const results = await runChecks(arm, fluidRelayTarget.subject(params), fluidRelayTarget.checks);
  expect(results.filter(blocks)).toEqual([]);
  const keys = sim.requests.map((r) => `${r.method} ${r.path.toLowerCase()} ${JSON.stringify(r.query)}`);
  expect(keys.length).toBe(new Set(keys).size);
  expect(sim.requests.every((r) => r.method === 'GET')).toBe(true);
});
