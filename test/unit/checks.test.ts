// Table-driven: for every first-cut check id, a passing and a failing (or warning) world built
// from the reference examples' shapes; asserts status and the finding a user would read.
import { CMK_CHECKS } from '../../src/checks/catalogue';
import type { CmkSubject } from '../../src/checks/facts';
import { runChecks } from '../../src/checks/runner';
import type { CheckResult } from '../../src/domain/types';
import { FakeArm, IDENTITY_ID, NOW, PRINCIPAL, SUB, VAULT_ID, VERSION, identity, key, roleAssignment, roleDefinition, vault } from '../fixtures/arm-factories';

const KEY_PATH = `${VAULT_ID}/keys/sample-key-name`;
const LOOKUP = `/subscriptions/${SUB}/resources?$filter=resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'sample-vault'`;
const RA_LIST = `${KEY_PATH}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '${PRINCIPAL}'`;
const CSEU = 'e147488a-f6f5-4113-8e2d-b22465e65bf6';

const subject = (over: Partial<CmkSubject> = {}): CmkSubject => ({
  targetType: 'fluid-relay',
  resourceId: `/subscriptions/${SUB}/resourceGroups/sample-group/providers/Microsoft.FluidRelay/fluidRelayServers/fr1`,
  subscriptionId: SUB,
  location: 'westus',
  keyUrl: 'https://sample-vault.vault.azure.net/keys/sample-key-name',
  identityId: IDENTITY_ID,
  ...over,
});

function world(mod: (arm: FakeArm) => void = () => undefined): FakeArm {
  const arm = new FakeArm()
    .on(LOOKUP, [{ id: VAULT_ID, name: 'sample-vault', type: 'Microsoft.KeyVault/vaults' }])
    .on(VAULT_ID, vault())
    .on(KEY_PATH, key())
    .on(`${KEY_PATH}/versions/${VERSION}`, key({ id: `${KEY_PATH}/versions/${VERSION}`, name: VERSION }))
    .on(IDENTITY_ID, identity());
  mod(arm);
  return arm;
}

function rbacWorld(roleGuid: string, roleName: string, perms: Parameters<typeof roleDefinition>[2], scope = VAULT_ID) {
  return (arm: FakeArm) => {
    arm.on(VAULT_ID, vault({ properties: { enableRbacAuthorization: true, accessPolicies: [] } }));
    arm.on(RA_LIST, [roleAssignment(scope, roleGuid)]);
    arm.on(`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`, roleDefinition(roleGuid, roleName, perms));
  };
}

async function run(arm: FakeArm, s: CmkSubject = subject()): Promise<Map<string, CheckResult>> {
  const results = await runChecks(arm, s, CMK_CHECKS, { now: NOW, expiryWarningDays: 30 });
  return new Map(results.map((r) => [r.id, r]));
}

const nowS = Math.floor(NOW.getTime() / 1000);

type Case = [name: string, id: string, status: CheckResult['status'], finding: RegExp, setup?: (arm: FakeArm) => void, subj?: Partial<CmkSubject>];

