// Resource Graph end to end: our gateway (through @azure/arm-resourcegraph's client) against the
// simulator's Microsoft.ResourceGraph provider. The inventory query's text is pinned here: the
// simulator answers its KQL subset and refuses anything else as Resource Graph does.
import { ArmError, isArmError, type ArmCallRecord } from '../../src/azure/port';
import { withReadCache } from '../../src/azure/read-cache';
import { SdkArmGateway, staticTokenCredential } from '../../src/azure/sdk-gateway';
import { INVENTORY_QUERY, SIM_BOT_PRINCIPAL_ID, SIM_RG, SIM_RG_LABS, SIM_SUBSCRIPTION_ID, SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION3_ID, startSimulator, type SimResource, type Simulator } from '../../src/simulator';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
afterEach(() => sim.reset());

const gateway = (maxRetries = 0) => new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential(), maxRetries, retryDelayMs: 10, pacer: false });
const ALL_SUBS = [SIM_SUBSCRIPTION_ID, SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION3_ID];
const graphPosts = () => sim.requests.filter((r) => r.method === 'POST' && r.path.toLowerCase() === '/providers/microsoft.resourcegraph/resources');

type Row = { id: string; name: string; type: string; location: string; subscriptionId: string; resourceGroup: string; identity: unknown; properties: Record<string, unknown> };

/** The inventory worked out from the simulator's state by hand: the oracle the query's answer is held to. */
function cmkResourcesInState(subs: string[]): string[] {
  const at = (r: SimResource, path: string) => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), r.properties);
  return sim.state
    .all()
    .filter((r) => subs.some((s) => r.id.toLowerCase().startsWith(`/subscriptions/${s.toLowerCase()}/`)))
    .filter((r) => {
      const t = r.type.toLowerCase();
      if (t === 'microsoft.fluidrelay/fluidrelayservers') return !!at(r, 'encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl');
      if (t === 'microsoft.chaos/experiments') return !!at(r, 'customerDataStorage.storageAccountResourceId');
      if (t === 'microsoft.storage/storageaccounts') return String(at(r, 'encryption.keySource')).toLowerCase() === 'microsoft.keyvault';
      return false;
    })
    .map((r) => r.id)
    .sort();
}

