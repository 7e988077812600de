// The watch engine against the simulator through the real SDK gateway: the inventory by Resource
// Graph or, refused, by per-subscription lists; the health scan reading each shared key, vault and
// identity once however many resources depend on it; a key disabled → one urgent alert naming every
// dependent; a scan killed mid-way continues from its cursor.
import { ArmError, type ArmGateway } from '../../src/azure/port';
import { SdkArmGateway, staticTokenCredential } from '../../src/azure/sdk-gateway';
import {
  SIM_CHAOS_CMK,
  SIM_FLUID_CMK,
  SIM_FLUID_STALE,
  SIM_KEY,
  SIM_KEY_VERSION_CURRENT,
  SIM_RBAC_VAULT,
  SIM_STORAGE_BAD_KEY,
  SIM_STORAGE_CMK,
  SIM_SUBSCRIPTION2_ID,
  SIM_SUBSCRIPTION3_ID,
  SIM_SUBSCRIPTION_ID,
  simFluidRelayId,
  simKeyId,
  simKeyUrl,
  simSeededRoleAssignmentId,
  simStorageId,
  startSimulator,
  type Simulator,
} from '../../src/simulator';
import { dependentsOf, diffFindings, groupByKey, INVENTORY_QUERY, inventoryWithSource, judgeResources, notJudgedIn, runScan, scanReads, scanStep, startScan, type ScanCursor } from '../../src/watch';

const SUBS = [SIM_SUBSCRIPTION_ID, SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION3_ID];
const OPTS = { now: new Date(), expiryWarningDays: 30 };

let sim: Simulator;
let arm: SdkArmGateway;
beforeAll(async () => {
  sim = await startSimulator();
  arm = new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries: 0 });
});
beforeEach(() => sim.reset());
afterAll(() => sim.close());

/** The gateway with a Resource Graph of our own making (helper sim15 brings the real one). */
function withResourceGraph(base: ArmGateway, answer: (query: string, subscriptions: string[]) => Promise<Array<Record<string, unknown>>>): ArmGateway {
  return Object.assign(Object.create(base) as ArmGateway, { resourceGraph: answer });
}

/** Resource Graph's answer to INVENTORY_QUERY over the simulator's state: lower-case types, the projected columns. */
function graphRows(subscriptions: string[]): Array<Record<string, unknown>> {
  const subs = new Set(subscriptions.map((s) => s.toLowerCase()));
  return sim.state
    .all()
    .filter((r) => ['microsoft.fluidrelay/fluidrelayservers', 'microsoft.chaos/experiments', 'microsoft.storage/storageaccounts'].includes(r.type.toLowerCase()))
    .filter((r) => subs.has(r.id.split('/')[2]!.toLowerCase()))
    .filter((r) => {
      const p = (r.properties ?? {}) as { encryption?: { keySource?: string; customerManagedKeyEncryption?: { keyEncryptionKeyUrl?: string } }; customerDataStorage?: { storageAccountResourceId?: string } };
      return !!p.encryption?.customerManagedKeyEncryption?.keyEncryptionKeyUrl || !!p.customerDataStorage?.storageAccountResourceId || p.encryption?.keySource?.toLowerCase() === 'microsoft.keyvault';
    })
    .map((r) => ({ id: r.id, name: r.name, type: r.type.toLowerCase(), location: r.location, subscriptionId: r.id.split('/')[2], resourceGroup: r.id.split('/')[4], identity: r.identity, properties: r.properties }));
}

/** More Fluid Relay servers sharing the seeded server's key and identity. */
function cloneServers(n: number, prefix = 'fr-watch'): string[] {
  const template = sim.state.get(simFluidRelayId(SIM_FLUID_CMK))!;
  return Array.from({ length: n }, (_, i) => {
    const name = `${prefix}-${i}`;
    sim.state.put({ ...structuredClone(template), id: simFluidRelayId(name), name });
    return name;
  });
}

/** Resource Graph refuses (403), as it does for an identity without access to it: the inventory lists each subscription. */
const refuseResourceGraph = () =>
  sim.injectFault({
    method: 'POST',
    pathIncludes: '/providers/Microsoft.ResourceGraph/resources',
    status: 403,
    code: 'AuthorizationFailed',
    message: 'The client does not have authorization to perform action Microsoft.ResourceGraph/resources/read',
    times: Infinity,
  });

const requestKeys = () => sim.requests.map((r) => `${r.method} ${r.path.toLowerCase()} ${JSON.stringify(r.query)}`);