const cases: Case[] = [
  ['versionless URL passes', 'key.url-format', 'pass', /Versionless URL for sample-key-name/],
  ['pinned URL passes', 'key.url-format', 'pass', /Pinned to version fd618d95/, undefined, { keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` }],
  ['http URL fails', 'key.url-format', 'fail', /must use https/, undefined, { keyUrl: 'http://sample-vault.vault.azure.net/keys/k' }],
  ['query string fails', 'key.url-format', 'fail', /query string/, undefined, { keyUrl: 'https://sample-vault.vault.azure.net/keys/k?x=1' }],
  ['foreign host fails', 'key.url-format', 'fail', /not a Key Vault/, undefined, { keyUrl: 'https://example.com/keys/k' }],
  ['bad version fails', 'key.url-format', 'fail', /not a key version/, undefined, { keyUrl: 'https://sample-vault.vault.azure.net/keys/k/v1' }],
  ['RSA 2048 passes', 'key.type', 'pass', /RSA key of 2048 bits/],
  ['EC key fails', 'key.type', 'fail', /is EC; customer-managed keys need RSA/, (a) => a.on(KEY_PATH, key({ properties: { kty: 'EC', keySize: undefined, curveName: 'P-256' } }))],
  ['RSA 1024 fails', 'key.type', 'fail', /Key size 1024 is not supported/, (a) => a.on(KEY_PATH, key({ properties: { keySize: 1024 } }))],
  ['missing key fails', 'key.type', 'fail', /was not found in vault sample-vault/, (a) => a.fail(KEY_PATH, 404, 'ResourceNotFound')],
  ['missing vault fails', 'key.type', 'fail', /Vault sample-vault was not found/, (a) => a.on(LOOKUP, [])],
  ['enabled key passes', 'key.enabled', 'pass', /Enabled/],
  ['disabled key fails', 'key.enabled', 'fail', /disabled/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { enabled: false } } }))],
  ['nbf in future fails', 'key.enabled', 'fail', /not active until/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { nbf: nowS + 86400 } } }))],
  [
    'disabled pinned version fails',
    'key.enabled',
    'fail',
    /version fd618d95.* is disabled/,
    (a) => a.on(`${KEY_PATH}/versions/${VERSION}`, key({ properties: { attributes: { enabled: false } } })),
    { keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` },
  ],
  ['far expiry passes', 'key.not-expired', 'pass', /Expires on/],
  ['expired fails', 'key.not-expired', 'fail', /expired on/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { exp: nowS - 60 } } }))],
  ['expiring soon warns', 'key.not-expired', 'warn', /within 30 days/, (a) => a.on(KEY_PATH, key({ properties: { attributes: { exp: nowS + 5 * 86400 } } }))],
  [
    'expired pinned version fails though the key is fine',
    'key.not-expired',
    'fail',
    /sample-key-name \(version fd618d95.*\) expired/,
    (a) => a.on(`${KEY_PATH}/versions/${VERSION}`, key({ properties: { attributes: { exp: nowS - 86400 } } })),
    { keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` },
  ],
  ['identity found passes', 'identity.exists', 'pass', /Identity identityName exists/],
  ['identity missing fails', 'identity.exists', 'fail', /was not found/, (a) => a.fail(IDENTITY_ID, 404, 'ResourceNotFound')],
  ['access policy passes', 'identity.key-permissions', 'pass', /access policy for principal/],
  [
    'access policy without unwrap fails',
    'identity.key-permissions',
    'fail',
    /lacks key permission\(s\) unwrapKey/,
    (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [{ tenantId: 'x', objectId: PRINCIPAL, permissions: { keys: ['get', 'wrapKey'] } }] } })),
  ],
  ['no access policy fails', 'identity.key-permissions', 'fail', /has no access policy for identity identityName/, (a) => a.on(VAULT_ID, vault({ properties: { accessPolicies: [] } }))],
  [
    'RBAC built-in role passes and names the assignment',
    'identity.key-permissions',
    'pass',
    /Key Vault Crypto Service Encryption User/,
    rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/wrap/action', 'Microsoft.KeyVault/vaults/keys/unwrap/action'] }),
  ],
  [
    'RBAC custom wildcard role inherited from the resource group passes',
    'identity.key-permissions',
    'pass',
    /"Key wildcard"/,
    rbacWorld('11111111-2222-3333-4444-555555555555', 'Key wildcard', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'] }, `/subscriptions/${SUB}/resourceGroups/sample-group`),
  ],
  [
    'RBAC role with wrap but not unwrap fails',
    'identity.key-permissions',
    'fail',
    /lacks the unwrap data action/,
    rbacWorld('11111111-2222-3333-4444-555555555556', 'Wrap only', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'], notDataActions: ['Microsoft.KeyVault/vaults/keys/unwrap/action'] }),
  ],
  [
    'RBAC vault with no assignment fails with the az fix',
    'identity.key-permissions',
    'fail',
    /lacks the read, wrap, unwrap data action/,
    (a) => {
      a.on(VAULT_ID, vault({ properties: { enableRbacAuthorization: true } }));
      a.on(RA_LIST, []);
    },
  ],
  ['same region passes', 'placement.same-region', 'pass', /All in westus/],
  ['identity elsewhere fails', 'placement.same-region', 'fail', /identity identityName is in eastus/, (a) => a.on(IDENTITY_ID, identity({ location: 'eastus' }))],
  ['region spelling differences are the same region', 'placement.same-region', 'pass', /All in West US/, undefined, { location: 'West US' }],
];

describe('first-cut CMK checks', () => {
  it.each(cases.map(([name, id, status, finding, setup, subj]) => ({ name, id, status, finding, setup, subj })))('$name → $id $status', async ({ id, status, finding, setup, subj }) => {
    const results = await run(world(setup), subject(subj));
    const r = results.get(id)!;
    expect(r).toBeDefined();
    expect({ status: r.status, finding: r.finding }).toEqual({ status, finding: expect.stringMatching(finding) });
    if (status === 'fail') expect(r.remedy).toBeTruthy();
  });

  it('an unreadable vault yields error with the ARM code and correlation id, never a throw', async () => {
    const results = await run(world((a) => a.fail(VAULT_ID, 403, 'AuthorizationFailed')));
    const r = results.get('identity.key-permissions')!;
    expect(r.status).toBe('error');
    expect(r.finding).toMatch(/AuthorizationFailed/);
    expect(r.evidence.correlationId).toBe('corr-123');
  });

  it('reads each resource once per run even though several checks need it', async () => {
    const arm = world(rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'] }));
    await run(arm, subject({ keyUrl: `https://sample-vault.vault.azure.net/keys/sample-key-name/${VERSION}` }));
    const counts = arm.calls.reduce<Record<string, number>>((m, c) => ({ ...m, [c]: (m[c] ?? 0) + 1 }), {});
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
    expect(arm.calls).toHaveLength(7); // lookup, vault, key, version, identity, role assignments, role definition
  });

  it('runs independent reads concurrently: wall time is the dependency depth, not the sum', async () => {
    const arm = world(rbacWorld(CSEU, 'Key Vault Crypto Service Encryption User', { dataActions: ['Microsoft.KeyVault/vaults/keys/*'] }));
    arm.latencyMs = 40;
    const started = Date.now();
    await run(arm);
    const elapsed = Date.now() - started;
    // depth: lookup → vault → role assignments → role definition = 4 round trips; sequential would be 6.
    expect(arm.calls.length).toBe(6);
    expect(elapsed).toBeLessThan(6 * 40);
  });
});
