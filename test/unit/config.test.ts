import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadDotEnv } from '../../src/config';

describe('config', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3978);
    expect(c.azure.mode).toBe('simulator');
    expect(c.database).toEqual({ kind: 'pglite', dataDir: '.data/pglite' });
    expect(c.teams.appId).toBeUndefined();
  });

  it('uses PostgreSQL when DATABASE_URL is set and Azure when credentials are present', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://localhost/test', AZURE_CLIENT_ID: 'abc' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://localhost/test', poolMax: 10, auth: 'password' });
    expect(c.azure).toEqual({ mode: 'azure', endpoint: 'https://management.azure.com', caFile: undefined, graphEndpoint: 'https://graph.microsoft.com' });
  });

  it('takes Microsoft Graph from GRAPH_ENDPOINT (sovereign clouds) and refuses plain http', () => {
    expect(loadConfig({ AZURE_CLIENT_ID: 'abc', GRAPH_ENDPOINT: 'https://graph.microsoft.us' }).azure).toMatchObject({ graphEndpoint: 'https://graph.microsoft.us' });
    expect(() => loadConfig({ AZURE_CLIENT_ID: 'abc', GRAPH_ENDPOINT: 'http://graph.example' })).toThrow(/GRAPH_ENDPOINT/);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT: must be a whole number/],
    [{ PORT: '70000' }, /PORT: must be a whole number from 0 to 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres/],
    [{ ARM_ENDPOINT: 'http://localhost:1' }, /ARM_ENDPOINT: must be an https/],
    [{ MicrosoftAppType: 'Weird' }, /MicrosoftAppType/],
    [{ MicrosoftAppId: 'id-only' }, /MicrosoftAppPassword: required/],
    [{ MicrosoftAppId: 'a', MicrosoftAppPassword: 'b', MicrosoftAppType: 'SingleTenant' }, /MicrosoftAppTenantId: required/],
    // Single tenant is the default: an app id without its tenant is refused, naming the default.
    [{ MicrosoftAppId: 'a', MicrosoftAppPassword: 'b' }, /MicrosoftAppTenantId: required when MicrosoftAppType=SingleTenant \(the default\)/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env as Record<string, string>)).toThrow(ConfigError);
    expect(() => loadConfig(env as Record<string, string>)).toThrow(message);
  });
});

