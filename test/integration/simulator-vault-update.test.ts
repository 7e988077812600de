// Vaults_Update (PATCH) in the simulator: Key Vault's rules for the settings remediations change.
import { SIM_FIREWALL_VAULT, SIM_NOPURGE_VAULT, SIM_NOSOFTDELETE_VAULT, SIM_RBAC_VAULT, simVaultId, startSimulator, type Simulator } from '../../src/simulator';
import { call, loadExample, shapeDiff } from '../fixtures/azure-rest/helpers';

const KV = '2024-11-01';
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());
beforeEach(() => sim.reset());

describe('PATCH Microsoft.KeyVault/vaults', () => {
  it('turns purge protection on and answers 200 with the vault, shaped like updateVault.json', async () => {
    const res = await call(sim, 'PATCH', simVaultId(SIM_NOPURGE_VAULT), { apiVersion: KV, body: { properties: { enablePurgeProtection: true } } });
    expect(res.status).toBe(200);
    expect(res.body.properties.enablePurgeProtection).toBe(true);
    const example = loadExample('Microsoft.KeyVault/2024-11-01/updateVault.json').responses['200'].body;
    expect(shapeDiff(example, res.body, ['properties.hsmPoolResourceId', 'properties.networkAcls', 'properties.privateEndpointConnections'])).toEqual([]);
  });

  it('refuses to turn purge protection off once on, in Azure’s words (BadRequest)', async () => {
    const res = await call(sim, 'PATCH', simVaultId(SIM_RBAC_VAULT), { apiVersion: KV, body: { properties: { enablePurgeProtection: false } } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BadRequest');
    expect(res.body.error.message).toBe('The property "enablePurgeProtection" cannot be set to false. Enabling the purge protection for a vault is an irreversible action.');
  });

  it('refuses purge protection on a vault without soft delete, and soft delete off once on', async () => {
    const noSoft = await call(sim, 'PATCH', simVaultId(SIM_NOSOFTDELETE_VAULT), { apiVersion: KV, body: { properties: { enablePurgeProtection: true } } });
    expect([noSoft.status, noSoft.body.error.code]).toEqual([400, 'BadRequest']);
    expect(noSoft.body.error.message).toMatch(/enableSoftDelete/);
    const both = await call(sim, 'PATCH', simVaultId(SIM_NOSOFTDELETE_VAULT), { apiVersion: KV, body: { properties: { enableSoftDelete: true, enablePurgeProtection: true } } });
    expect(both.status).toBe(200);
    expect(both.body.properties).toMatchObject({ enableSoftDelete: true, enablePurgeProtection: true, softDeleteRetentionInDays: 90 });
    const off = await call(sim, 'PATCH', simVaultId(SIM_NOPURGE_VAULT), { apiVersion: KV, body: { properties: { enableSoftDelete: false } } });
    expect([off.status, off.body.error.code]).toEqual([400, 'BadRequest']);
  });

  it('replaces networkAcls whole, and refuses a bypass Azure does not know', async () => {
    const res = await call(sim, 'PATCH', simVaultId(SIM_FIREWALL_VAULT), { apiVersion: KV, body: { properties: { networkAcls: { bypass: 'AzureServices', defaultAction: 'Deny' } } } });
    expect(res.status).toBe(200);
    // The IP rule was not sent, so it is gone: why the bot reads the rules first and sends them back.
    expect(res.body.properties.networkAcls).toEqual({ bypass: 'AzureServices', defaultAction: 'Deny' });
    const bad = await call(sim, 'PATCH', simVaultId(SIM_FIREWALL_VAULT), { apiVersion: KV, body: { properties: { networkAcls: { bypass: 'Everything', defaultAction: 'Deny' } } } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'InvalidRequestContent']);
  });
});
