// Microsoft.Authorization in the simulator: role assignment filters, role definitions, permissions.
import {
  BUILTIN_ROLE_IDS,
  SIM_BOT_PRINCIPAL_ID,
  SIM_IDENTITY,
  SIM_IDENTITY_CUSTOM_ROLE_PRINCIPAL_ID,
  SIM_IDENTITY_INHERITED_PRINCIPAL_ID,
  SIM_IDENTITY_NO_ASSIGN,
  SIM_IDENTITY_WEST,
  SIM_IDENTITY_WRAP_ONLY_PRINCIPAL_ID,
  SIM_RG_IDENTITIES_LOCKED,
  SIM_RG_LOCKED,
  SIM_ROLE_ASSIGNMENT_SCOPES,
  SIM_ROLE_KEYS_WILDCARD,
  SIM_ROLE_WRAP_ONLY,
  SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_IDENTITY_WEST_PRINCIPAL_ID,
  SIM_KEY,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_RG_WEST,
  SIM_SUBSCRIPTION2_ID,
  simFluidRelayId,
  simIdentityId,
  simKeyId,
  simRgId,
  simSeededRoleAssignmentId,
  simRoleDefinitionId,
  simSubscriptionId,
  simVaultId,
  startSimulator,
  roleAssignmentResource,
  SIM_ROLE_ASSIGNMENT_NAMES,
  type Simulator,
} from '../../src/simulator';
import { call, loadExample, shapeDiff, type Json } from '../fixtures/azure-rest/helpers';

let sim: Simulator;
const V = '2022-04-01';
const SUB = simSubscriptionId();
const KEY = simKeyId(SIM_RBAC_VAULT, SIM_KEY);
const RA = '/providers/Microsoft.Authorization/roleAssignments';

beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

async function assignments(scope: string, filter?: string): Promise<Json[]> {
  const q = filter === undefined ? '' : `?$filter=${encodeURIComponent(filter)}`;
  const res = await call(sim, 'GET', `${scope}${RA}${q}`, { apiVersion: V });
  expect(res.status).toBe(200);
  return res.body.value;
}

const names = (list: Json[]) => list.map((a) => a.name as string).sort();