describe('DATABASE_AUTH=entra (passwordless PostgreSQL)', () => {
  const entra = { DATABASE_AUTH: 'entra', AZURE_MODE: 'azure', AZURE_CLIENT_ID: 'client-id' };

  it('logs in with the Azure identity: a URL without a password, in Azure mode', () => {
    const c = loadConfig({ ...entra, DATABASE_URL: 'postgresql://id-cmk@psql.postgres.database.azure.com:5432/cmk?sslmode=verify-full' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgresql://id-cmk@psql.postgres.database.azure.com:5432/cmk?sslmode=verify-full', poolMax: 10, auth: 'entra' });
  });

  it.each([
    [{ ...entra, DATABASE_URL: 'postgres://id-cmk:secret@psql.example/cmk' }, /DATABASE_URL: must not carry a password when DATABASE_AUTH=entra/],
    [{ ...entra }, /DATABASE_URL: required when DATABASE_AUTH=entra/],
    // No identity anywhere: auto means the simulator, which issues no database tokens.
    [{ DATABASE_AUTH: 'entra', DATABASE_URL: 'postgres://id-cmk@psql.example/cmk' }, /DATABASE_AUTH: entra needs AZURE_MODE=azure \(now simulator, from AZURE_MODE=auto/],
    [{ ...entra, AZURE_MODE: 'simulator', ARM_ENDPOINT: 'https://127.0.0.1:8443', DATABASE_URL: 'postgres://id-cmk@psql.example/cmk' }, /DATABASE_AUTH: entra needs AZURE_MODE=azure \(now simulator\)/],
    [{ DATABASE_AUTH: 'token' }, /DATABASE_AUTH/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env as Record<string, string>)).toThrow(ConfigError);
    expect(() => loadConfig(env as Record<string, string>)).toThrow(message);
  });
});

describe('the bot registration', () => {
  it('defaults to a single-tenant bot; multi-tenant only when asked for', () => {
    expect(loadConfig({ MicrosoftAppId: 'a', MicrosoftAppPassword: 'b', MicrosoftAppTenantId: 't' }).teams.appType).toBe('SingleTenant');
    expect(loadConfig({ MicrosoftAppId: 'a', MicrosoftAppPassword: 'b', MicrosoftAppType: 'MultiTenant' }).teams.appType).toBe('MultiTenant');
    // Local use without an app id needs no tenant.
    expect(loadConfig({}).teams.appType).toBe('SingleTenant');
  });
});

describe('external simulator', () => {
  it('AZURE_MODE=simulator with ARM_ENDPOINT talks to a simulator in another process', () => {
    const c = loadConfig({ AZURE_MODE: 'simulator', ARM_ENDPOINT: 'https://127.0.0.1:8443', ARM_CA_FILE: '.data/simulator-tls/ca.pem' });
    expect(c.azure).toEqual({ mode: 'simulator', simulatorPort: 0, external: { endpoint: 'https://127.0.0.1:8443', caFile: '.data/simulator-tls/ca.pem' } });
  });
});

describe('NODE_ENV=production', () => {
  it('needs Azure configured: an identity, or an external simulator named on purpose', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/NODE_ENV=production does not start the embedded Azure simulator/);
    expect(() => loadConfig({ NODE_ENV: 'production', AZURE_MODE: 'simulator' })).toThrow(/\(AZURE_MODE=simulator\)/);
    const noTeams = { NODE_ENV: 'production', TEAMS_ENABLED: 'false' };
    expect(loadConfig({ ...noTeams, AZURE_MODE: 'azure', AZURE_CLIENT_ID: 'abc' }).azure.mode).toBe('azure');
    expect(loadConfig({ ...noTeams, IDENTITY_ENDPOINT: 'http://localhost:42356/msi/token' }).azure.mode).toBe('azure');
    expect(loadConfig({ ...noTeams, AZURE_MODE: 'simulator', ARM_ENDPOINT: 'https://127.0.0.1:8443' }).azure).toMatchObject({ mode: 'simulator', external: { endpoint: 'https://127.0.0.1:8443' } });
  });

  it('needs a Teams app id (unauthenticated Teams is for local use), named with the other start-up problems', () => {
    const azure = { NODE_ENV: 'production', AZURE_MODE: 'azure', AZURE_CLIENT_ID: 'abc' };
    expect(() => loadConfig({ ...azure, EVENT_GRID_AUDIENCE: 'api://cmk' })).toThrow(/EVENT_GRID_TENANT_ID: required[\s\S]*MicrosoftAppId: required with NODE_ENV=production.*TEAMS_ENABLED=false/);
    expect(loadConfig({ ...azure, TEAMS_ENABLED: 'false' }).teamsEnabled).toBe(false);
    expect(loadConfig({ ...azure, MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppId: 'app', MicrosoftAppTenantId: 'tenant' }).teams.appId).toBe('app');
  });
});

describe('.env', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmk-dotenv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills in what the environment does not set; the environment wins, even when empty', () => {
    const file = join(dir, '.env');
    writeFileSync(file, '# comment\nPORT=4000\nHOST=0.0.0.0\nLOG_LEVEL="debug"\nSLACK_API_URL=http://localhost:1/api/ # trailing\n');
    const env: Record<string, string | undefined> = { HOST: '127.0.0.1', LOG_LEVEL: '' };
    expect(loadDotEnv(file, env).sort()).toEqual(['PORT', 'SLACK_API_URL']);
    expect(env).toEqual({ PORT: '4000', HOST: '127.0.0.1', LOG_LEVEL: '', SLACK_API_URL: 'http://localhost:1/api/' });
  });

  it('no file, nothing read', () => {
    const env = {};
    expect(loadDotEnv(join(dir, 'absent.env'), env)).toEqual([]);
    expect(env).toEqual({});
  });
});