function cmkStorageAccount(sub: string, name: string, rg = 'rg-extra'): SimResource {
  return {
    id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${name}`,
    name,
    type: 'Microsoft.Storage/storageAccounts',
    location: 'eastus',
    kind: 'StorageV2',
    properties: { encryption: { keySource: 'Microsoft.Keyvault', keyvaultproperties: { keyvaulturi: 'https://kv-cmk-rbac.vault.azure.net/', keyname: 'fluid-cmk' } } },
  };
}

describe('the inventory query', () => {
  it('is this exact text, and the gateway sends it verbatim', async () => {
    expect(INVENTORY_QUERY).toBe(
      [
        'resources',
        "| where type in~ ('microsoft.fluidrelay/fluidrelayservers', 'microsoft.chaos/experiments', 'microsoft.storage/storageaccounts')",
        "| where isnotempty(properties.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl) or isnotempty(properties.customerDataStorage.storageAccountResourceId) or properties.encryption.keySource =~ 'Microsoft.Keyvault'",
        '| project id, name, type, location, subscriptionId, resourceGroup, identity, properties',
      ].join('\n'),
    );
    await gateway().resourceGraph(INVENTORY_QUERY, ALL_SUBS);
    const [post] = graphPosts();
    expect(post?.query['api-version']).toBe('2021-03-01');
    expect(post?.body).toEqual({ subscriptions: ALL_SUBS, query: INVENTORY_QUERY, options: { $top: 1000, resultFormat: 'objectArray' } });
  });

  it('finds every Fluid Relay server, Chaos experiment and storage account on a customer-managed key, with the projected columns', async () => {
    const rows = await gateway().resourceGraph<Row>(INVENTORY_QUERY, ALL_SUBS);
    const expected = cmkResourcesInState(ALL_SUBS);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(rows.map((r) => r.id).sort()).toEqual(expected);
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['microsoft.fluidrelay/fluidrelayservers', 'microsoft.chaos/experiments', 'microsoft.storage/storageaccounts']));
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(['id', 'name', 'type', 'location', 'subscriptionId', 'resourceGroup', 'identity', 'properties']);
      const stored = sim.state.get(r.id)!;
      expect(r).toMatchObject({ name: stored.name, location: stored.location, subscriptionId: SIM_SUBSCRIPTION_ID, resourceGroup: r.id.split('/')[4]!.toLowerCase() });
      expect(r.properties).toEqual(stored.properties);
    }
  });

  it('follows the state: a storage account switched to a Key Vault key appears, one switched back to Microsoft-managed keys leaves', async () => {
    const arm = gateway();
    sim.state.put(cmkStorageAccount(SIM_SUBSCRIPTION2_ID, 'stnewcmk'));
    const before = await arm.resourceGraph<Row>(INVENTORY_QUERY, [SIM_SUBSCRIPTION2_ID]);
    expect(before.map((r) => r.name)).toEqual(['stnewcmk']);
    sim.state.patch(before[0]!.id, { properties: { encryption: { keySource: 'Microsoft.Storage' } } });
    expect(await arm.resourceGraph(INVENTORY_QUERY, [SIM_SUBSCRIPTION2_ID])).toEqual([]);
  });

  it('answers only for the subscriptions asked for, and only what the caller can read there', async () => {
    // The bot holds a role in Contoso Labs only on rg-labs.
    sim.state.put(cmkStorageAccount(SIM_SUBSCRIPTION3_ID, 'stlabscmk', SIM_RG_LABS));
    sim.state.put(cmkStorageAccount(SIM_SUBSCRIPTION3_ID, 'stunreadable'));
    expect(cmkResourcesInState([SIM_SUBSCRIPTION3_ID])).toHaveLength(2);
    const rows = await gateway().resourceGraph<Row>(INVENTORY_QUERY, [SIM_SUBSCRIPTION3_ID]);
    expect(rows.map((r) => r.name)).toEqual(['stlabscmk']);
  });

  it('leaves out what the caller cannot read, without refusing the query', async () => {
    for (const a of sim.state.ofType('Microsoft.Authorization/roleAssignments')) {
      if ((a.properties as { principalId: string }).principalId === SIM_BOT_PRINCIPAL_ID) sim.state.delete(a.id);
    }
    expect(await gateway().resourceGraph(INVENTORY_QUERY, ALL_SUBS)).toEqual([]);
  });
});

describe('paging', () => {
  it('reads every page by $skipToken, each recorded as a call, no row twice', async () => {
    for (let i = 0; i < 5; i++) sim.state.put(cmkStorageAccount(SIM_SUBSCRIPTION_ID, `stpage${i}`));
    const calls: ArmCallRecord[] = [];
    const arm = gateway();
    arm.onCall((c) => calls.push(c));
    const rows = await arm.resourceGraph<Row>(INVENTORY_QUERY, ALL_SUBS, { pageSize: 2 });
    const expected = cmkResourcesInState(ALL_SUBS);
    expect(rows.map((r) => r.id).sort()).toEqual(expected);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    const posts = graphPosts();
    expect(posts).toHaveLength(Math.ceil(expected.length / 2));
    const options = posts.map((p) => (p.body as { options: Record<string, unknown> }).options);
    expect(options[0]!['$skipToken']).toBeUndefined();
    for (const o of options.slice(1)) expect(typeof o['$skipToken']).toBe('string');
    expect(options.every((o) => o['$top'] === 2)).toBe(true);
    expect(calls.map((c) => `${c.method} ${c.path} ${c.apiVersion} ${c.status}`)).toEqual(posts.map(() => 'POST /providers/Microsoft.ResourceGraph/resources 2021-03-01 200'));
  });

  it('asks nothing when there is no subscription to ask about', async () => {
    expect(await gateway().resourceGraph(INVENTORY_QUERY, [])).toEqual([]);
    expect(graphPosts()).toHaveLength(0);
  });

  it('refuses a page size Resource Graph would refuse, before calling', async () => {
    await expect(gateway().resourceGraph(INVENTORY_QUERY, ALL_SUBS, { pageSize: 1001 })).rejects.toThrow(RangeError);
    expect(graphPosts()).toHaveLength(0);
  });
});

describe('refusals and failures', () => {
  it('refuses a query outside the subset with Resource Graph error: BadRequest, InvalidQuery, ParserFailure at the token', async () => {
    const e = await gateway(2)
      .resourceGraph('resources | summarize count() by type', ALL_SUBS)
      .catch((x: unknown) => x);
    expect(isArmError(e)).toBe(true);
    const err = e as ArmError;
    expect(err.status).toBe(400);
    expect(err.code).toBe('BadRequest');
    expect(err.correlationId).toBeTruthy();
    expect(err.message).toContain(`correlationId = ${err.correlationId}`);
    expect(err.details?.[0]?.code).toBe('InvalidQuery');
    expect(err.details?.[1]).toMatchObject({ code: 'ParserFailure', line: 1, characterPositionInLine: 12, token: 'summarize' });
    // A refusal is not retried.
    expect(graphPosts()).toHaveLength(1);
  });

  it('refuses a column the table does not have', async () => {
    const err = (await gateway()
      .resourceGraph("resources | where type in~ ('microsoft.storage/storageaccounts') | project id, colour", ALL_SUBS)
      .catch((x: unknown) => x)) as ArmError;
    expect(err.code).toBe('BadRequest');
    expect(err.details?.[1]?.message).toBe("Failed to resolve scalar expression named 'colour'");
  });

  it('retries a query whose answer was lost or failed (it changes nothing)', async () => {
    sim.injectFault({ method: 'POST', pathIncludes: 'Microsoft.ResourceGraph', status: 503 });
    sim.injectFault({ method: 'POST', pathIncludes: 'Microsoft.ResourceGraph', status: 0 });
    const rows = await gateway(3).resourceGraph<Row>(INVENTORY_QUERY, ALL_SUBS);
    expect(rows.map((r) => r.id).sort()).toEqual(cmkResourcesInState(ALL_SUBS));
    expect(graphPosts()).toHaveLength(3);
  });

  it('a 403 is thrown with its code and correlation id', async () => {
    sim.injectFault({ method: 'POST', pathIncludes: 'Microsoft.ResourceGraph', status: 403 });
    const err = (await gateway(3)
      .resourceGraph(INVENTORY_QUERY, ALL_SUBS)
      .catch((x: unknown) => x)) as ArmError;
    expect(err).toBeInstanceOf(ArmError);
    expect([err.status, err.code]).toEqual([403, 'AuthorizationFailed']);
    expect(err.correlationId).toBeTruthy();
  });
});

describe('the read cache', () => {
  it('asks the same query over the same subscriptions once per view', async () => {
    const cached = withReadCache(gateway());
    const a = await cached.resourceGraph(INVENTORY_QUERY, [SIM_SUBSCRIPTION_ID, SIM_SUBSCRIPTION2_ID]);
    const b = await cached.resourceGraph(INVENTORY_QUERY, [SIM_SUBSCRIPTION2_ID, SIM_SUBSCRIPTION_ID]);
    expect(b).toBe(a);
    expect(graphPosts()).toHaveLength(1);
    await cached.resourceGraph(INVENTORY_QUERY, [SIM_SUBSCRIPTION_ID]);
    expect(graphPosts()).toHaveLength(2);
  });
});

it('rows carry the group name lower-cased, as Resource Graph gives it', async () => {
  const rows = await gateway().resourceGraph<Row>(INVENTORY_QUERY, [SIM_SUBSCRIPTION_ID]);
  expect(rows.some((r) => r.resourceGroup === SIM_RG.toLowerCase())).toBe(true);
});
