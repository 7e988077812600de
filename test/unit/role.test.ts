// deploy/cmk-chatops-role.json against the code: the role grants every ARM call the bot makes
// (recorded by driving each target's prepare → checks → write → verify, the review, the form
// pickers and /readyz through a fake gateway), grants nothing those calls do not need, never
// deletes, never writes role assignments, never touches data, and every action is explained in
// deploy/README.md. Pure: no network, no simulator server.
import { readFileSync } from 'node:fs';
import { absentOn404, ArmError, type ArmCallRecord, type ArmGateway, type ArmResource, type ArmWriteResult, type StartedOperation } from '../../src/azure/port';
import type { CmkSubject } from '../../src/checks/facts';
import { grants } from '../../src/checks/rbac';
import { runChecks } from '../../src/checks/runner';
import { operationResultPath, operationStatusId } from '../../src/simulator/lro';
import { providers } from '../../src/simulator/providers';
import { TARGETS } from '../../src/targets';
import { parseForm, type Target } from '../../src/targets/types';
import { loadFormChoices } from '../../src/workflow/catalog';
import { IDENTITY_ID, PRINCIPAL, SUB, VAULT_ID, VERSION, identity, key, roleAssignment, roleDefinition, vault } from '../fixtures/arm-factories';
import { loadExample } from '../fixtures/azure-rest/helpers';

interface RoleDefinitionFile {
  Name: string;
  IsCustom: boolean;
  Description: string;
  Actions: string[];
  NotActions: string[];
  DataActions: string[];
  NotDataActions: string[];
  AssignableScopes: string[];
}

const role = JSON.parse(readFileSync('deploy/cmk-chatops-role.json', 'utf8')) as RoleDefinitionFile;
const readme = readFileSync('deploy/README.md', 'utf8');
const perms = [{ actions: role.Actions, notActions: role.NotActions, dataActions: role.DataActions, notDataActions: role.NotDataActions }];
const granted = (action: string) => grants(perms, action, 'control');
// The opt-in second role: what the remediation targets write (access to key material).
const remediationRole = JSON.parse(readFileSync('deploy/cmk-chatops-remediation-role.json', 'utf8')) as RoleDefinitionFile;
const remediationPerms = [{ actions: remediationRole.Actions, notActions: remediationRole.NotActions, dataActions: remediationRole.DataActions, notDataActions: remediationRole.NotDataActions }];
const grantedToRemedy = (action: string) => grants(remediationPerms, action, 'control');
/** The targets whose write only the remediation role grants. */
const REMEDIATION = Object.keys(TARGETS).filter((type) => grantedToRemedy(`${TARGETS[type]!.resourceType}/write`));
const ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';

/**
 * The RBAC action ARM authorises for a call: `{namespace}/{type}[/{child type}…]/{read|write|delete}`,
 * the types being every other segment after the last `/providers/{namespace}`; paths without a
 * provider segment (subscriptions, resource groups, locations, resources) are Microsoft.Resources.
 */
function armAction(method: string, path: string): string {
  const segs = path.split('?')[0]!.split('/').filter(Boolean);
  const verb = { GET: 'read', PUT: 'write', PATCH: 'write', DELETE: 'delete' }[method.toUpperCase()] ?? 'action';
  const at = segs.map((s) => s.toLowerCase()).lastIndexOf('providers');
  // Providers_Get (`/subscriptions/{sub}/providers/{namespace}`) reads ARM's own provider registration.
  if (segs.length === 4 && at === 2 && segs[0]!.toLowerCase() === 'subscriptions') return `Microsoft.Resources/subscriptions/providers/${verb}`;
  const types = at >= 0 && at + 1 < segs.length ? [segs[at + 1]!, ...segs.slice(at + 2).filter((_, i) => i % 2 === 0)] : ['Microsoft.Resources', ...segs.filter((_, i) => i % 2 === 0)];
  return `${types.join('/')}/${verb}`;
}

// ---- a world the fact graph can walk all the way down ------------------------------------------

