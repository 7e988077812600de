// Microsoft.Authorization in the simulator: role assignment filters, role definitions, permissions.
import {
  BUILTIN_ROLE_IDS,
  SIM_BOT_PRINCIPAL_ID,
  SIM_IDENTITY_NO_ACCESS_PRINCIPAL_ID,
  SIM_IDENTITY_PRINCIPAL_ID,
  SIM_IDENTITY_WEST_PRINCIPAL_ID,
  SIM_KEY,
  SIM_RBAC_VAULT,
  SIM_RG,
  SIM_RG_WEST,
  SIM_SUBSCRIPTION2_ID,
  simKeyId,
  simRgId,
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
    expect(atSub).toHaveLength(6); // bot ×2 at the subscription, four below it; not the sandbox subscription's
    const atRgWest = await assignments(simRgId(SIM_RG_WEST));
    expect(names(atRgWest)).toEqual(
      [SIM_ROLE_ASSIGNMENT_NAMES.botContributor, SIM_ROLE_ASSIGNMENT_NAMES.botManagedIdentityOperator, SIM_ROLE_ASSIGNMENT_NAMES.westIdentityCryptoOnWestRg].sort(),
    );
  });

  it('atScope(): at or above only', async () => {
    const atKey = await assignments(KEY, 'atScope()');
    expect(names(atKey)).toEqual(
      [
        SIM_ROLE_ASSIGNMENT_NAMES.botContributor,
        SIM_ROLE_ASSIGNMENT_NAMES.botManagedIdentityOperator,
        SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnRbacVault,
        SIM_ROLE_ASSIGNMENT_NAMES.westIdentityCryptoOnRbacVault,
      ].sort(),
    );
    expect(await assignments(SUB, 'atScope()')).toHaveLength(2);
  });

  it("principalId eq '…': that principal at, above and below", async () => {
    expect(names(await assignments(SUB, `principalId eq '${SIM_IDENTITY_PRINCIPAL_ID}'`))).toEqual(
      [SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnRbacVault, SIM_ROLE_ASSIGNMENT_NAMES.identityCryptoOnFirewallVault].sort(),
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
    expect(names(bot)).toEqual([SIM_ROLE_ASSIGNMENT_NAMES.botContributor, SIM_ROLE_ASSIGNMENT_NAMES.botManagedIdentityOperator].sort());
    const westAtSub = await assignments(SUB, `atScope() and assignedTo('${SIM_IDENTITY_WEST_PRINCIPAL_ID}')`);
    expect(westAtSub).toEqual([]);
    const westBelowSub = await assignments(SUB, `assignedTo('${SIM_IDENTITY_WEST_PRINCIPAL_ID}')`);
    expect(westBelowSub).toHaveLength(2);
  });

  it('rejects other filters with 400 UnsupportedQuery', async () => {
    const res = await call(sim, 'GET', `${SUB}${RA}?$filter=${encodeURIComponent("roleDefinitionId eq 'x'")}`, { apiVersion: V });
    expect([res.status, res.body.error.code]).toEqual([400, 'UnsupportedQuery']);
  });

  it('accepts 2020-04-01-preview, refuses other versions, and checks the scope exists', async () => {
    expect((await call(sim, 'GET', `${SUB}${RA}`, { apiVersion: '2020-04-01-preview' })).status).toBe(200);
    const bad = await call(sim, 'GET', `${SUB}${RA}`, { apiVersion: '2014-01-01' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'InvalidResourceType']);
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

    sim.state.put(
      roleAssignmentResource({ name: '99999999-9999-4999-8999-999999999999', scope: SUB, roleGuid: BUILTIN_ROLE_IDS.userAccessAdministrator, principalId: SIM_BOT_PRINCIPAL_ID, createdOn: new Date().toISOString() }),
    );
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
    expect(tenant.body.properties.permissions[0].notActions).toEqual(
      expect.arrayContaining(['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/*/Write', 'Microsoft.Authorization/elevateAccess/Action']),
    );

    const scoped = await call(sim, 'GET', `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.managedIdentityOperator}`, { apiVersion: V });
    expect(scoped.body.id).toBe(simRoleDefinitionId(BUILTIN_ROLE_IDS.managedIdentityOperator));
    expect(scoped.body.properties.permissions[0].actions).toEqual(
      expect.arrayContaining(['Microsoft.ManagedIdentity/userAssignedIdentities/*/read', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action']),
    );
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

  it('one entry per role assigned at or above the scope', async () => {
    const atSub = await perms(SUB);
    expect(atSub).toHaveLength(2);
    expect(Object.keys(atSub[0]).sort()).toEqual(['actions', 'dataActions', 'notActions', 'notDataActions']);
    expect(atSub.map((p) => p.actions[0])).toEqual(['*', 'Microsoft.ManagedIdentity/userAssignedIdentities/*/read']);
    expect(await perms(KEY, '2015-07-01')).toEqual(atSub);
    const sandbox = await perms(simSubscriptionId(SIM_SUBSCRIPTION2_ID));
    expect(sandbox).toEqual([{ actions: ['*/read'], notActions: [], dataActions: [], notDataActions: [] }]);
  });

  it('follows changes to the bot’s role assignments, and ARM enforces them on writes', async () => {
    sim.state.delete(`${SUB}${RA}/${SIM_ROLE_ASSIGNMENT_NAMES.botContributor}`);
    const left = await perms(simRgId(SIM_RG));
    expect(left).toHaveLength(1);
    expect(left[0].actions).not.toContain('*');
    const put = await call(sim, 'PUT', `${simRgId(SIM_RG)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x`, {
      apiVersion: '2024-11-30',
      body: { location: 'eastus' },
    });
    expect([put.status, put.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(put.body.error.message).toContain(SIM_BOT_PRINCIPAL_ID);
  });
});
