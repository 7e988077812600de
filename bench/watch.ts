// A watchdog scan at scale: 5,000 CMK resources (Fluid Relay servers, storage accounts, Chaos
// experiments) over 50 subscriptions, sharing 40 keys in 10 vaults of one security subscription,
// seeded into the simulator's state directly. The scan runs through the real SDK gateway (its
// pacer keeps ARM's read budget: 250 burst, 25/s) against the simulator with ARM's per-subscription
// throttling on, so a read ARM would refuse is answered 429 and counted. Two inventories:
// - `list`: per-subscription resource lists and a GET of each (the fallback; works on the simulator today);
// - `resource-graph`: one Resource Graph query (paged), answered by the simulator's Resource Graph
//   provider for the rows the bot may read (it holds Reader on every subscription); `list` is
//   the same scan with Resource Graph refused (403), as for an identity without access to it.
// `npm run bench -- watch`
import { SdkArmGateway, staticTokenCredential } from '../src/azure/sdk-gateway';
import {
  BUILTIN_ROLE_IDS,
  roleAssignmentResource,
  SIM_CHAOS_CMK,
  SIM_FLUID_CMK,
  SIM_STORAGE_CMK,
  SIM_SUBSCRIPTION_ID,
  SIM_TENANT_ID,
  SIM_BOT_PRINCIPAL_ID,
  simChaosId,
  simFluidRelayId,
  simStorageId,
  startSimulator,
  type Simulator,
  type SimResource,
} from '../src/simulator';
import { keyResources, vaultResource } from '../src/simulator/providers/keyvault';
import { identityResource } from '../src/simulator/providers/managed-identity';
import { groupByKey, runScan, scanReads, type ScanCursor } from '../src/watch';
import { round } from './lib/stats';

export interface WatchBenchOptions {
  subscriptions: number;
  resourcesPerSubscription: number;
  vaults: number;
  keysPerVault: number;
}

export const WATCH_BENCH: WatchBenchOptions = { subscriptions: 50, resourcesPerSubscription: 100, vaults: 10, keysPerVault: 4 };

export interface WatchRow {
  inventory: 'list' | 'resource-graph';
  resources: number;
  subscriptions: number;
  keys: number;
  wallMs: number;
  armReads: number;
  /** Reads that were not a resource's own (list or GET of the watched resources themselves). */
  sharedReads: number;
  readsPerResource: number;
  distinctReads: number;
  graphCalls: number;
  keyReads: number;
  vaultReads: number;
  identityReads: number;
  roleReads: number;
  vaultLookups: number;
  peakReadsPerSecond: number;
  peakReadsPerSecondOneSubscription: number;
  throttled429: number;
  findings: number;
  urgent: number;
  alerts: number;
  sampleAlert: string;
  withinBudget: string;
}

const guid = (prefix: string, n: number) => `${prefix.padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${String(n).padStart(12, '0')}`;
const subId = (i: number) => guid('5ca1e000', i + 1);
const hex32 = (seed: string) => Buffer.from(seed.padEnd(16, '0').slice(0, 16)).toString('hex');