const RG = `/subscriptions/${SUB}/resourceGroups/sample-group`;
const KEY_URL = 'https://sample-vault.vault.azure.net/keys/sample-key-name';
const STORAGE_ID = `${RG}/providers/Microsoft.Storage/storageAccounts/stcmkdata`;
const SERVER_ID = `${RG}/providers/Microsoft.FluidRelay/fluidRelayServers/fr-existing`;
const EXPERIMENT_ID = `${RG}/providers/Microsoft.Chaos/experiments/exp-existing`;
const VM_ID = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;
const ROLE_GUID = 'e147488a-f6f5-4113-8e2d-b22465e65bf6';

const storageAccount = {
  id: STORAGE_ID,
  name: 'stcmkdata',
  location: 'westus',
  identity: { type: 'UserAssigned', userAssignedIdentities: { [IDENTITY_ID]: {} } },
  properties: {
    publicNetworkAccess: 'Enabled',
    networkAcls: { defaultAction: 'Allow' },
    encryption: { keySource: 'Microsoft.Keyvault', keyvaultproperties: { keyname: 'sample-key-name', keyversion: VERSION, keyvaulturi: 'https://sample-vault.vault.azure.net' }, identity: { userAssignedIdentity: IDENTITY_ID } },
  },
};
const server = {
  id: SERVER_ID,
  name: 'fr-existing',
  location: 'westus',
  identity: { type: 'UserAssigned', userAssignedIdentities: { [IDENTITY_ID]: {} } },
  properties: {
    provisioningState: 'Succeeded',
    encryption: { customerManagedKeyEncryption: { keyEncryptionKeyIdentity: { identityType: 'UserAssigned', userAssignedIdentityResourceId: IDENTITY_ID }, keyEncryptionKeyUrl: `${KEY_URL}/${VERSION}` } },
  },
};
const experiment = {
  id: EXPERIMENT_ID,
  name: 'exp-existing',
  location: 'westus',
  identity: { type: 'UserAssigned', userAssignedIdentities: { [IDENTITY_ID]: {} } },
  properties: { provisioningState: 'Succeeded', steps: [], selectors: [], customerDataStorage: { storageAccountResourceId: STORAGE_ID, blobContainerName: 'chaosdata' } },
};

