// Whom the Teams endpoint trusts comes from our configuration only (MicrosoftAppId, …): the Agents
// SDK would otherwise take its connection from clientId / tenantId / Connections__… variables in
// the environment, so a stray variable could make the bot accept another app's tokens.
import { createTeamsTransport } from '../../src/chat/teams/channel';
import { DEFAULT_TARGETS } from '../../src/targets';

const APP_ID = '00000000-0000-0000-0000-00000000b07a';
const STRAY = {
  // TEST_MODE: the SDK reads the environment again for each adapter (it otherwise reads it once, at import).
  TEST_MODE: 'true',
  clientId: '11111111-1111-1111-1111-111111111111',
  tenantId: 'contoso.onmicrosoft.com',
  Connections__serviceConnection__Settings__ClientId: '22222222-2222-2222-2222-222222222222',
  Connections__serviceConnection__Settings__TenantId: 'fabrikam.onmicrosoft.com',
};

describe('the SDK’s settings', () => {
  let saved: Record<string, string | undefined>;
  beforeAll(() => {
    saved = Object.fromEntries(Object.keys(STRAY).map((k) => [k, process.env[k]]));
    Object.assign(process.env, STRAY);
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it.each([
    ['MultiTenant', undefined],
    ['SingleTenant', '72f988bf-86f1-41af-91ab-2d7cd011db47'],
  ] as const)('a %s bot trusts tokens for its own app id only, whatever clientId or Connections__ variables say', (appType, appTenantId) => {
    const { adapter } = createTeamsTransport({ appId: APP_ID, appPassword: 'not-a-real-secret', appType, appTenantId }, { targets: DEFAULT_TARGETS });
    expect(adapter.getClientId()).toBe(APP_ID);
    const connection = adapter.connectionManager.getDefaultConnection().connectionSettings;
    expect(connection).toMatchObject({ clientId: APP_ID, clientSecret: 'not-a-real-secret' });
    expect(connection?.tenantId).toBe(appTenantId);
  });

  it('without an app id the endpoint stays anonymous (loopback only) rather than taking a stray clientId', () => {
    const { adapter } = createTeamsTransport({ appType: 'MultiTenant' }, { targets: DEFAULT_TARGETS });
    expect(adapter.getClientId()).toBeUndefined();
  });
});
