// Microsoft.Chaos/experiments in the simulator: the examples' shapes, the long-running
// operation sequence, customerDataStorage only on the preview api-versions, and the checks
// Chaos Studio makes of a CMK experiment's identity and storage account.
import { ResourceManagementClient } from '@azure/arm-resources';
import {
  BUILTIN_ROLE_IDS,
  CHAOS_ERROR_CODES,
  SIM_CHAOS_CMK,
  SIM_CHAOS_CONTAINER,
  SIM_CHAOS_EXISTING,
  SIM_IDENTITY,
  SIM_IDENTITY_CLIENT_ID,
  SIM_IDENTITY_INHERITED,
  SIM_IDENTITY_INHERITED_PRINCIPAL_ID,
  SIM_IDENTITY_NO_ACCESS,
  SIM_IDENTITY_NO_ASSIGN,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_RG_LOCKED,
  SIM_STORAGE_BAD_KEY,
  SIM_STORAGE_CMK,
  SIM_STORAGE_NO_BLOB_ROLE,
  SIM_STORAGE_NO_CMK,
  SIM_STORAGE_PRIVATE,
  SIM_SUBSCRIPTION_ID,
  SIM_TENANT_ID,
  roleAssignmentResource,
  simChaosId,
  simChaosVmTargetId,
  simIdentityId,
  simRgId,
  simStorageContainerId,
  simStorageId,
  simVaultId,
  startSimulator,
  type Simulator,
} from '../../src/simulator';
import { call, loadExample, shapeDiff, simCredential, type Json } from '../fixtures/azure-rest/helpers';

let sim: Simulator;
let client: ResourceManagementClient;
const PREVIEW = '2023-10-27-preview';
const CREATE = loadExample('Microsoft.Chaos/2023-10-27-preview/CreateUpdateExperiment.json');
const CREATE_2025 = loadExample('Microsoft.Chaos/2025-01-01/Experiments_CreateOrUpdate.json');
const STATUS_2025 = loadExample('Microsoft.Chaos/2025-01-01/OperationStatuses_Get.json');
/** The examples' identity is SystemAssigned; a user-assigned-only identity has no principalId/tenantId of its own. */
const UA_IGNORE = ['identity.principalId', 'identity.tenantId'];
const STATUS_URL = new RegExp(`^https://127\\.0\\.0\\.1:\\d+/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft\\.Chaos/locations/eastus/operationStatuses/[0-9a-f-]{36}\\?api-version=`);