function world(path: string, query?: Record<string, string>, rights: unknown = perms): unknown {
  const p = path.toLowerCase().replace(/\/+$/, '');
  const ends = (s: string) => p.endsWith(s.toLowerCase());
  if (p === '/subscriptions') return [{ subscriptionId: SUB, displayName: 'sample', state: 'Enabled' }];
  if (ends(`/subscriptions/${SUB}/resourcegroups`)) return [{ id: RG, name: 'sample-group', location: 'westus' }];
  if (/^\/subscriptions\/[^/]+\/providers\/[^/]+$/.test(p)) return { id: path, namespace: path.split('/').pop(), registrationState: 'Registered' };
  if (ends(`/subscriptions/${SUB}/locations`)) return [{ name: 'westus', displayName: 'West US' }];
  if (ends('/providers/Microsoft.ManagedIdentity/userAssignedIdentities')) return [identity()];
  if (ends(`/subscriptions/${SUB}/resources`)) {
    const f = query?.$filter ?? '';
    if (/Microsoft\.KeyVault\/vaults/i.test(f)) return [{ id: VAULT_ID, name: 'sample-vault', location: 'westus' }];
    if (/Microsoft\.Storage\/storageAccounts/i.test(f)) return [{ id: STORAGE_ID, name: 'stcmkdata', location: 'westus' }];
    return [];
  }
  // A remediation's write, answered as Azure does (the assignment made; the policies added).
  if (/\/providers\/microsoft\.authorization\/roleassignments\/[0-9a-f-]{36}$/.test(p)) return roleAssignment(path.slice(0, path.toLowerCase().lastIndexOf('/providers/microsoft.authorization')), ROLE_GUID, PRINCIPAL);
  if (ends('/accessPolicies/add')) return { id: `${path.slice(0, -'add'.length)}`, type: 'Microsoft.KeyVault/vaults/accessPolicies', properties: { accessPolicies: [] } };
  if (ends('/providers/Microsoft.Authorization/roleAssignments')) return [roleAssignment(path.slice(0, path.toLowerCase().lastIndexOf('/providers/microsoft.authorization')), ROLE_GUID, PRINCIPAL)];
  if (p.includes('/providers/microsoft.authorization/roledefinitions/')) {
    return roleDefinition(ROLE_GUID, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/wrap/action', 'Microsoft.KeyVault/vaults/keys/unwrap/action'] });
  }
  // The bot's own rights, as ARM's permissions API would report them with this role assigned.
  if (ends('/providers/Microsoft.Authorization/permissions')) return rights;
  if (ends(`${VAULT_ID}/keys`)) return [key()];
  if (ends(`${VAULT_ID}/keys/sample-key-name/versions`)) return [key({ id: `${VAULT_ID}/keys/sample-key-name/versions/${VERSION}`, name: VERSION })];
  if (ends(`${VAULT_ID}/keys/sample-key-name/versions/${VERSION}`)) return key({ id: `${VAULT_ID}/keys/sample-key-name/versions/${VERSION}`, name: VERSION });
  if (ends(`${VAULT_ID}/keys/sample-key-name`)) return key();
  if (ends(VAULT_ID)) return vault({ properties: { enableRbacAuthorization: true } });
  if (ends(IDENTITY_ID)) return identity();
  if (ends(STORAGE_ID)) return storageAccount;
  if (ends(`${STORAGE_ID}/blobServices/default/containers/chaosdata`)) return { id: `${STORAGE_ID}/blobServices/default/containers/chaosdata`, name: 'chaosdata' };
  if (/\/providers\/microsoft\.fluidrelay\/fluidrelayservers\/[^/]+$/.test(p)) return { ...server, id: path };
  if (/\/providers\/microsoft\.chaos\/experiments\/[^/]+$/.test(p)) return { ...experiment, id: path };
  throw new ArmError('ResourceNotFound', `not found: ${path}`, 404, 'corr-404');
}

/** Our ArmGateway port over `world`, recording every call as (method, path). */
class RecordingArm implements ArmGateway {
  readonly calls: Array<{ method: string; path: string }> = [];
  /** `rights`: what the permissions API reports the bot holds (the base role by default). */
  constructor(private readonly rights: unknown = perms) {}
  async get<T>(path: string, _v: string, query?: Record<string, string>): Promise<T> {
    this.calls.push({ method: 'GET', path });
    return structuredClone(world(path, query, this.rights)) as T;
  }
  getOrNull<T>(path: string, v: string, query?: Record<string, string>): Promise<T | undefined> {
    return absentOn404(this.get<T>(path, v, query));
  }
  async list<T>(path: string, _v: string, query?: Record<string, string>): Promise<T[]> {
    this.calls.push({ method: 'GET', path });
    return structuredClone(world(path, query, this.rights)) as T[];
  }
  async resourceGraph<T>(): Promise<T[]> {
    throw new Error('targets do not query Resource Graph');
  }
  async put<T>(path: string, _v: string, _body: unknown): Promise<ArmWriteResult<T>> {
    this.calls.push({ method: 'PUT', path });
    return { status: 200, body: structuredClone(world(path)) as T };
  }
  async patch<T>(path: string, _v: string, _body: unknown): Promise<ArmWriteResult<T>> {
    this.calls.push({ method: 'PATCH', path });
    return { status: 200, body: structuredClone(world(path)) as T };
  }
  async resume<T>(op: StartedOperation, path: string): Promise<ArmWriteResult<T>> {
    this.calls.push({ method: 'GET', path: new URL(op.url).pathname }, { method: 'GET', path });
    return { status: 200, body: structuredClone(world(path)) as T };
  }
  onCall(_l: (c: ArmCallRecord) => void) {
    return () => undefined;
  }
  scoped(): ArmGateway {
    return this;
  }
}

/** One valid form per target. A new target needs a line here — and, if it writes a new type, the role. */
const FORMS: Record<string, Record<string, string>> = {
  'fluid-relay': { subscriptionId: SUB, resourceGroup: 'sample-group', name: 'fr-new', location: 'westus', identityId: IDENTITY_ID, keyUrl: KEY_URL, keyVersion: VERSION },
  'chaos-experiment': {
    subscriptionId: SUB,
    resourceGroup: 'sample-group',
    name: 'exp-new',
    location: 'westus',
    identityId: IDENTITY_ID,
    storageAccountId: STORAGE_ID,
    blobContainerName: 'chaosdata',
    template: 'vm-shutdown',
    targetResourceId: VM_ID,
  },
  'storage-cmk': { storageAccountId: STORAGE_ID, identityId: IDENTITY_ID, keyUrl: KEY_URL, keyVersion: 'latest' },
  'fluid-relay-rotate': { resourceId: SERVER_ID, identityId: IDENTITY_ID, keyUrl: KEY_URL, keyVersion: 'latest' },
  'chaos-identity': { resourceId: EXPERIMENT_ID, identityId: IDENTITY_ID },
  'grant-key-access': { identityId: IDENTITY_ID, keyUrl: KEY_URL, scopeLevel: 'key', roleId: ROLE_GUID },
  'vault-access-policy': { identityId: IDENTITY_ID, keyUrl: KEY_URL },
  'vault-purge-protection': { vaultId: VAULT_ID },
  'vault-firewall-bypass': { vaultId: VAULT_ID },
  'storage-network-access': { storageAccountId: STORAGE_ID },
};

const EXISTING: Record<string, ArmResource> = {
  'Microsoft.FluidRelay/fluidRelayServers': server,
  'Microsoft.Chaos/experiments': experiment,
  'Microsoft.Storage/storageAccounts': storageAccount,
};

interface Traced {
  target: Target;
  subject: CmkSubject;
  method: 'PUT' | 'PATCH';
  body: Record<string, unknown>;
  calls: Array<{ method: string; path: string }>;
}

/** What Workflow.submit() → execute() → verify() asks ARM for one request of `type`. */
async function trace(type: string): Promise<Traced> {
  const target = TARGETS[type]!;
  const parsed = parseForm(target, FORMS[type]);
  if (!parsed.ok) throw new Error(`${type}: sample form does not parse: ${JSON.stringify(parsed.errors)}`);
  const arm = new RecordingArm();
  const params = target.prepare ? await target.prepare(parsed.params, arm) : parsed.params;
  const plan = target.plan(params);
  const subject = target.subject(params);
  await runChecks(arm, subject, target.checks);
  if (plan.method === 'PATCH') await arm.get(plan.resourceId, plan.apiVersion); // the update diff
  await (plan.method === 'PUT' ? arm.put(plan.resourceId, plan.apiVersion, plan.body) : arm.patch(plan.resourceId, plan.apiVersion, plan.body));
  await (target.readBack ? target.readBack(plan, arm) : arm.get(plan.resourceId, plan.apiVersion)); // verification
  return { target, subject, method: plan.method, body: plan.body, calls: arm.calls };
}

/** `check <resource id>` (Workflow.review: the first target of the type) and `new … --from` (readExisting). */
async function traceReviews(): Promise<Array<{ method: string; path: string }>> {
  const arm = new RecordingArm();
  const seen = new Set<string>();
  // A remediation (a grant) is reviewed as the resource it grants access for, not as a grant; a target that does not review its type is skipped.
  for (const t of Object.values(TARGETS).filter((x) => !REMEDIATION.includes(x.type))) {
    if (t.reviews === false || seen.has(t.resourceType.toLowerCase())) continue;
    seen.add(t.resourceType.toLowerCase());
    const resource = (await arm.get<ArmResource>(EXISTING[t.resourceType]!.id, t.apiVersion)) as ArmResource;
    await runChecks(arm, t.reviewSubject(resource), t.reviewChecks?.(resource) ?? t.checks);
  }
  return arm.calls;
}

async function tracePickersAndProbe(): Promise<Array<{ method: string; path: string }>> {
  const arm = new RecordingArm();
  await loadFormChoices(arm, SUB);
  await arm.list('/subscriptions', '2022-12-01'); // GET /readyz
  return arm.calls;
}

/** Operation URLs the bot polls after a long-running write: the simulator's and the reference examples'. */
function operationUrls(writtenNamespaces: Set<string>): string[] {
  const urls: string[] = [];
  for (const p of providers.filter((x) => writtenNamespaces.has(x.namespace.toLowerCase()))) {
    const lroRoutes = p.routes.filter((r) => r.method === 'GET' && /^locations\/operation/i.test(r.resourceType ?? ''));
    if (!lroRoutes.length) continue;
    const id = '4bdadd97-207c-4de8-9bba-08339ae099c7';
    urls.push(operationStatusId(p.namespace, SUB, 'westus', id), operationResultPath(p.namespace, SUB, 'westus', id));
    // Every operation route the simulator serves, by the resource type it declares (the singular
    // `operationStatus` URL of the examples is declared as locations/operationStatuses).
    for (const r of lroRoutes) urls.push(`/subscriptions/${SUB}/providers/${p.namespace}/${r.resourceType!.replace(/\//g, '/westus/')}/${id}`);
  }
  if (writtenNamespaces.has('microsoft.chaos')) {
    for (const f of ['CreateUpdateExperiment.json', 'UpdateExperiment.json']) {
      const ex = loadExample(`Microsoft.Chaos/2023-10-27-preview/${f}`) as { responses: Record<string, { headers?: Record<string, string> }> };
      for (const r of Object.values(ex.responses)) for (const u of Object.values(r.headers ?? {})) if (/^https:/.test(u)) urls.push(new URL(u).pathname);
    }
  }
  return urls;
}

/**
 * The examples' Azure-AsyncOperation URLs say `locations/{l}/operationStatus/{id}` (singular); the
 * RBAC operations list names only `Microsoft.Chaos/locations/operationStatuses/read`. Assumed to be
 * the same resource type — see "Doubts" in deploy/README.md.
 */
const canonical = (action: string) => action.replace(/^Microsoft\.Chaos\/locations\/operationStatus\/read$/i, 'Microsoft.Chaos/locations/operationStatuses/read');

// ---- the tests ---------------------------------------------------------------------------------

describe('deploy/cmk-chatops-role.json', () => {
  let traces: Traced[];
  let reviewCalls: Array<{ method: string; path: string }>;
  let pickerCalls: Array<{ method: string; path: string }>;
  let lroUrls: string[];
  let needed: Map<string, string[]>;
  let neededToRemedy: Set<string>;

  beforeAll(async () => {
    traces = [];
    for (const type of Object.keys(TARGETS)) traces.push(await trace(type));
    reviewCalls = await traceReviews();
    pickerCalls = await tracePickersAndProbe();
    lroUrls = operationUrls(new Set(Object.values(TARGETS).map((t) => t.resourceType.split('/')[0]!.toLowerCase())));
    needed = new Map();
    const need = (action: string, why: string) => needed.set(canonical(action).toLowerCase(), [...(needed.get(canonical(action).toLowerCase()) ?? []), why]);
    neededToRemedy = new Set();
    for (const t of traces) {
      for (const c of t.calls) {
        const action = armAction(c.method, c.path);
        // A remediation target's write is the remediation role's, judged below.
        if (REMEDIATION.includes(t.target.type) && grantedToRemedy(action)) neededToRemedy.add(action.toLowerCase());
        else need(action, `${t.target.type}: ${c.method} ${c.path}`);
      }
    }
    for (const c of [...reviewCalls, ...pickerCalls]) need(armAction(c.method, c.path), `${c.method} ${c.path}`);
    for (const u of lroUrls) need(armAction('GET', u), `poll ${u}`);
    for (const t of traces) if ((t.body.identity as { userAssignedIdentities?: object } | undefined)?.userAssignedIdentities) need(ASSIGN, `${t.target.type}: ${t.method} attaches a user-assigned identity`);
  });

  it('is a custom role definition in the shape `az role definition create` takes', () => {
    expect(Object.keys(role).sort()).toEqual(['Actions', 'AssignableScopes', 'DataActions', 'Description', 'IsCustom', 'Name', 'NotActions', 'NotDataActions'].sort());
    expect(role.IsCustom).toBe(true);
    expect(role.Name).toBe('cmk-chatops'); // the name bot.can-write's remedy points to
    expect(role.AssignableScopes.length).toBeGreaterThan(0);
    for (const s of role.AssignableScopes) expect(s).toMatch(/^\/subscriptions\/[0-9a-f-]{36}(\/resourceGroups\/[^/]+)?$/i);
    expect(new Set(role.Actions.map((a) => a.toLowerCase())).size).toBe(role.Actions.length);
  });

  it('never deletes, never uses wildcards, never writes authorization, never touches data', () => {
    for (const a of role.Actions) {
      expect(a).not.toMatch(/\*/);
      expect(a).not.toMatch(/\/delete$/i);
      expect(a).toMatch(/^Microsoft\.[A-Za-z]+\/[A-Za-z/]+\/(read|write|action)$/);
    }
    expect(granted('Microsoft.Authorization/roleAssignments/write')).toBe(false);
    expect(granted('Microsoft.Authorization/roleDefinitions/write')).toBe(false);
    expect(role.Actions.filter((a) => /^Microsoft\.Authorization\//i.test(a) && !/\/read$/i.test(a))).toEqual([]);
    expect(role.NotActions).toEqual([]);
    expect(role.DataActions).toEqual([]);
    expect(role.NotDataActions).toEqual([]);
    expect(grants(perms, 'Microsoft.KeyVault/vaults/keys/unwrap/action', 'data')).toBe(false);
  });

  it('writes only the resource types the targets write, and its only other action is attaching an identity', () => {
    const targetTypes = new Set(Object.values(TARGETS).map((t) => t.resourceType.toLowerCase()));
    for (const a of role.Actions.filter((x) => /\/write$/i.test(x))) expect(targetTypes).toContain(a.replace(/\/write$/i, '').toLowerCase());
    expect(role.Actions.filter((x) => /\/action$/i.test(x))).toEqual([ASSIGN]);
  });

  it.each(Object.keys(TARGETS).filter((t) => !REMEDIATION.includes(t)))('%s: grants <resourceType>/read and /write, the write the plan makes, and what bot.can-write asks for', async (type) => {
    const t = traces.find((x) => x.target.type === type)!;
    expect(granted(`${t.target.resourceType}/read`)).toBe(true);
    expect(granted(`${t.target.resourceType}/write`)).toBe(true);
    expect(['PUT', 'PATCH']).toContain(t.method);
    expect(granted(armAction(t.method, t.target.resourceId(parseFormOk(t.target, FORMS[type]!))))).toBe(true);
    expect(granted(ASSIGN)).toBe(true);
    // The bot's own pre-approval check, as the target configures it and fed this role through the permissions API, passes.
    const [result] = await runChecks(
      new RecordingArm(),
      t.subject,
      t.target.checks.filter((c) => c.id === 'bot.can-write'),
    );
    expect(result).toMatchObject({ id: 'bot.can-write', status: 'pass' });
    expect(granted(String(result!.evidence.writeAction))).toBe(true);
  });

  it.each(REMEDIATION)('%s: its write is granted by the remediation role only, and bot.can-write says which role is missing', async (type) => {
    const t = traces.find((x) => x.target.type === type)!;
    // The write as traced: where it goes depends on what prepare() read (the key's vault).
    const write = armAction(t.method, t.calls.find((c) => c.method === t.method)!.path);
    expect([granted(write), grantedToRemedy(write)]).toEqual([false, true]);
    const check = t.target.checks.filter((c) => c.id === 'bot.can-write');
    const [withBoth] = await runChecks(new RecordingArm([...perms, ...remediationPerms]), t.subject, check);
    expect(withBoth).toMatchObject({ id: 'bot.can-write', status: 'pass' });
    expect(grantedToRemedy(String(withBoth!.evidence.writeAction))).toBe(true);
    const [baseOnly] = await runChecks(new RecordingArm(), t.subject, check);
    expect(baseOnly).toMatchObject({ id: 'bot.can-write', status: 'fail' });
    expect(baseOnly!.remedy).toContain('cmk-chatops-remediation');
  });

  it('the remediation role: named actions only, no deletes or data, each one used by a remediation target and explained in deploy/README.md', () => {
    expect(REMEDIATION.sort()).toEqual(['grant-key-access', 'vault-access-policy']);
    expect(remediationRole.Name).toBe('cmk-chatops-remediation');
    for (const a of remediationRole.Actions) expect(a).toMatch(/^Microsoft\.[A-Za-z]+\/[A-Za-z/]+\/write$/);
    expect([remediationRole.NotActions, remediationRole.DataActions, remediationRole.NotDataActions]).toEqual([[], [], []]);
    expect(remediationRole.Actions.map((a) => a.toLowerCase()).sort()).toEqual([...neededToRemedy].sort());
    const section = readme.split(/^## /m).find((x) => x.startsWith('The remediation role')) ?? '';
    expect([...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!).sort()).toEqual([...remediationRole.Actions].sort());
  });

  it('grants every ARM call the bot makes (targets, reviews, pickers, readiness, long-running polls)', () => {
    const missing = [...needed].filter(([action]) => !granted(action)).map(([action, why]) => `${action} (${why[0]})`);
    expect(missing).toEqual([]);
    // The walk reached every provider namespace the checks read.
    const namespaces = new Set([...needed.keys()].map((a) => a.split('/')[0]));
    expect([...namespaces].sort()).toEqual(['microsoft.authorization', 'microsoft.chaos', 'microsoft.fluidrelay', 'microsoft.keyvault', 'microsoft.managedidentity', 'microsoft.resources', 'microsoft.storage']);
    for (const ns of namespaces) expect(role.Actions.some((a) => a.toLowerCase().startsWith(`${ns}/`) && /\/read$/i.test(a))).toBe(true);
  });

  it('grants nothing the bot does not use', () => {
    expect(role.Actions.filter((a) => !needed.has(a.toLowerCase()))).toEqual([]);
  });

  it('explains every action in deploy/README.md, and grants none of the ones it lists as not granted', () => {
    const section = (title: string) => readme.split(/^## /m).find((s) => s.startsWith(title)) ?? '';
    const rows = (text: string) => [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
    const justified = rows(section('The role'));
    expect([...justified].sort()).toEqual([...role.Actions].sort());
    const refused = rows(section('Not granted')).filter((a) => !a.includes('…'));
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) expect(granted(a)).toBe(false);
  });

  it('has a sample form for every target, so a new target cannot skip this test', () => {
    expect(Object.keys(FORMS).sort()).toEqual(Object.keys(TARGETS).sort());
  });
});

describe('armAction', () => {
  it.each([
    ['GET', '/subscriptions', 'Microsoft.Resources/subscriptions/read'],
    ['GET', `/subscriptions/${SUB}/resourcegroups`, 'Microsoft.Resources/subscriptions/resourcegroups/read'],
    ['GET', `${VAULT_ID}/keys/k/versions/${VERSION}`, 'Microsoft.KeyVault/vaults/keys/versions/read'],
    ['GET', `${VAULT_ID}/keys/k/providers/Microsoft.Authorization/roleAssignments?$filter=x`, 'Microsoft.Authorization/roleAssignments/read'],
    ['GET', `${STORAGE_ID}/blobServices/default/containers/c`, 'Microsoft.Storage/storageAccounts/blobServices/containers/read'],
    ['PATCH', STORAGE_ID, 'Microsoft.Storage/storageAccounts/write'],
    ['GET', `/subscriptions/${SUB}/providers/Microsoft.FluidRelay`, 'Microsoft.Resources/subscriptions/providers/read'],
    ['DELETE', SERVER_ID, 'Microsoft.FluidRelay/fluidRelayServers/delete'],
  ])('%s %s → %s', (method, path, action) => {
    expect(armAction(method, path)).toBe(action);
  });
});

function parseFormOk(target: Target, form: Record<string, string>): Record<string, unknown> {
  const r = parseForm(target, form);
  if (!r.ok) throw new Error('form does not parse');
  return r.params;
}