describe('role assignments', () => {
  it('have the shape of RoleAssignments_ListForScope.json with subscription-scoped role definition ids', async () => {
    const list = await assignments(SUB);
    const example = loadExample('Microsoft.Authorization/2022-04-01/RoleAssignments_ListForScope.json').responses['200'].body;
    expect(shapeDiff(example, { value: list })).toEqual([]);
    const vaultAssignment = list.find((a) => a.name === SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnRbacVault);
    expect(vaultAssignment).toMatchObject({
      id: `${simVaultId(SIM_RBAC_VAULT)}${RA}/${SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnRbacVault}`,
      type: 'Microsoft.Authorization/roleAssignments',
      properties: {
        roleDefinitionId: simRoleDefinitionId(BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser),
        principalId: SIM_IDENTITY_PRINCIPAL_ID,
        principalType: 'ServicePrincipal',
        scope: simVaultId(SIM_RBAC_VAULT),
      },
    });
  });

  it('without a filter: at, above and below the scope', async () => {
    const atSub = await assignments(SUB);
    // every seeded assignment but those in the sandbox and labs subscriptions
    const elsewhere: string[] = [SIM_ROLE_ASSIGNMENT_NAMES.botReaderSandbox, SIM_ROLE_ASSIGNMENT_NAMES.botContributorLabs];
    expect(names(atSub)).toEqual(
      Object.values(SIM_ROLE_ASSIGNMENT_NAMES)
        .filter((n) => !elsewhere.includes(n))
        .sort(),
    );
    const atRgWest = await assignments(simRgId(SIM_RG_WEST));
    expect(names(atRgWest)).toEqual([SIM_ROLE_ASSIGNMENT_NAMES.botReader, SIM_ROLE_ASSIGNMENT_NAMES.botContributorWest, SIM_ROLE_ASSIGNMENT_NAMES.botManagedIdentityOperatorWest, SIM_ROLE_ASSIGNMENT_NAMES.westIdentityCryptoOnWestRg].sort());
  });

  it('every seeded assignment lives at the scope SIM_ROLE_ASSIGNMENT_SCOPES names', async () => {
    for (const key of Object.keys(SIM_ROLE_ASSIGNMENT_NAMES) as (keyof typeof SIM_ROLE_ASSIGNMENT_NAMES)[]) {
      const res = await call(sim, 'GET', simSeededRoleAssignmentId(key), { apiVersion: V });
      expect([key, res.status, res.body.properties.scope]).toEqual([key, 200, SIM_ROLE_ASSIGNMENT_SCOPES[key]]);
    }
  });

  it('atScope(): at or above only', async () => {
    const atKey = await assignments(KEY, 'atScope()');
    expect(names(atKey)).toEqual(
      [
        SIM_ROLE_ASSIGNMENT_NAMES.botReader,
        SIM_ROLE_ASSIGNMENT_NAMES.botContributor,
        SIM_ROLE_ASSIGNMENT_NAMES.botManagedIdentityOperator,
        SIM_ROLE_ASSIGNMENT_NAMES.inheritedIdentityCryptoOnRg,
        SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnRbacVault,
        SIM_ROLE_ASSIGNMENT_NAMES.westIdentityCryptoOnRbacVault,
        SIM_ROLE_ASSIGNMENT_NAMES.otherTenantIdentityCryptoOnRbacVault,
        SIM_ROLE_ASSIGNMENT_NAMES.wrapOnlyIdentityOnRbacVault,
        SIM_ROLE_ASSIGNMENT_NAMES.customRoleIdentityOnRbacVault,
        SIM_ROLE_ASSIGNMENT_NAMES.noAssignIdentityCryptoOnRbacVault,
        SIM_ROLE_ASSIGNMENT_NAMES.groupCryptoOnRbacVault,
      ].sort(),
    );
    expect(names(await assignments(SUB, 'atScope()'))).toEqual([SIM_ROLE_ASSIGNMENT_NAMES.botReader]);
  });

  it("principalId eq '…': that principal at, above and below", async () => {
    expect(names(await assignments(SUB, `principalId eq '${SIM_IDENTITY_PRINCIPAL_ID}'`))).toEqual(
      [
        SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnRbacVault,
        SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnFirewallVault,
        // Storage Blob Data Contributor on the storage accounts Chaos Studio experiments use
        SIM_ROLE_ASSIGNMENT_NAMES.identityBlobOnCmkStorage,
        SIM_ROLE_ASSIGNMENT_NAMES.identityBlobOnNoCmkStorage,
        SIM_ROLE_ASSIGNMENT_NAMES.identityBlobOnPrivateStorage,
        SIM_ROLE_ASSIGNMENT_NAMES.identityBlobOnBadKeyStorage,
      ].sort(),
    );
    // above: the vault-scope assignment seen from the key
    expect((await assignments(KEY, `principalId eq '${SIM_IDENTITY_PRINCIPAL_ID}'`)).map((a) => a.name)).toEqual([SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnRbacVault]);
    // below: a key-scope assignment seen from the vault; the unquoted form the spec shows works too
    sim.state.put(
      roleAssignmentResource({
        name: '77777777-7777-4777-8777-777777777777',
        scope: KEY,
        roleGuid: BUILTIN_ROLE_IDS.keyVaultCryptoUser,
        principalId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
        createdOn: new Date().toISOString(),
      }),
    );
    const fromVault = await assignments(simVaultId(SIM_RBAC_VAULT), `principalId eq ${SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID}`);
    expect(fromVault.map((a) => a.properties.scope)).toEqual([KEY]);
  });

  it("assignedTo('…') alone and with atScope()", async () => {
    const bot = await assignments(simRgId(SIM_RG), `assignedTo('${SIM_BOT_PRINCIPAL_ID}')`);
    expect(names(bot)).toEqual([SIM_ROLE_ASSIGNMENT_NAMES.botReader, SIM_ROLE_ASSIGNMENT_NAMES.botContributor, SIM_ROLE_ASSIGNMENT_NAMES.botManagedIdentityOperator].sort());
    const locked = await assignments(simRgId(SIM_RG_LOCKED), `atScope() and assignedTo('${SIM_BOT_PRINCIPAL_ID}')`);
    expect(names(locked)).toEqual([SIM_ROLE_ASSIGNMENT_NAMES.botReader]);
    const westAtSub = await assignments(SUB, `atScope() and assignedTo('${SIM_IDENTITY_WEST_PRINCIPAL_ID}')`);
    expect(westAtSub).toEqual([]);
    const westBelowSub = await assignments(SUB, `assignedTo('${SIM_IDENTITY_WEST_PRINCIPAL_ID}')`);
    expect(westBelowSub).toHaveLength(2);
  });

  it('id-inherited holds its role only at the resource group, which covers kv-cmk-rbac and its keys', async () => {
    const all = await assignments(SUB, `principalId eq '${SIM_IDENTITY_INHERITED_PRINCIPAL_ID}'`);
    expect(all.map((a) => [a.name, a.properties.scope, a.properties.roleDefinitionId])).toEqual([
      [SIM_ROLE_ASSIGNMENT_NAMES.inheritedIdentityCryptoOnRg, simRgId(SIM_RG), simRoleDefinitionId(BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser)],
    ]);
    // what a check reading role assignments at the key's scope sees
    const atKey = await assignments(KEY, `atScope() and assignedTo('${SIM_IDENTITY_INHERITED_PRINCIPAL_ID}')`);
    expect(names(atKey)).toEqual([SIM_ROLE_ASSIGNMENT_NAMES.inheritedIdentityCryptoOnRg]);
    expect(await assignments(KEY, `atScope() and assignedTo('${SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID}')`)).toEqual([]);
  });

  it('id-wrap-only and id-custom-role hold custom roles at the vault', async () => {
    const wrapOnly = await assignments(KEY, `atScope() and assignedTo('${SIM_IDENTITY_WRAP_ONLY_PRINCIPAL_ID}')`);
    expect(wrapOnly.map((a) => [a.name, a.properties.scope, a.properties.roleDefinitionId])).toEqual([[SIM_ROLE_ASSIGNMENT_NAMES.wrapOnlyIdentityOnRbacVault, simVaultId(SIM_RBAC_VAULT), simRoleDefinitionId(SIM_ROLE_WRAP_ONLY)]]);
    const custom = await assignments(KEY, `atScope() and assignedTo('${SIM_IDENTITY_CUSTOM_ROLE_PRINCIPAL_ID}')`);
    expect(custom.map((a) => [a.name, a.properties.scope, a.properties.roleDefinitionId])).toEqual([[SIM_ROLE_ASSIGNMENT_NAMES.customRoleIdentityOnRbacVault, simVaultId(SIM_RBAC_VAULT), simRoleDefinitionId(SIM_ROLE_KEYS_WILDCARD)]]);
  });

  it('rejects other filters with 400 UnsupportedQuery', async () => {
    const res = await call(sim, 'GET', `${SUB}${RA}?$filter=${encodeURIComponent("roleDefinitionId eq 'x'")}`, { apiVersion: V });
    expect([res.status, res.body.error.code]).toEqual([400, 'UnsupportedQuery']);
  });

  it('accepts 2020-04-01-preview, refuses other versions, and checks the scope exists', async () => {
    expect((await call(sim, 'GET', `${SUB}${RA}`, { apiVersion: '2020-04-01-preview' })).status).toBe(200);
    const bad = await call(sim, 'GET', `${SUB}${RA}`, { apiVersion: '2014-01-01' });
    expect([bad.status, bad.body.error.code]).toEqual([404, 'InvalidResourceType']);
    const noRg = await call(sim, 'GET', `${simRgId('rg-nope')}${RA}`, { apiVersion: V });
    expect([noRg.status, noRg.body.error.code]).toEqual([404, 'ResourceGroupNotFound']);
  });

  it('creating one needs Microsoft.Authorization/roleAssignments/write, which Contributor lacks', async () => {
    const path = `${KEY}${RA}/88888888-8888-4888-8888-888888888888`;
    const body = {
      properties: {
        roleDefinitionId: simRoleDefinitionId(BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser),
        principalId: SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
        principalType: 'ServicePrincipal',
      },
    };
    const denied = await call(sim, 'PUT', path, { apiVersion: V, body });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(denied.body.error.message).toContain("'Microsoft.Authorization/roleAssignments/write'");

    sim.state.put(roleAssignmentResource({ name: '99999999-9999-4999-8999-999999999999', scope: SUB, roleGuid: BUILTIN_ROLE_IDS.userAccessAdministrator, principalId: SIM_BOT_PRINCIPAL_ID, createdOn: new Date().toISOString() }));
    const created = await call(sim, 'PUT', path, { apiVersion: V, body });
    expect(created.status).toBe(201);
    const example = loadExample('Microsoft.Authorization/2022-04-01/RoleAssignments_CreateForResource.json').responses['201'].body;
    expect(shapeDiff(example, created.body)).toEqual([]);
    expect(created.body.properties.scope).toBe(KEY);

    const dup = await call(sim, 'PUT', `${KEY}${RA}/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa`, { apiVersion: V, body });
    expect([dup.status, dup.body.error.code]).toEqual([409, 'RoleAssignmentExists']);
    const unknownRole = await call(sim, 'PUT', `${KEY}${RA}/bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb`, {
      apiVersion: V,
      body: { properties: { ...body.properties, roleDefinitionId: simRoleDefinitionId('cccccccc-cccc-4ccc-8ccc-cccccccccccc') } },
    });
    expect([unknownRole.status, unknownRole.body.error.code]).toEqual([400, 'RoleDefinitionDoesNotExist']);

    expect((await call(sim, 'GET', path, { apiVersion: V })).body.name).toBe('88888888-8888-4888-8888-888888888888');
    expect((await call(sim, 'DELETE', path, { apiVersion: V })).status).toBe(200);
    const gone = await call(sim, 'GET', path, { apiVersion: V });
    expect([gone.status, gone.body.error.code]).toEqual([404, 'RoleAssignmentNotFound']);
  });
});

