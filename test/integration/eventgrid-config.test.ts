// The Event Grid endpoint's settings: off unless a secret or an Entra audience is set; a bad or
// half-given setting stops start-up naming the variable.
import { ConfigError, loadConfig } from '../../src/config';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

describe('Event Grid configuration', () => {
  it('leaves the endpoint off when neither a secret nor an audience is set', () => {
    expect(loadConfig({}).eventGrid).toBeUndefined();
  });

  it('turns it on with a secret, or with an Entra audience and its tenant', () => {
    expect(loadConfig({ EVENT_GRID_WEBHOOK_SECRET: '  0123456789abcdef-long  ' }).eventGrid).toEqual({ secret: '0123456789abcdef-long', audience: undefined, tenantId: undefined });
    expect(loadConfig({ EVENT_GRID_AUDIENCE: 'api://cmk-events', EVENT_GRID_TENANT_ID: TENANT }).eventGrid).toEqual({ secret: undefined, audience: 'api://cmk-events', tenantId: TENANT });
  });

  it.each([
    [{ EVENT_GRID_WEBHOOK_SECRET: 'short' }, /EVENT_GRID_WEBHOOK_SECRET: must be at least 16 characters/],
    [{ EVENT_GRID_AUDIENCE: 'api://cmk-events' }, /EVENT_GRID_TENANT_ID: required when EVENT_GRID_AUDIENCE is set/],
    [{ EVENT_GRID_TENANT_ID: TENANT }, /EVENT_GRID_AUDIENCE: required when EVENT_GRID_TENANT_ID is set/],
    [{ EVENT_GRID_AUDIENCE: 'api://cmk-events', EVENT_GRID_TENANT_ID: 'contoso.onmicrosoft.com' }, /EVENT_GRID_TENANT_ID: must be the tenant id/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