/** Seeds the tenant; returns the watched subscription ids and the key count. */
export function seedWatchTenant(sim: Simulator, o: WatchBenchOptions = WATCH_BENCH): { subscriptions: string[]; keys: number } {
  const s = sim.state;
  const now = Math.floor(Date.now() / 1000);
  const DAY = 86_400;
  const templates = {
    sub: s.get(`/subscriptions/${SIM_SUBSCRIPTION_ID}`)!,
    fr: s.get(simFluidRelayId(SIM_FLUID_CMK))!,
    st: s.get(simStorageId(SIM_STORAGE_CMK))!,
    chaos: s.get(simChaosId(SIM_CHAOS_CMK))!,
  };
  const put = (r: SimResource) => s.put(structuredClone(r));
  const subs = Array.from({ length: o.subscriptions }, (_, i) => subId(i));
  const security = SIM_SUBSCRIPTION_ID; // the vaults live in the seeded subscription; the resources in the 50 others
  for (const [i, sub] of subs.entries()) {
    put({ ...templates.sub, id: `/subscriptions/${sub}`, name: sub, subscriptionId: sub, displayName: `Watch bench ${i}` });
    // The bot reads every watched subscription (what Resource Graph and the lists need).
    s.put(
      roleAssignmentResource({
        name: guid('b0700000', i + 1),
        scope: `/subscriptions/${sub}`,
        roleGuid: BUILTIN_ROLE_IDS.reader,
        principalId: SIM_BOT_PRINCIPAL_ID,
        principalType: 'ServicePrincipal',
        createdOn: new Date((now - 90 * DAY) * 1000).toISOString(),
      }),
    );
    put({ id: `/subscriptions/${sub}/resourceGroups/rg-app`, name: 'rg-app', type: 'Microsoft.Resources/resourceGroups', location: 'eastus', properties: { provisioningState: 'Succeeded' } });
  }
  const identities = subs.map((sub, i) => {
    const r = identityResource({ name: `id-app-${i}`, resourceGroup: 'rg-app', subscriptionId: sub, location: 'eastus', principalId: guid('a0000000', i + 1), clientId: guid('c0000000', i + 1) });
    s.put(r);
    return r;
  });
  // Half the vaults RBAC (each identity holds Crypto Service Encryption User on the vault), half access policies.
  const keys: Array<{ url: string; current: string; old: string }> = [];
  for (let v = 0; v < o.vaults; v++) {
    const rbac = v % 2 === 0;
    const vault = vaultResource({
      name: `kv-watch-${v}`,
      resourceGroup: 'rg-cmk-demo',
      subscriptionId: security,
      location: 'eastus',
      enableRbacAuthorization: rbac,
      enablePurgeProtection: true,
      accessPolicies: rbac
        ? []
        : identities.map((id) => ({ tenantId: SIM_TENANT_ID, objectId: (id.properties as { principalId: string }).principalId, permissions: { keys: ['get', 'wrapKey', 'unwrapKey'], secrets: [], certificates: [] } })),
      createdAt: new Date((now - 400 * DAY) * 1000).toISOString(),
    });
    s.put(vault);
    if (rbac) {
      for (const [i, id] of identities.entries()) {
        // Identity 8 has lost its grant on the RBAC vaults (its subscription uses vault 8's keys): access lost, urgent.
        if (i === 8) continue;
        s.put(
          roleAssignmentResource({
            name: guid(`e${v}000000`, i + 1),
            scope: vault.id,
            roleGuid: BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser,
            principalId: (id.properties as { principalId: string }).principalId,
            principalType: 'ServicePrincipal',
            createdOn: new Date((now - 30 * DAY) * 1000).toISOString(),
          }),
        );
      }
    }
    for (let k = 0; k < o.keysPerVault; k++) {
      const n = v * o.keysPerVault + k;
      const old = hex32(`old${n}`);
      const current = hex32(`cur${n}`);
      // Key 0 is disabled; key 1 expires in 9 days; the others in two years, with a rotation policy.
      const exp = n === 1 ? now + 9 * DAY + 3600 : now + 730 * DAY;
      for (const r of keyResources({
        vault,
        name: `cmk-${n}`,
        kty: 'RSA',
        keySize: 3072,
        keyOps: ['wrapKey', 'unwrapKey', 'encrypt', 'decrypt'],
        versions: [
          { version: old, created: now - 200 * DAY, exp },
          { version: current, created: now - 20 * DAY, exp, enabled: n !== 0 },
        ],
        rotationPolicy: { lifetimeActions: [{ trigger: { timeAfterCreate: 'P180D' }, action: { type: 'Rotate' } }], attributes: { expiryTime: 'P2Y' } },
      }))
        s.put(r);
      keys.push({ url: `https://kv-watch-${v}.vault.azure.net/keys/cmk-${n}`, current, old });
    }
  }
  // Per subscription: 60 Fluid Relay servers, 30 storage accounts, 10 Chaos experiments (on the subscription's first account);
  // each subscription uses 4 of the 40 keys, and one server in ten is pinned to the key's old version.
  for (const [i, sub] of subs.entries()) {
    const identity = identities[i]!.id;
    const rg = `/subscriptions/${sub}/resourceGroups/rg-app/providers`;
    const keyOf = (j: number) => keys[(i * 4 + (j % 4)) % keys.length]!;
    const nFr = Math.round(o.resourcesPerSubscription * 0.6);
    const nSt = Math.round(o.resourcesPerSubscription * 0.3);
    const nChaos = o.resourcesPerSubscription - nFr - nSt;
    for (let j = 0; j < nFr; j++) {
      const k = keyOf(j);
      const url = j % 10 === 9 ? `${k.url}/${k.old}` : j % 4 === 0 ? `${k.url}/${k.current}` : k.url;
      const fr = structuredClone(templates.fr);
      const props = fr.properties as { encryption: { customerManagedKeyEncryption: { keyEncryptionKeyUrl: string; keyEncryptionKeyIdentity: { userAssignedIdentityResourceId: string } } } };
      props.encryption.customerManagedKeyEncryption.keyEncryptionKeyUrl = url;
      props.encryption.customerManagedKeyEncryption.keyEncryptionKeyIdentity.userAssignedIdentityResourceId = identity;
      s.put({ ...fr, id: `${rg}/Microsoft.FluidRelay/fluidRelayServers/fr-${i}-${j}`, name: `fr-${i}-${j}`, identity: { type: 'UserAssigned', userAssignedIdentities: { [identity]: {} } } });
    }
    const accounts: string[] = [];
    for (let j = 0; j < nSt; j++) {
      const k = keyOf(j);
      const st = structuredClone(templates.st);
      const enc = (st.properties as { encryption: { keyvaultproperties: Record<string, string>; identity: { userAssignedIdentity: string } } }).encryption;
      enc.keyvaultproperties = { keyvaulturi: k.url.replace(/\/keys\/.*$/, '/'), keyname: k.url.split('/').pop()!, keyversion: '' };
      enc.identity = { userAssignedIdentity: identity };
      const id = `${rg}/Microsoft.Storage/storageAccounts/stw${i}x${j}`;
      s.put({ ...st, id, name: `stw${i}x${j}`, identity: { type: 'UserAssigned', userAssignedIdentities: { [identity]: {} } } });
      accounts.push(id);
    }
    for (let j = 0; j < nChaos; j++) {
      const ch = structuredClone(templates.chaos);
      (ch.properties as { customerDataStorage: { storageAccountResourceId: string } }).customerDataStorage.storageAccountResourceId = accounts[0]!;
      s.put({ ...ch, id: `${rg}/Microsoft.Chaos/experiments/exp-${i}-${j}`, name: `exp-${i}-${j}`, identity: { type: 'UserAssigned', userAssignedIdentities: { [identity]: {} } } });
    }
  }
  return { subscriptions: subs, keys: keys.length };
}