describe('role definitions', () => {
  const fragment = loadExample('Microsoft.Authorization/builtin-roles/_fragment.builtin-role-definitions.json');

  it('GET by id (tenant and subscription scope) has the shape of GetRoleDefinitionById.json', async () => {
    const example = loadExample('Microsoft.Authorization/2022-04-01/GetRoleDefinitionById.json').responses['200'].body;
    const tenant = await call(sim, 'GET', `/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.contributor}`, { apiVersion: V });
    expect(shapeDiff(example, tenant.body)).toEqual([]);
    expect(tenant.body.id).toBe(`/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.contributor}`);
    expect(tenant.body.properties).toMatchObject({ roleName: 'Contributor', type: 'BuiltInRole', assignableScopes: ['/'] });
    expect(tenant.body.properties.permissions[0].actions).toEqual(['*']);
    expect(tenant.body.properties.permissions[0].notActions).toEqual(expect.arrayContaining(['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/*/Write', 'Microsoft.Authorization/elevateAccess/Action']));

    const scoped = await call(sim, 'GET', `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.managedIdentityOperator}`, { apiVersion: V });
    expect(scoped.body.id).toBe(simRoleDefinitionId(BUILTIN_ROLE_IDS.managedIdentityOperator));
    expect(scoped.body.properties.permissions[0].actions).toEqual(expect.arrayContaining(['Microsoft.ManagedIdentity/userAssignedIdentities/*/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action']));
    const reader = await call(sim, 'GET', `/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.reader}`, { apiVersion: V });
    expect(reader.body.properties.roleName).toBe('Reader');

    const missing = await call(sim, 'GET', `/providers/Microsoft.Authorization/roleDefinitions/dddddddd-dddd-4ddd-8ddd-dddddddddddd`, { apiVersion: V });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'RoleDefinitionDoesNotExist']);
  });

  it('seeds the documented Key Vault and Storage roles exactly as the reference fragment has them', async () => {
    for (const role of fragment.roleDefinitions) {
      const res = await call(sim, 'GET', role.id, { apiVersion: V });
      expect(res.body.properties).toMatchObject({ roleName: role.roleName, description: role.description, assignableScopes: role.assignableScopes, permissions: role.permissions });
    }
  });

  it('seeds the two custom roles, readable by the subscription-scoped id assignments carry', async () => {
    const wrapOnly = await call(sim, 'GET', simRoleDefinitionId(SIM_ROLE_WRAP_ONLY), { apiVersion: V });
    expect(wrapOnly.status).toBe(200);
    const example = loadExample('Microsoft.Authorization/2022-04-01/GetRoleDefinitionById.json').responses['200'].body;
    expect(shapeDiff(example, wrapOnly.body)).toEqual([]);
    expect(wrapOnly.body).toMatchObject({
      id: simRoleDefinitionId(SIM_ROLE_WRAP_ONLY),
      name: SIM_ROLE_WRAP_ONLY,
      type: 'Microsoft.Authorization/roleDefinitions',
      properties: {
        roleName: 'Key Wrap Only (custom)',
        type: 'CustomRole',
        assignableScopes: [SUB],
        permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/wrap/action'], notDataActions: [] }],
      },
    });
    const wildcard = await call(sim, 'GET', `/providers/Microsoft.Authorization/roleDefinitions/${SIM_ROLE_KEYS_WILDCARD}`, { apiVersion: '2022-05-01-preview' });
    expect(wildcard.body.properties).toMatchObject({
      roleName: 'Key Vault Keys Operator (custom)',
      type: 'CustomRole',
      permissions: [{ actions: [], notActions: [], dataActions: ['Microsoft.KeyVault/vaults/keys/*'], notDataActions: [] }],
    });
    const customs = await call(sim, 'GET', `${SUB}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("type eq 'CustomRole'")}`, { apiVersion: V });
    expect(customs.body.value.map((r: Json) => r.name).sort()).toEqual([SIM_ROLE_WRAP_ONLY, SIM_ROLE_KEYS_WILDCARD].sort());
  });

  it("lists with $filter=roleName eq '…'", async () => {
    const res = await call(sim, 'GET', `${SUB}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'Key Vault Crypto Service Encryption User'")}`, {
      apiVersion: V,
    });
    expect(res.body.value.map((r: Json) => r.name)).toEqual([BUILTIN_ROLE_IDS.keyVaultCryptoServiceEncryptionUser]);
  });
});