beforeAll(async () => {
  sim = await startSimulator();
  client = new ResourceManagementClient(simCredential, SIM_SUBSCRIPTION_ID, { endpoint: sim.endpoint, tlsOptions: { ca: sim.ca }, retryOptions: { maxRetries: 0 } });
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

interface BodyOptions {
  /** User-assigned identities by name (default [id-fluid-cmk]); ignored when identityType is not UserAssigned. */
  identities?: string[];
  identityType?: string | null;
  /** customerDataStorage (default: stcmkchaos / a new container); null leaves it out. */
  storage?: string | null;
  container?: string;
  location?: string;
}

/** The 2023-10-27-preview CreateUpdateExperiment example's request, rewritten to seeded resources. */
function body(o: BodyOptions = {}): Json {
  const b = structuredClone(CREATE.parameters.experiment);
  b.location = o.location ?? 'eastus';
  const type = o.identityType === undefined ? 'UserAssigned' : o.identityType;
  if (type === null) delete b.identity;
  else b.identity = { type, ...(type.includes('UserAssigned') ? { userAssignedIdentities: Object.fromEntries((o.identities ?? [SIM_IDENTITY]).map((n) => [simIdentityId(n), {}])) } : {}) };
  b.properties.selectors[0].targets[0].id = simChaosVmTargetId();
  if (o.storage === null) delete b.properties.customerDataStorage;
  else b.properties.customerDataStorage = { storageAccountResourceId: simStorageId(o.storage ?? SIM_STORAGE_CMK), blobContainerName: o.container ?? 'azurechaosstudioexperiments' };
  return b;
}

const put = (name: string, b: unknown, apiVersion = PREVIEW, rg = SIM_RG) => call(sim, 'PUT', simChaosId(name, rg), { apiVersion, body: b });
const get = (name: string, apiVersion = PREVIEW) => call(sim, 'GET', simChaosId(name), { apiVersion });
/** GET of an absolute URL the simulator handed out (Azure-AsyncOperation / Location). */
const follow = (url: string) => call(sim, 'GET', url.slice(sim.endpoint.length));

function expectRefused(res: { status: number; body: Json }, code: string): void {
  expect([res.status, res.body?.error?.code]).toEqual([400, code]);
  expect(typeof res.body.error.message).toBe('string');
}

describe('reads and seeds', () => {
  it('answers GET of the seeded CMK experiment with GetExperiment.json’s shape; the GA versions leave customerDataStorage out', async () => {
    const preview = await get(SIM_CHAOS_CMK);
    expect(preview.status).toBe(200);
    expect(shapeDiff(loadExample('Microsoft.Chaos/2023-10-27-preview/GetExperiment.json').responses['200'].body, preview.body, UA_IGNORE)).toEqual([]);
    expect(preview.body).toMatchObject({
      id: simChaosId(SIM_CHAOS_CMK),
      type: 'Microsoft.Chaos/experiments',
      location: 'eastus',
      identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: { principalId: SIM_IDENTITY_PRINCIPAL_ID, clientId: SIM_IDENTITY_CLIENT_ID } } },
      properties: {
        provisioningState: 'Succeeded',
        customerDataStorage: { storageAccountResourceId: simStorageId(SIM_STORAGE_CMK), blobContainerName: SIM_CHAOS_CONTAINER },
        selectors: [{ type: 'List', id: 'selector1', targets: [{ type: 'ChaosTarget', id: simChaosVmTargetId() }] }],
      },
    });
    expect(preview.body.properties.steps[0].branches[0].actions[0]).toMatchObject({ type: 'continuous', name: 'urn:csci:microsoft:virtualMachine:shutdown/1.0', selectorId: 'selector1' });
    expect(sim.state.has(simStorageContainerId(SIM_STORAGE_CMK, SIM_CHAOS_CONTAINER))).toBe(true);

    for (const [v, example] of [
      ['2024-01-01', 'Microsoft.Chaos/2024-01-01/GetExperiment.json'],
      ['2025-01-01', 'Microsoft.Chaos/2025-01-01/Experiments_Get.json'],
    ] as const) {
      const ga = await get(SIM_CHAOS_CMK, v);
      expect(shapeDiff(loadExample(example).responses['200'].body, ga.body, UA_IGNORE)).toEqual([]);
      expect(ga.body.properties.customerDataStorage).toBeUndefined();
    }
    const nocmk = await get(SIM_CHAOS_EXISTING);
    expect(nocmk.body.properties.provisioningState).toBe('Succeeded');
    expect(nocmk.body.properties.customerDataStorage).toBeUndefined();
    expect((await get(SIM_CHAOS_CMK, '2024-03-22-preview')).body.properties.customerDataStorage).toBeDefined();
  });

  it('lists experiments by resource group and subscription (GA lists without customerDataStorage)', async () => {
    const byRg = await call(sim, 'GET', `${simRgId()}/providers/Microsoft.Chaos/experiments`, { apiVersion: PREVIEW });
    expect(byRg.body.value.map((e: Json) => e.name)).toEqual([SIM_CHAOS_EXISTING, SIM_CHAOS_CMK]);
    expect(byRg.body.value[1].properties.customerDataStorage.blobContainerName).toBe(SIM_CHAOS_CONTAINER);
    const bySub = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft.Chaos/experiments`, { apiVersion: '2024-01-01' });
    expect(bySub.body.value).toHaveLength(2);
    expect(bySub.body.value.every((e: Json) => e.properties.customerDataStorage === undefined)).toBe(true);
    const missing = await get('chaos-nope');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'ResourceNotFound']);
    const oldVersion = await get(SIM_CHAOS_CMK, '2023-11-02');
    expect([oldVersion.status, oldVersion.body.error.code]).toEqual([400, 'NoRegisteredProviderFound']);
  });
});

describe('PUT is a long-running operation', () => {
  it('answers 201 Creating with Azure-AsyncOperation and Retry-After, runs Creating → Succeeded over two polls, and creates the container', async () => {
    const res = await put('chaos-new', body());
    expect(res.status).toBe(201);
    expect(res.headers['azure-asyncoperation']).toMatch(STATUS_URL);
    expect(res.headers['azure-asyncoperation']).toMatch(/api-version=2023-10-27-preview$/);
    expect(res.headers['retry-after']).toBe('1');
    expect(shapeDiff(CREATE.responses['201'].body, res.body, UA_IGNORE)).toEqual([]);
    expect(res.body.properties.provisioningState).toBe('Creating');
    expect(res.body.properties.customerDataStorage).toEqual(body().properties.customerDataStorage);
    expect(res.body.systemData).toMatchObject({ createdByType: 'Application', lastModifiedByType: 'Application' });

    expect((await get('chaos-new')).body.properties.provisioningState).toBe('Creating');
    const first = await follow(res.headers['azure-asyncoperation'] as string);
    expect(first.status).toBe(200);
    expect(shapeDiff(STATUS_2025.responses['200'].body, first.body)).toEqual([]);
    expect(first.body).toMatchObject({ status: 'Creating', resourceId: simChaosId('chaos-new') });
    expect(first.body.endTime).toBeUndefined();
    expect(first.headers['retry-after']).toBe('1');
    expect(res.headers['azure-asyncoperation']).toContain(`/operationStatuses/${first.body.name}?`);
    expect((await get('chaos-new')).body.properties.provisioningState).toBe('Creating');
    expect(sim.state.has(simStorageContainerId(SIM_STORAGE_CMK, 'azurechaosstudioexperiments'))).toBe(false);

    const second = await follow(res.headers['azure-asyncoperation'] as string);
    expect(second.body).toMatchObject({ status: 'Succeeded', percentComplete: 100 });
    expect(Date.parse(second.body.endTime)).toBeGreaterThanOrEqual(Date.parse(second.body.startTime));
    expect((await get('chaos-new')).body.properties.provisioningState).toBe('Succeeded');
    // "Name of the Azure Blob Storage container to use or create."
    expect(sim.state.has(simStorageContainerId(SIM_STORAGE_CMK, 'azurechaosstudioexperiments'))).toBe(true);
    // Polling a finished operation keeps answering Succeeded.
    expect((await follow(res.headers['azure-asyncoperation'] as string)).body.status).toBe('Succeeded');
  });

  it('finishes an operation nobody polls once its time has passed (as Azure does): a later GET finds it Succeeded', async () => {
    sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 2 });
    const res = await put('chaos-unpolled', body());
    expect(res.status).toBe(201);
    expect((await get('chaos-unpolled')).body.properties.provisioningState).toBe('Creating');
    await new Promise((r) => setTimeout(r, 250)); // 2 polls × at least 100 ms
    expect((await get('chaos-unpolled')).body.properties.provisioningState).toBe('Succeeded');
    expect((await follow(res.headers['azure-asyncoperation'] as string)).body.status).toBe('Succeeded');
  });

  it('completes through the SDK’s beginCreateOrUpdateByIdAndWait (Azure-AsyncOperation polling, then a GET of the experiment)', async () => {
    const created = await client.resources.beginCreateOrUpdateByIdAndWait(simChaosId('chaos-sdk'), PREVIEW, body());
    expect((created.properties as Json).provisioningState).toBe('Succeeded');
    expect((created.properties as Json).customerDataStorage.storageAccountResourceId).toBe(simStorageId(SIM_STORAGE_CMK));
    // (the SDK sends ids with a leading '/' after the endpoint's: '//subscriptions/…', which ARM tolerates)
    const calls = sim.requests.map((r) => `${r.method} ${r.path.includes('/operationStatuses/') ? 'status' : r.path.replace(/^\/+/, '/')}`);
    expect(calls).toEqual([`PUT ${simChaosId('chaos-sdk')}`, 'GET status', 'GET status', `GET ${simChaosId('chaos-sdk')}`]);
  });

  it('makes the SDK wait Retry-After seconds between polls (it polls twice at once, then waits)', async () => {
    sim.setLro({ pollsToComplete: 3 });
    await client.resources.beginCreateOrUpdateByIdAndWait(simChaosId('chaos-wait'), PREVIEW, body());
    const polls = sim.requests.filter((r) => r.path.includes('/operationStatuses/'));
    expect(polls).toHaveLength(3);
    expect(polls[2]!.at - polls[1]!.at).toBeGreaterThanOrEqual(900);
  });

  it('takes its Retry-After and poll count from the LRO settings (sim.setLro, SimulatorOptions.lro)', async () => {
    expect(sim.lro).toEqual({ retryAfterSeconds: 1, pollsToComplete: 2 });
    sim.setLro({ retryAfterSeconds: 0, pollsToComplete: 3 });
    const res = await put('chaos-slow', body());
    expect(res.headers['retry-after']).toBe('0');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await follow(res.headers['azure-asyncoperation'] as string)).body.status);
    expect(statuses).toEqual(['Creating', 'Creating', 'Succeeded']);

    // 0 polls: finished when the write answers (the 201 still says Creating, as the service's does).
    sim.setLro({ pollsToComplete: 0 });
    const instant = await put('chaos-instant', body({ storage: null }));
    expect([instant.status, instant.body.properties.provisioningState]).toEqual([201, 'Creating']);
    expect((await get('chaos-instant')).body.properties.provisioningState).toBe('Succeeded');
    const sdk = await client.resources.beginCreateOrUpdateByIdAndWait(simChaosId('chaos-instant-sdk'), PREVIEW, body(), { updateIntervalInMs: 0 });
    expect((sdk.properties as Json).provisioningState).toBe('Succeeded');

    sim.reset();
    expect(sim.lro).toEqual({ retryAfterSeconds: 1, pollsToComplete: 2 });
    const other = await startSimulator({ lro: { retryAfterSeconds: 0, pollsToComplete: 1 } });
    try {
      const r = await call(other, 'PUT', simChaosId('chaos-opt'), { apiVersion: PREVIEW, body: body() });
      expect(r.headers['retry-after']).toBe('0');
      expect((await call(other, 'GET', (r.headers['azure-asyncoperation'] as string).slice(other.endpoint.length))).body.status).toBe('Succeeded');
    } finally {
      await other.close();
    }
  });

  it('answers 200 Updating for a PUT that replaces an experiment, also as an operation', async () => {
    const replaced = body({ storage: null });
    replaced.tags = { team: 'sre' };
    const res = await put(SIM_CHAOS_EXISTING, replaced);
    expect(res.status).toBe(200);
    expect(shapeDiff(CREATE.responses['200'].body, res.body, [...UA_IGNORE, 'properties.customerDataStorage'])).toEqual([]);
    expect(res.body.properties.provisioningState).toBe('Updating');
    expect(res.body.tags).toEqual({ team: 'sre' });
    expect(res.headers['azure-asyncoperation']).toMatch(STATUS_URL);
    expect((await follow(res.headers['azure-asyncoperation'] as string)).body.status).toBe('Updating');
    expect((await follow(res.headers['azure-asyncoperation'] as string)).body.status).toBe('Succeeded');
    const after = (await get(SIM_CHAOS_EXISTING)).body;
    expect(after.properties.provisioningState).toBe('Succeeded');
    expect(after.systemData.createdBy).toBe('platform-admin@contoso.example');
  });

  it('answers the 2025-01-01 example (SystemAssigned, no customerDataStorage) with its shape', async () => {
    const b = structuredClone(CREATE_2025.parameters.resource);
    b.location = 'eastus';
    b.properties.selectors[0].targets[0].id = simChaosVmTargetId();
    const res = await put('chaos-2025', b, '2025-01-01');
    expect(res.status).toBe(201);
    expect(shapeDiff(CREATE_2025.responses['201'].body, res.body)).toEqual([]);
    expect(res.body.identity).toMatchObject({ type: 'SystemAssigned', tenantId: SIM_TENANT_ID });
    expect(res.body.identity.principalId).toMatch(/^[0-9a-f-]{36}$/);
    // The combined identity type exists only from 2025-01-01 on.
    const both = { ...b, identity: { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } } };
    expect((await put('chaos-2025-both', both, '2025-01-01')).status).toBe(201);
    expectRefused(await put('chaos-preview-both', { ...body(), identity: both.identity }), 'InvalidRequestContent');
  });

  it('answers the 2024-01-01 examples (create 201 / replace 200, PATCH 202 with identity and tags) with their shapes', async () => {
    const create = loadExample('Microsoft.Chaos/2024-01-01/CreateUpdateExperiment.json');
    const b = structuredClone(create.parameters.experiment);
    b.location = 'eastus';
    b.properties.selectors[0].targets[0].id = simChaosVmTargetId();
    const created = await put('chaos-2024', b, '2024-01-01');
    expect(created.status).toBe(201);
    expect(shapeDiff(create.responses['201'].body, created.body)).toEqual([]);
    const replaced = await put('chaos-2024', b, '2024-01-01');
    expect(replaced.status).toBe(200);
    expect(shapeDiff(create.responses['200'].body, replaced.body)).toEqual([]);

    const update = loadExample('Microsoft.Chaos/2024-01-01/UpdateExperiment.json');
    const patchBody = { ...update.parameters.experiment, identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY)]: {} } } };
    const patched = await call(sim, 'PATCH', simChaosId('chaos-2024'), { apiVersion: '2024-01-01', body: patchBody });
    expect(patched.status).toBe(202);
    expect(shapeDiff(update.responses['202'].body, patched.body, UA_IGNORE)).toEqual([]);
    expect(patched.body.tags).toEqual(update.parameters.experiment.tags);
  });

  it('answers the 2025-01-01 update example’s final 200 (identity and tags) through the SDK', async () => {
    const update = loadExample('Microsoft.Chaos/2025-01-01/Experiments_Update.json');
    const patchBody = { ...update.parameters.properties, identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY_INHERITED)]: {} } } };
    const updated = await client.resources.beginUpdateByIdAndWait(simChaosId(SIM_CHAOS_EXISTING), '2025-01-01', patchBody, { updateIntervalInMs: 0 });
    const final = (await get(SIM_CHAOS_EXISTING, '2025-01-01')).body;
    expect(shapeDiff(update.responses['200'].body, final, UA_IGNORE)).toEqual([]);
    expect(updated.tags).toEqual({ key1: 'value1', key2: 'value2' });
    expect(Object.keys(final.identity.userAssignedIdentities)).toEqual([simIdentityId(SIM_IDENTITY_INHERITED)]);
  });

  it('ends Failed with the error of an injected operation failure (and the SDK rejects)', async () => {
    sim.injectOperationFailure({ resourceIdIncludes: 'chaos-fail', code: 'StorageAccessFailed', message: 'Could not write the experiment to the storage account.' });
    const res = await put('chaos-fail', body());
    await follow(res.headers['azure-asyncoperation'] as string);
    const done = await follow(res.headers['azure-asyncoperation'] as string);
    expect(done.body).toMatchObject({ status: 'Failed', error: { code: 'StorageAccessFailed', message: 'Could not write the experiment to the storage account.' } });
    expect((await get('chaos-fail')).body.properties.provisioningState).toBe('Failed');

    sim.injectOperationFailure({ code: 'InternalServerError' });
    await expect(client.resources.beginCreateOrUpdateByIdAndWait(simChaosId('chaos-fail-sdk'), PREVIEW, body(), { updateIntervalInMs: 0 })).rejects.toThrow(
      /long-running operation has failed\. InternalServerError\. The operation failed \(injected failure\)/,
    );
    const unknown = await call(sim, 'GET', `/subscriptions/${SIM_SUBSCRIPTION_ID}/providers/Microsoft.Chaos/locations/eastus/operationStatuses/00000000-0000-4000-8000-000000000000`, {
      apiVersion: PREVIEW,
    });
    expect(unknown.status).toBe(404);
  });
});

describe('customerDataStorage exists only on the preview api-versions', () => {
  it.each(['2024-01-01', '2025-01-01'])('%s refuses a body containing it (InvalidRequestContent), and accepts the same body without it', async (v) => {
    const res = await put('chaos-ga', body(), v);
    expectRefused(res, 'InvalidRequestContent');
    expect(res.body.error.message).toContain("Could not find member 'customerDataStorage' on object of type 'ExperimentProperties'");
    expect(res.body.error.target).toBe('properties.customerDataStorage');
    expect((await get('chaos-ga')).status).toBe(404);
    expect((await put('chaos-ga', body({ storage: null }), v)).status).toBe(201);
  });

  it('accepts it on 2024-03-22-preview; a GA PUT replacing a CMK experiment keeps it', async () => {
    expect((await put('chaos-0322', body(), '2024-03-22-preview')).status).toBe(201);
    const ga = await put(SIM_CHAOS_CMK, body({ storage: null }), '2024-01-01');
    expect(ga.status).toBe(200);
    expect(ga.body.properties.customerDataStorage).toBeUndefined();
    expect((await get(SIM_CHAOS_CMK)).body.properties.customerDataStorage.storageAccountResourceId).toBe(simStorageId(SIM_STORAGE_CMK));
  });
});

describe('PUT validation (400 with ARM’s error body; nothing is created)', () => {
  it.each<[string, BodyOptions, string]>([
    ['a system-assigned identity with customerDataStorage', { identityType: 'SystemAssigned' }, CHAOS_ERROR_CODES.UserAssignedIdentityRequired],
    ['no identity with customerDataStorage', { identityType: null }, CHAOS_ERROR_CODES.UserAssignedIdentityRequired],
    ['a storage account that does not exist', { storage: 'stnowhere' }, CHAOS_ERROR_CODES.StorageAccountNotFound],
    ['a storage account without CMK (stnocmk)', { storage: SIM_STORAGE_NO_CMK }, CHAOS_ERROR_CODES.StorageAccountCmkNotEnabled],
    ['a storage account without public access (stprivate)', { storage: SIM_STORAGE_PRIVATE }, CHAOS_ERROR_CODES.StorageAccountPublicAccessDisabled],
    ['an identity that may not write blobs (stnoblobrole)', { storage: SIM_STORAGE_NO_BLOB_ROLE }, CHAOS_ERROR_CODES.IdentityBlobWriteDenied],
    ['a storage account whose key expired (stbadkey)', { storage: SIM_STORAGE_BAD_KEY }, CHAOS_ERROR_CODES.StorageAccountKeyNotUsable],
    ['an identity that cannot read the key (id-no-access)', { identities: [SIM_IDENTITY_NO_ACCESS] }, CHAOS_ERROR_CODES.IdentityKeyAccessDenied],
    ['an upper-case container name', { container: 'ChaosData' }, CHAOS_ERROR_CODES.InvalidBlobContainerName],
    ['a container name with a double hyphen', { container: 'chaos--data' }, CHAOS_ERROR_CODES.InvalidBlobContainerName],
    ['a two-letter container name', { container: 'cd' }, CHAOS_ERROR_CODES.InvalidBlobContainerName],
    ['a bogus identity type', { identityType: 'Managed' }, 'InvalidRequestContent'],
    ['an unknown user-assigned identity', { identities: ['id-ghost'] }, 'InvalidUserAssignedIdentity'],
    ['UserAssigned without identities', { identities: [] }, 'InvalidUserAssignedIdentity'],
    ['an unavailable region', { location: 'northeurope', storage: null }, 'LocationNotAvailableForResourceType'],
  ])('refuses %s', async (_label, options, code) => {
    const res = await put('chaos-bad', body(options));
    expectRefused(res, code);
    expect((await get('chaos-bad')).status).toBe(404);
    expect(sim.state.all().some((r) => r.type === 'Microsoft.Chaos/locations/operationStatuses')).toBe(false);
  });

  it('explains the failing key check in details[0].code (stbadkey → KeyExpired)', async () => {
    const res = await put('chaos-bad', body({ storage: SIM_STORAGE_BAD_KEY }));
    expect(res.body.error.details[0].code).toBe('KeyExpired');
    expect(res.body.error.target).toBe('properties.customerDataStorage.storageAccountResourceId');
  });

  it('refuses a storage id that is not a storage account', async () => {
    const b = body();
    b.properties.customerDataStorage.storageAccountResourceId = simVaultId(SIM_RBAC_VAULT);
    expectRefused(await put('chaos-bad', b), CHAOS_ERROR_CODES.InvalidStorageAccountResourceId);
  });

  it('accepts roles inherited from the resource group (key and blob), and one UMI that qualifies among several', async () => {
    // id-inherited holds the key role at rg-cmk-demo; give it blob write there too.
    sim.state.put(
      roleAssignmentResource({
        name: '31313131-3131-4131-8131-313131313131',
        scope: simRgId(),
        roleGuid: BUILTIN_ROLE_IDS.storageBlobDataContributor,
        principalId: SIM_IDENTITY_INHERITED_PRINCIPAL_ID,
        createdOn: new Date().toISOString(),
      }),
    );
    expect((await put('chaos-inherited', body({ identities: [SIM_IDENTITY_INHERITED], storage: SIM_STORAGE_NO_BLOB_ROLE }))).status).toBe(201);
    expect((await put('chaos-two', body({ identities: [SIM_IDENTITY_NO_ACCESS, SIM_IDENTITY] }))).status).toBe(201);
  });

  it('refuses adding customerDataStorage to an existing experiment (CMK only at creation)', async () => {
    expectRefused(await put(SIM_CHAOS_EXISTING, body()), CHAOS_ERROR_CODES.CustomerDataStorageOnlyAtCreation);
    expect((await get(SIM_CHAOS_EXISTING)).body.properties.customerDataStorage).toBeUndefined();
  });

  it('checks the experiment schema: steps, branches, actions, selectors', async () => {
    const cases: [string, (b: Json) => void, string][] = [
      ['no steps', (b) => delete b.properties.steps, 'properties.steps'],
      ['empty steps', (b) => (b.properties.steps = []), 'properties.steps'],
      ['a branch without actions', (b) => (b.properties.steps[0].branches[0].actions = []), 'properties.steps[0].branches[0].actions'],
      ['an unknown action type', (b) => (b.properties.steps[0].branches[0].actions[0].type = 'sometimes'), 'properties.steps[0].branches[0].actions[0].type'],
      ['a bad duration', (b) => (b.properties.steps[0].branches[0].actions[0].duration = '10 minutes'), 'properties.steps[0].branches[0].actions[0].duration'],
      ['an undefined selector', (b) => (b.properties.steps[0].branches[0].actions[0].selectorId = 'nope'), 'properties.steps[0].branches[0].actions[0].selectorId'],
      ['no selectors', (b) => delete b.properties.selectors, 'properties.selectors'],
      ['a target that is not a Chaos target', (b) => (b.properties.selectors[0].targets[0].id = simStorageId(SIM_STORAGE_CMK)), 'properties.selectors[0].targets[0].id'],
      ['an unknown property', (b) => (b.properties.schedule = 'daily'), 'properties.schedule'],
      ['no properties', (b) => delete b.properties, 'properties'],
    ];
    for (const [label, mutate, target] of cases) {
      const b = body({ storage: null });
      mutate(b);
      const res = await put('chaos-schema', b);
      expect([label, res.status, res.body.error.code, res.body.error.target]).toEqual([label, 400, 'InvalidRequestContent', target]);
    }
  });

  it('needs the bot’s write right and its assign right on the identity', async () => {
    const locked = await put('chaos-locked', body(), PREVIEW, SIM_RG_LOCKED);
    expect([locked.status, locked.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(locked.body.error.message).toContain('Microsoft.Chaos/experiments/write');
    const noAssign = await put('chaos-noassign', body({ identities: [SIM_IDENTITY_NO_ASSIGN], storage: null }));
    expect([noAssign.status, noAssign.body.error.code]).toEqual([403, 'LinkedAuthorizationFailed']);
  });
});

describe('PATCH (experimentUpdate): identity only (and tags on the GA versions), as a Location-polled operation', () => {
  it('changes the identity: 202 with Location, 202 while running, then 200 with the experiment', async () => {
    const update = loadExample('Microsoft.Chaos/2023-10-27-preview/UpdateExperiment.json');
    const b = { identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY_INHERITED)]: {} } } };
    const res = await call(sim, 'PATCH', simChaosId(SIM_CHAOS_EXISTING), { apiVersion: PREVIEW, body: b });
    expect(res.status).toBe(202);
    expect(shapeDiff(update.responses['202'].body, res.body, [...UA_IGNORE, 'properties.customerDataStorage'])).toEqual([]);
    expect(res.headers['location']).toMatch(/\/providers\/Microsoft\.Chaos\/locations\/eastus\/operationResults\/[0-9a-f-]{36}\?api-version=2023-10-27-preview$/);
    expect(res.headers['azure-asyncoperation']).toMatch(STATUS_URL);
    expect(res.headers['retry-after']).toBe('1');
    const running = await follow(res.headers['location'] as string);
    expect([running.status, running.headers['retry-after']]).toEqual([202, '1']);
    expect((await get(SIM_CHAOS_EXISTING)).body.properties.provisioningState).toBe('Updating');
    const done = await follow(res.headers['location'] as string);
    expect(done.status).toBe(200);
    expect(done.body.properties.provisioningState).toBe('Succeeded');
    expect(Object.keys(done.body.identity.userAssignedIdentities)).toEqual([simIdentityId(SIM_IDENTITY_INHERITED)]);
  });

  it('refuses anything but identity (and tags on GA versions)', async () => {
    const props = await call(sim, 'PATCH', simChaosId(SIM_CHAOS_EXISTING), { apiVersion: PREVIEW, body: { properties: { customerDataStorage: body().properties.customerDataStorage } } });
    expectRefused(props, 'InvalidRequestContent');
    expect(props.body.error.message).toContain("Could not find member 'properties' on object of type 'ExperimentUpdate'");
    expectRefused(await call(sim, 'PATCH', simChaosId(SIM_CHAOS_EXISTING), { apiVersion: PREVIEW, body: { tags: { a: 'b' } } }), 'InvalidRequestContent');
    expectRefused(await call(sim, 'PATCH', simChaosId(SIM_CHAOS_EXISTING), { apiVersion: '2024-01-01', body: { location: 'westus' } }), 'InvalidRequestContent');
    const tags = await call(sim, 'PATCH', simChaosId(SIM_CHAOS_EXISTING), { apiVersion: '2024-01-01', body: { tags: { a: 'b' } } });
    expect(tags.status).toBe(202);
    const missing = await call(sim, 'PATCH', simChaosId('chaos-nope'), { apiVersion: PREVIEW, body: {} });
    expect(missing.status).toBe(404);
  });

  it('re-checks a CMK experiment’s new identity against its storage', async () => {
    const res = await call(sim, 'PATCH', simChaosId(SIM_CHAOS_CMK), {
      apiVersion: PREVIEW,
      body: { identity: { type: 'UserAssigned', userAssignedIdentities: { [simIdentityId(SIM_IDENTITY_NO_ACCESS)]: {} } } },
    });
    expectRefused(res, CHAOS_ERROR_CODES.IdentityKeyAccessDenied);
    expectRefused(await call(sim, 'PATCH', simChaosId(SIM_CHAOS_CMK), { apiVersion: PREVIEW, body: { identity: { type: 'SystemAssigned' } } }), CHAOS_ERROR_CODES.UserAssignedIdentityRequired);
    expect((await get(SIM_CHAOS_CMK)).body.identity.userAssignedIdentities).toHaveProperty([simIdentityId(SIM_IDENTITY)]);
  });

  it('completes through the SDK’s beginUpdateByIdAndWait (2025-01-01, tags, 202 without a body)', async () => {
    const updated = await client.resources.beginUpdateByIdAndWait(simChaosId(SIM_CHAOS_CMK), '2025-01-01', { tags: { owner: 'chatops' } }, { updateIntervalInMs: 0 });
    expect(updated.tags).toEqual({ owner: 'chatops' });
    expect((updated.properties as Json).provisioningState).toBe('Succeeded');
    const patchReq = sim.requests.find((r) => r.method === 'PATCH')!;
    expect(patchReq.status).toBe(202);
    expect((await get(SIM_CHAOS_CMK)).body.properties.customerDataStorage).toBeDefined();
  });

  it('a failed update leaves the experiment as it was, marked Failed; the Location URL answers the error', async () => {
    sim.setLro({ pollsToComplete: 1 });
    sim.injectOperationFailure({ action: 'update', code: 'IdentityUpdateFailed', message: 'The identity could not be updated.', status: 400 });
    const res = await call(sim, 'PATCH', simChaosId(SIM_CHAOS_EXISTING), { apiVersion: '2024-01-01', body: { tags: { a: 'b' } } });
    const result = await follow(res.headers['location'] as string);
    expect([result.status, result.body.error.code]).toEqual([400, 'IdentityUpdateFailed']);
    const after = (await get(SIM_CHAOS_EXISTING)).body;
    expect([after.properties.provisioningState, after.tags]).toEqual(['Failed', {}]);
  });
});

describe('DELETE', () => {
  it('answers 202 with Location, Deleting while running, then the experiment is gone (204 from the Location URL)', async () => {
    const res = await call(sim, 'DELETE', simChaosId(SIM_CHAOS_EXISTING), { apiVersion: PREVIEW });
    expect(res.status).toBe(202);
    expect(res.headers['location']).toContain('/operationResults/');
    expect((await get(SIM_CHAOS_EXISTING)).body.properties.provisioningState).toBe('Deleting');
    expect((await follow(res.headers['azure-asyncoperation'] as string)).body.status).toBe('Deleting');
    expect((await follow(res.headers['location'] as string)).status).toBe(204);
    expect((await get(SIM_CHAOS_EXISTING)).status).toBe(404);
    expect((await call(sim, 'DELETE', simChaosId(SIM_CHAOS_EXISTING), { apiVersion: PREVIEW })).status).toBe(204);
  });

  it('completes through the SDK’s beginDeleteByIdAndWait', async () => {
    await client.resources.beginDeleteByIdAndWait(simChaosId(SIM_CHAOS_CMK), '2025-01-01', { updateIntervalInMs: 0 });
    expect((await get(SIM_CHAOS_CMK)).status).toBe(404);
    // The customer's container stays.
    expect(sim.state.has(simStorageContainerId(SIM_STORAGE_CMK, SIM_CHAOS_CONTAINER))).toBe(true);
  });

  it('a write finishes an unfinished operation on the same experiment first', async () => {
    const created = await put('chaos-quick', body({ storage: null }));
    expect(created.status).toBe(201);
    const del = await call(sim, 'DELETE', simChaosId('chaos-quick'), { apiVersion: PREVIEW });
    expect(del.status).toBe(202);
    expect((await follow(created.headers['azure-asyncoperation'] as string)).body.status).toBe('Succeeded');
  });
});