function peakPerSecond(ats: number[]): number {
  const per = new Map<number, number>();
  for (const t of ats) per.set(Math.floor(t / 1000), (per.get(Math.floor(t / 1000)) ?? 0) + 1);
  return Math.max(0, ...per.values());
}

/** The most reads any one subscription took in any sliding second (ARM's bucket is per subscription). */
function peakPerSubscription(reqs: Array<{ path: string; at: number }>): number {
  const bySub = new Map<string, number[]>();
  for (const r of reqs) {
    const sub = /^\/subscriptions\/([^/]+)/i.exec(r.path)?.[1]?.toLowerCase() ?? 'tenant';
    bySub.set(sub, [...(bySub.get(sub) ?? []), r.at]);
  }
  let peak = 0;
  for (const ats of bySub.values()) {
    ats.sort((a, b) => a - b);
    let lo = 0;
    for (let hi = 0; hi < ats.length; hi++) {
      while (ats[hi]! - ats[lo]! >= 1000) lo++;
      peak = Math.max(peak, hi - lo + 1);
    }
  }
  return peak;
}

function row(via: WatchRow['inventory'], sim: Simulator, cursor: ScanCursor, wallMs: number, keys: number, graphCalls: number, subscriptions: number): WatchRow {
  const reads = sim.requests.filter((r) => r.method === 'GET');
  const own = new Set(cursor.resources.map((r) => r.id.toLowerCase()));
  const isInventory = (r: (typeof reads)[number]) => own.has(r.path.toLowerCase()) || /^resourceType eq '(Microsoft\.FluidRelay|Microsoft\.Chaos|Microsoft\.Storage)/.test(r.query['$filter'] ?? '');
  const shared = reads.filter((r) => !isInventory(r) && r.status !== 429);
  const p = (re: RegExp) => shared.filter((r) => re.test(r.path)).length;
  const throttled = reads.filter((r) => r.status === 429).length;
  const urgent = cursor.findings.filter((f) => f.severity === 'urgent').length;
  const alerts = groupByKey(cursor.findings);
  return {
    inventory: via,
    resources: cursor.resources.length,
    subscriptions,
    keys,
    wallMs: Math.round(wallMs),
    armReads: reads.length,
    sharedReads: shared.length,
    readsPerResource: round(reads.length / Math.max(1, cursor.resources.length), 3),
    distinctReads: new Set(reads.map((r) => `${r.path.toLowerCase()}?${JSON.stringify(r.query)}`)).size,
    graphCalls,
    keyReads: p(/\/keys\/[^/]+(\/versions\/[^/]+)?$/i),
    vaultReads: p(/\/vaults\/[^/]+$/i),
    identityReads: p(/\/userAssignedIdentities\/[^/]+$/i),
    roleReads: p(/\/providers\/Microsoft\.Authorization\//i),
    vaultLookups: shared.filter((r) => /Microsoft\.KeyVault\/vaults/.test(r.query['$filter'] ?? '') || /^\/subscriptions$/i.test(r.path)).length,
    peakReadsPerSecond: peakPerSecond(reads.map((r) => r.at)),
    peakReadsPerSecondOneSubscription: peakPerSubscription(reads),
    throttled429: throttled,
    findings: cursor.findings.length,
    urgent,
    alerts: alerts.length,
    sampleAlert: alerts[0]?.headline ?? '',
    withinBudget: throttled === 0 ? 'yes' : `NO: ${throttled} reads answered 429`,
  };
}

export async function benchWatch(o: WatchBenchOptions = WATCH_BENCH): Promise<WatchRow[]> {
  // ARM's read budget per subscription; the simulator answers 429 past it, as ARM would.
  const sim = await startSimulator({ throttle: { reads: { burst: 250, perSecond: 25 }, writes: { burst: 200, perSecond: 10 } } });
  const rows: WatchRow[] = [];
  try {
    const { subscriptions, keys } = seedWatchTenant(sim, o);
    for (const via of ['resource-graph', 'list'] as const) {
      // A fresh gateway (its pacer starts full) and a pause for the simulator's buckets to refill.
      await new Promise((r) => setTimeout(r, 11_000));
      const arm = new SdkArmGateway({ endpoint: sim.endpoint, ca: sim.ca, credential: staticTokenCredential() });
      if (via === 'list') sim.injectFault({ method: 'POST', pathIncludes: '/providers/Microsoft.ResourceGraph/resources', status: 403, code: 'AuthorizationFailed', times: Infinity });
      sim.requests.length = 0;
      const t0 = performance.now();
      const cursor = await runScan(arm, subscriptions, { now: new Date(), expiryWarningDays: 30, reads: scanReads(arm) });
      const wall = performance.now() - t0;
      if (cursor.via !== via) throw new Error(`expected the ${via} inventory, got ${cursor.via}`);
      const graphCalls = sim.requests.filter((r) => r.method === 'POST' && /Microsoft\.ResourceGraph\/resources/i.test(r.path)).length;
      rows.push(row(via, sim, cursor, wall, keys, graphCalls, subscriptions.length));
    }
  } finally {
    await sim.close();
  }
  return rows;
}