describe('permissions (the caller is the bot)', () => {
  const perms = async (scope: string, apiVersion = V) => {
    const res = await call(sim, 'GET', `${scope}/providers/Microsoft.Authorization/permissions`, { apiVersion });
    expect(res.status).toBe(200);
    return res.body.value as Json[];
  };

  const READER = { actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] };
  const FLUID_WRITE = 'Microsoft.FluidRelay/fluidRelayServers/write';
  const ASSIGN = 'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action';
  /** Whether some entry's actions name the operation literally or through '*' (what a check reading this API would see). */
  const grants = (list: Json[], op: string) => list.some((p) => (p.actions as string[]).some((a) => a === '*' || a === op));

  it('one entry per role assigned at or above the scope', async () => {
    const atSub = await perms(SUB);
    expect(atSub).toEqual([READER]);
    const atRg = await perms(simRgId(SIM_RG));
    expect(Object.keys(atRg[0]).sort()).toEqual(['actions', 'dataActions', 'notActions', 'notDataActions']);
    expect(atRg.map((p) => p.actions[0])).toEqual(['*', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/read', '*/read']);
    expect(await perms(KEY, '2015-07-01')).toEqual(atRg);
    expect(await perms(simFluidRelayId('fr-not-yet'))).toEqual(atRg); // a resource that does not exist yet
    expect(await perms(simIdentityId(SIM_IDENTITY))).toEqual(atRg);
    expect((await perms(simRgId(SIM_RG_WEST))).map((p) => p.actions[0])).toEqual(['*', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/read', '*/read']);
    const sandbox = await perms(simSubscriptionId(SIM_SUBSCRIPTION2_ID));
    expect(sandbox).toEqual([READER]);
  });

  it('the bot can write Fluid Relay and assign identities in rg-cmk-demo and rg-cmk-west only', async () => {
    for (const rg of [SIM_RG, SIM_RG_WEST]) expect(grants(await perms(simRgId(rg)), FLUID_WRITE)).toBe(true);
    expect(grants(await perms(simIdentityId(SIM_IDENTITY)), ASSIGN)).toBe(true);
    expect(grants(await perms(simIdentityId(SIM_IDENTITY_WEST)), ASSIGN)).toBe(true);

    // rg-locked: Reader only, inherited from the subscription → bot.can-write fails there.
    expect(await perms(simRgId(SIM_RG_LOCKED))).toEqual([READER]);
    expect(await perms(simFluidRelayId('fr-x', SIM_RG_LOCKED))).toEqual([READER]);
    const denied = await call(sim, 'PUT', simFluidRelayId('fr-x', SIM_RG_LOCKED), { apiVersion: '2022-06-01', body: { location: 'eastus' } });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(denied.body.error.message).toContain(FLUID_WRITE);

    // id-no-assign: the identity's own scope grants only Reader, so no assign/action on it.
    expect(simIdentityId(SIM_IDENTITY_NO_ASSIGN)).toBe(`${simRgId(SIM_RG_IDENTITIES_LOCKED)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${SIM_IDENTITY_NO_ASSIGN}`);
    const atIdentity = await perms(simIdentityId(SIM_IDENTITY_NO_ASSIGN));
    expect(atIdentity).toEqual([READER]);
    expect(grants(atIdentity, ASSIGN)).toBe(false);
  });

  it('follows changes to the bot’s role assignments, and ARM enforces them on writes', async () => {
    sim.state.delete(simSeededRoleAssignmentId('botContributor'));
    const left = await perms(simRgId(SIM_RG));
    expect(left).toHaveLength(2);
    expect(left.flatMap((p) => p.actions)).not.toContain('*');
    const put = await call(sim, 'PUT', `${simRgId(SIM_RG)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x`, {
      apiVersion: '2024-11-30',
      body: { location: 'eastus' },
    });
    expect([put.status, put.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(put.body.error.message).toContain(SIM_BOT_PRINCIPAL_ID);
  });
});
