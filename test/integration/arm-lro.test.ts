// Long-running operations followed as the Azure SDK follows them (@azure/core-lro): poll whenever
// Azure-AsyncOperation or Location is present — a 200 too —, honour final-state-via for a PATCH
// that carries both headers, and resume a stored operation from another process.
import { SdkArmGateway, staticTokenCredential } from '../../src/azure/sdk-gateway';
import type { StartedOperation } from '../../src/azure/port';
import { SIM_CHAOS_CMK, SIM_IDENTITY, simChaosId, simIdentityId, startSimulator, type Simulator } from '../../src/simulator';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim?.close());
beforeEach(() => {
  sim.reset();
  sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 2 });
});

const API = '2023-10-27-preview';
const gateway = () => new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries: 2, retryDelayMs: 10, defaultPollMs: 20, pacer: false });
const experiment = simChaosId(SIM_CHAOS_CMK);
const polls = () => sim.requests.filter((r) => r.method === 'GET' && /operationStatuses/i.test(r.path));
const results = () => sim.requests.filter((r) => r.method === 'GET' && /operationResults/i.test(r.path));
const reads = () => sim.requests.filter((r) => r.method === 'GET' && r.path.toLowerCase() === experiment.toLowerCase());

it('a 200 carrying Azure-AsyncOperation is followed to its end, not taken as finished', async () => {
  const current = sim.state.get(experiment)!;
  const body = { location: current.location, identity: current.identity, properties: current.properties };
  const ops: StartedOperation[] = [];
  const res = await gateway().put(experiment, API, body, { onOperation: (op) => void ops.push(op) });
  const put = sim.requests.find((r) => r.method === 'PUT')!;
  expect(put.status).toBe(200);
  expect(ops).toHaveLength(1);
  expect(ops[0]!.url).toMatch(/operationStatuses/i);
  expect(polls().length).toBeGreaterThanOrEqual(1);
  // final-state-via for a PUT: the resource itself, read after the operation succeeded.
  expect(reads().length).toBeGreaterThanOrEqual(1);
  expect(res.operationUrl).toBe(ops[0]!.url);
  expect((res.body as { properties?: { provisioningState?: string } }).properties?.provisioningState).toBe('Succeeded');
});

it('a PATCH with both Azure-AsyncOperation and Location: final-state-via location reads the Location URL for the result', async () => {
  const res = await gateway().patch(experiment, API, { identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } } }, { finalStateVia: 'location' });
  const patch = sim.requests.find((r) => r.method === 'PATCH')!;
  expect(patch.status).toBe(202);
  expect(polls().length).toBeGreaterThanOrEqual(1);
  expect(results()).toHaveLength(1);
  expect(results()[0]!.at).toBeGreaterThanOrEqual(polls().at(-1)!.at);
  expect(res.status).toBe(200);
});

it('the same PATCH with final-state-via azure-async-operation takes the operation’s end as the result: no Location read', async () => {
  await gateway().patch(experiment, API, { identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } } }, { finalStateVia: 'azure-async-operation' });
  expect(polls().length).toBeGreaterThanOrEqual(1);
  expect(results()).toHaveLength(0);
});

it('an operation stored before a restart is resumed by another gateway and followed to its end; nothing is written again', async () => {
  sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 3 });
  const current = sim.state.get(experiment)!;
  let stored: StartedOperation | undefined;
  const first = gateway();
  // The first process stores the operation, then dies before polling.
  await first
    .put(
      experiment,
      API,
      { location: current.location, identity: current.identity, properties: current.properties },
      {
        onOperation: (op) => {
          stored = JSON.parse(JSON.stringify(op)) as StartedOperation;
          throw new Error('killed');
        },
      },
    )
    .catch(() => undefined);
  expect(stored).toBeDefined();
  expect(polls()).toHaveLength(0);
  const res = await gateway().resume(stored!, experiment, API);
  expect(polls().length).toBeGreaterThanOrEqual(1);
  expect(sim.writes()).toHaveLength(1);
  expect((res.body as { properties?: { provisioningState?: string } }).properties?.provisioningState).toBe('Succeeded');
});

it('an operation stored before the poller state was kept (url and kind only) is still resumed', async () => {
  sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 3 });
  const current = sim.state.get(experiment)!;
  let stored: StartedOperation | undefined;
  await gateway()
    .put(
      experiment,
      API,
      { location: current.location, identity: current.identity, properties: current.properties },
      {
        onOperation: (op) => {
          stored = { method: op.method, url: op.url, kind: op.kind, correlationId: op.correlationId };
          throw new Error('killed');
        },
      },
    )
    .catch(() => undefined);
  const res = await gateway().resume(stored!, experiment, API);
  expect(polls().length).toBeGreaterThanOrEqual(1);
  expect(sim.writes()).toHaveLength(1);
  expect((res.body as { properties?: { provisioningState?: string } }).properties?.provisioningState).toBe('Succeeded');
});

it('an operation that ends Failed is an ArmError with Azure’s code and message', async () => {
  sim.injectOperationFailure({ resourceIdIncludes: SIM_CHAOS_CMK, code: 'DeploymentFailed', message: 'The storage account refused the key.' });
  const current = sim.state.get(experiment)!;
  await expect(gateway().put(experiment, API, { location: current.location, identity: current.identity, properties: current.properties })).rejects.toMatchObject({
    code: 'DeploymentFailed',
    message: 'The storage account refused the key.',
  });
});