// The query's text is pinned where the gateway sends it: test/integration/simulator-resource-graph.test.ts.

describe('inventory', () => {
  it('without Resource Graph, lists each subscription and finds exactly the CMK resources; a Chaos experiment depends on its storage account’s key', async () => {
    refuseResourceGraph();
    const inv = await inventoryWithSource(arm, SUBS);
    expect(inv.via).toBe('list');
    const names = inv.resources.map((r) => r.name).sort();
    expect(names).toEqual(expect.arrayContaining([SIM_FLUID_CMK, SIM_FLUID_STALE, SIM_CHAOS_CMK, SIM_STORAGE_CMK, SIM_STORAGE_BAD_KEY]));
    expect(names).not.toContain('fr-existing-nocmk');
    expect(names).not.toContain('stnocmk');
    expect(names).not.toContain('chaos-existing-nocmk');
    const chaos = inv.resources.find((r) => r.name === SIM_CHAOS_CMK)!;
    const account = inv.resources.find((r) => r.name === SIM_STORAGE_CMK)!;
    expect(chaos.storageAccountId?.toLowerCase()).toBe(simStorageId(SIM_STORAGE_CMK).toLowerCase());
    expect(chaos.keyUrl).toBe(account.keyUrl);
    expect(account.keyUrl).toMatch(new RegExp(`^https://${SIM_RBAC_VAULT}\\.vault\\.azure\\.net/keys/`));
  });

  it('Resource Graph refused (403) → the same inventory through the lists', async () => {
    const listed = (await inventoryWithSource(arm, SUBS)).resources.map((r) => r.id).sort();
    const refused = withResourceGraph(arm, () => Promise.reject(new ArmError('AuthorizationFailed', 'The client does not have authorization to perform action Microsoft.ResourceGraph/resources/read.', 403)));
    const inv = await inventoryWithSource(refused, SUBS);
    expect(inv.via).toBe('list');
    expect(inv.fallbackReason).toContain('AuthorizationFailed');
    expect(inv.resources.map((r) => r.id).sort()).toEqual(listed);
  });

  it('Resource Graph answers → one query for every subscription, no resource lists, and the scan does not read the resources again', async () => {
    const queries: Array<{ query: string; subscriptions: string[] }> = [];
    const graph = withResourceGraph(arm, (query, subscriptions) => {
      queries.push({ query, subscriptions });
      return Promise.resolve(graphRows(subscriptions));
    });
    sim.requests.length = 0;
    const cursor = await runScan(graph, SUBS, OPTS);
    const scanRequests = [...sim.requests];
    expect(cursor.via).toBe('resource-graph');
    expect(queries).toEqual([{ query: INVENTORY_QUERY, subscriptions: SUBS }]);
    expect(scanRequests.length).toBeGreaterThan(0);
    expect(scanRequests.filter((r) => /^resourceType eq '(Microsoft\.FluidRelay|Microsoft\.Chaos|Microsoft\.Storage)/.test(r.query['$filter'] ?? ''))).toEqual([]);
    expect(scanRequests.filter((r) => cursor.resources.some((c) => c.id.toLowerCase() === r.path.toLowerCase()))).toEqual([]);
    const listed = (await inventoryWithSource(arm, SUBS)).resources.map((r) => r.id.toLowerCase()).sort();
    expect(cursor.resources.map((r) => r.id.toLowerCase()).sort()).toEqual(listed);
  });
});

describe('health scan', () => {
  it('judges the seeded tenant: the key pinned to an expired version and the account on an expired key are urgent; healthy resources have no urgent finding', async () => {
    const cursor = await runScan(arm, SUBS, OPTS);
    const urgent = cursor.findings.filter((f) => f.severity === 'urgent').map((f) => [f.resourceName, f.checkId]);
    expect(urgent).toEqual(
      expect.arrayContaining([
        [SIM_FLUID_STALE, 'key.not-expired'],
        [SIM_STORAGE_BAD_KEY, 'key.not-expired'],
      ]),
    );
    expect(urgent.filter(([name]) => [SIM_FLUID_CMK, SIM_CHAOS_CMK, SIM_STORAGE_CMK].includes(name!))).toEqual([]);
    expect(cursor.findings.find((f) => f.resourceName === SIM_FLUID_STALE && f.checkId === 'key.version-behind')).toMatchObject({ severity: 'warning' });
    expect(cursor.unjudged).toEqual([]);
  });

  it('reads each distinct thing once per scan, and the shared reads do not grow with the resources that share a key', async () => {
    const shared = async (extra: number) => {
      sim.reset();
      refuseResourceGraph();
      const names = cloneServers(extra);
      sim.requests.length = 0;
      const cursor = await runScan(arm, SUBS, OPTS);
      const keys = requestKeys();
      expect(keys.length).toBe(new Set(keys).size);
      for (const n of names) expect(cursor.findings.filter((f) => f.resourceName === n && f.severity === 'urgent')).toEqual([]);
      const ownIds = new Set(cursor.resources.map((r) => r.id.toLowerCase()));
      const reads = sim.requests.filter((r) => !ownIds.has(r.path.toLowerCase()) && !/^resourceType eq '(Microsoft\.FluidRelay|Microsoft\.Chaos|Microsoft\.Storage)/.test(r.query['$filter'] ?? ''));
      const keyReads = sim.requests.filter((r) => r.path.toLowerCase() === simKeyId(SIM_RBAC_VAULT, SIM_KEY).toLowerCase());
      return { shared: reads.length, keyReads: keyReads.length, total: sim.requests.length };
    };
    const two = await shared(2);
    const forty = await shared(40);
    expect(forty.keyReads).toBe(1);
    expect(forty.shared).toBe(two.shared);
    // The resources' own reads: one GET each (the list fallback), nothing more.
    expect(forty.total - two.total).toBe(38);
  });

  it('a key disabled → one urgent alert naming every dependent; nothing changed → nothing to say; re-enabled → resolved', async () => {
    const names = cloneServers(5);
    const before = await runScan(arm, SUBS, OPTS);
    sim.state.patch(simKeyId(SIM_RBAC_VAULT, SIM_KEY), { properties: { attributes: { enabled: false } } });
    const disabled = await runScan(arm, SUBS, OPTS);
    const d = diffFindings(before.findings, disabled.findings);
    const alerts = groupByKey([...d.new, ...d.worsened]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'urgent', keyName: SIM_KEY, vaultName: SIM_RBAC_VAULT });
    expect(alerts[0]!.headline).toBe(`key ${SIM_KEY} (vault ${SIM_RBAC_VAULT}) is disabled — ${alerts[0]!.resources.length} resources depend on it`);
    expect(alerts[0]!.resources.map((r) => r.name)).toEqual(expect.arrayContaining([SIM_FLUID_CMK, SIM_CHAOS_CMK, SIM_STORAGE_CMK, ...names]));

    const again = diffFindings(disabled.findings, (await runScan(arm, SUBS, OPTS)).findings);
    expect([again.new, again.worsened, again.resolved]).toEqual([[], [], []]);

    sim.state.patch(simKeyId(SIM_RBAC_VAULT, SIM_KEY), { properties: { attributes: { enabled: true } } });
    const back = diffFindings(disabled.findings, (await runScan(arm, SUBS, OPTS)).findings);
    expect(back.new).toEqual([]);
    expect(groupByKey(back.resolved).map((a) => a.keyName)).toEqual([SIM_KEY]);
  });

  it('the identity’s grant on the vault removed → access lost, urgent, on every resource using the key through it', async () => {
    const before = await runScan(arm, SUBS, OPTS);
    sim.state.delete(simSeededRoleAssignmentId('identityCryptoOnRbacVault'));
    const after = await runScan(arm, SUBS, OPTS);
    const d = diffFindings(before.findings, after.findings);
    expect(new Set(d.new.map((f) => f.checkId))).toEqual(new Set(['identity.key-permissions', 'storage.key-access']));
    expect(d.new.every((f) => f.severity === 'urgent')).toBe(true);
    const alert = groupByKey(d.new).find((a) => a.keyName === SIM_KEY)!;
    expect(alert.headline).toBe(`an identity lost access to key ${SIM_KEY} (vault ${SIM_RBAC_VAULT}) — ${alert.resources.length} resources depend on it`);
    expect(alert.resources.map((r) => r.name)).toEqual(expect.arrayContaining([SIM_FLUID_CMK, SIM_CHAOS_CMK, SIM_STORAGE_CMK]));
    expect(alert.issues[0]!.remedy).toContain('az role assignment create');
  });

  it('a subscription that cannot be listed leaves its previous findings standing', async () => {
    const before = await runScan(arm, SUBS, OPTS);
    expect(before.findings.some((f) => f.resourceName === SIM_FLUID_STALE)).toBe(true);
    refuseResourceGraph();
    sim.injectFault({ pathIncludes: `/subscriptions/${SIM_SUBSCRIPTION_ID}/resources`, status: 403, code: 'AuthorizationFailed', times: 3 });
    const after = await runScan(arm, SUBS, OPTS);
    expect(after.unlisted.map((u) => u.subscriptionId)).toEqual([SIM_SUBSCRIPTION_ID]);
    const d = diffFindings(before.findings, after.findings, { notJudged: notJudgedIn(after) });
    expect(d.resolved).toEqual([]);
  });
});

describe('an event re-scans the dependents', () => {
  it('a new version of a key (KeyNewVersionCreated) → the resources pinned to the old one are behind; those on the versionless URL are not', async () => {
    const { resources } = await inventoryWithSource(arm, SUBS);
    const deps = dependentsOf(resources, { vaultName: SIM_RBAC_VAULT, objectName: SIM_KEY });
    expect(deps.map((r) => r.name).sort()).toEqual(expect.arrayContaining([SIM_FLUID_CMK, SIM_CHAOS_CMK, SIM_STORAGE_CMK]));
    expect((await judgeResources(arm, deps, OPTS)).findings.filter((f) => f.checkId === 'key.version-behind')).toEqual([]);

    // The data plane's rotation (helper sim15 brings sim.rotateKey): a new current version.
    const keyId = simKeyId(SIM_RBAC_VAULT, SIM_KEY);
    const next = '0f0e0d0c0b0a49988776655443322110';
    const current = sim.state.get(`${keyId}/versions/${SIM_KEY_VERSION_CURRENT}`)!;
    const uri = (current.properties as { keyUri: string }).keyUri;
    sim.state.put({ ...structuredClone(current), id: `${keyId}/versions/${next}`, name: next, properties: { ...structuredClone(current.properties), keyUriWithVersion: `${uri}/${next}` } });
    sim.state.patch(keyId, { properties: { keyUriWithVersion: `${uri}/${next}` } });

    const { findings, unjudged } = await judgeResources(arm, deps, OPTS);
    expect(unjudged).toEqual([]);
    const behind = findings.filter((f) => f.checkId === 'key.version-behind');
    expect(behind.map((f) => f.resourceName)).toEqual([SIM_FLUID_CMK]);
    expect(behind[0]!.finding).toContain(next);
    expect(behind[0]!.remedy).toBe(
      `Move it to the newest version: rotate ${simFluidRelayId(SIM_FLUID_CMK)} — or every resource pinned to an old version of this key at once: rotate-key ${simKeyUrl(SIM_RBAC_VAULT, SIM_KEY)} --version ${next}`,
    );
    // The alert's *Fix this*: the fleet rotation, filled in.
    expect(behind[0]!.fix).toEqual({ command: 'rotate-key', values: { keyUrl: simKeyUrl(SIM_RBAC_VAULT, SIM_KEY), keyVersion: next }, label: 'Move every pinned resource to the newest version' });
  });
});

describe('a resumable scan', () => {
  it('killed after a few steps, continues from its stored cursor with the same findings, no duplicates, and nothing inventoried twice', async () => {
    // The list inventory takes several steps (a subscription each): room to be killed in between.
    refuseResourceGraph();
    cloneServers(8);
    const straight = await runScan(arm, SUBS, OPTS);

    const step = { ...OPTS, batchSize: 4, subscriptionsPerStep: 1 };
    let cursor: ScanCursor = startScan(SUBS);
    const first = scanReads(arm);
    for (let i = 0; i < 5; i++) cursor = (await scanStep(arm, cursor, { ...step, reads: first })).cursor;
    expect(cursor.phase).toBe('health');
    expect(cursor.judged).toBeGreaterThan(0);
    expect(cursor.judged).toBeLessThan(cursor.resources.length);

    // The process dies; the job's stored cursor is all the next one has.
    cursor = JSON.parse(JSON.stringify(cursor)) as ScanCursor;
    sim.requests.length = 0;
    const second = scanReads(arm);
    let done = false;
    while (!done) ({ cursor, done } = await scanStep(arm, cursor, { ...step, reads: second }));
    expect(sim.requests.some((r) => /^resourceType eq '(Microsoft\.FluidRelay|Microsoft\.Chaos|Microsoft\.Storage)/.test(r.query['$filter'] ?? ''))).toBe(false);
    const keys = cursor.findings.map((f) => f.key);
    expect(keys.length).toBe(new Set(keys).size);
    expect(keys.sort()).toEqual(straight.findings.map((f) => f.key).sort());
  });
});
