// deploy/azure/main.json against what it deploys for: the role it creates and assigns is exactly
// deploy/cmk-chatops-role.json (the template has no action list of its own: the documented
// command passes the file), at exactly the scopes the operator names; the container's
// environment is one src/config.ts reads and accepts as a production Azure configuration, with
// every secret a Key Vault reference resolved by the bot's identity; and the checks of
// `npm run template:check` hold and catch what they say they catch. Pure: no Azure, no network.
import { readFileSync } from 'node:fs';
import { envSchema, loadConfig } from '../../src/config';
import {
  API_VERSIONS_FILE,
  EXAMPLE_PARAMETERS_FILE,
  FILE_PARAMETERS,
  TEMPLATE_FILE,
  TemplateScope,
  Unresolved,
  checkAll,
  isObject,
  loadJson,
  mainScope,
  nested,
  nestedScope,
  parseExpression,
  validateParametersFile,
  validateTemplate,
  type ApiVersionList,
  type JsonObject,
} from '../../scripts/validate-template';
import { productionNodeMajor } from '../../scripts/production-node';

const template = loadJson(TEMPLATE_FILE) as JsonObject;
const templateText = readFileSync(TEMPLATE_FILE, 'utf8');
const role = loadJson('deploy/cmk-chatops-role.json') as JsonObject;
const apiVersions = loadJson(API_VERSIONS_FILE) as ApiVersionList;
const resources = (tpl: JsonObject): JsonObject[] => (Array.isArray(tpl.resources) ? tpl.resources.filter(isObject) : []);
const resourceOf = (tpl: JsonObject, type: string): JsonObject => {
  const found = resources(tpl).filter((r) => r.type === type);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const obj = (v: unknown): JsonObject => {
  expect(isObject(v)).toBe(true);
  return isObject(v) ? v : {};
};
const arr = (v: unknown): unknown[] => {
  expect(Array.isArray(v)).toBe(true);
  return Array.isArray(v) ? v : [];
};
/** What the base deployment hands on, as the placeholder the evaluator leaves for it. */
const baseOutput = (v: unknown, output: string) => v instanceof Unresolved && v.text.endsWith(`/deployments/cmk-chatops-base).outputs.${output}.value`);

/**
 * Variables the template sets that src/config.ts does not read yet. Each one names the bot change
 * it waits for (docs/deploy.md); once config.ts reads it, the test below fails until it is taken
 * off this list. None today: DATABASE_AUTH=entra is read (Entra token passwords for PostgreSQL).
 */
const AWAITING_BOT_SUPPORT: Record<string, string> = {};

/** Secret values an operator would keep in Key Vault, by the container app's secret name. */
const SAMPLE_SECRETS: Record<string, string> = {
  'slack-signing-secret': 'sample-signing-secret',
  'slack-bot-token': 'xoxb-sample-token',
  'microsoft-app-password': 'sample-client-secret',
};

interface ContainerEnv {
  env: Record<string, string>;
  raw: Array<{ name: string; value?: unknown; secretRef?: string }>;
  secrets: JsonObject[];
  app: JsonObject;
  appScope: TemplateScope;
}

/** The container app's environment as Container Apps would hand it to the bot, for these parameters. */
function containerEnv(overrides: Record<string, unknown> = {}): ContainerEnv {
  const { scope: appScope } = nested(mainScope(template, overrides), 'cmk-chatops-app');
  const raw = arr(appScope.variable('env')).map((e) => obj(e) as { name: string; value?: unknown; secretRef?: string });
  const secrets = arr(appScope.variable('secrets')).map(obj);
  const env: Record<string, string> = {};
  for (const e of raw) {
    if (e.secretRef !== undefined) {
      const secret = secrets.find((s) => s.name === e.secretRef);
      expect(secret).toBeDefined();
      env[e.name] = SAMPLE_SECRETS[e.secretRef]!;
    } else env[e.name] = String(e.value);
  }
  const app = obj(appScope.evaluate(resourceOf(appScope.template, 'Microsoft.App/containerApps')));
  return { env, raw, secrets, app, appScope };
}

describe('deploy/azure/main.json: the cmk-chatops role', () => {
  const main = mainScope(template);
  const definition = obj(main.evaluate(resourceOf(template, 'Microsoft.Authorization/roleDefinitions')));
  const props = obj(definition.properties);

  it('creates the role from deploy/cmk-chatops-role.json, action for action', () => {
    const permissions = arr(props.permissions);
    expect(permissions).toHaveLength(1);
    expect(permissions[0]).toEqual({ actions: role.Actions, notActions: role.NotActions, dataActions: role.DataActions, notDataActions: role.NotDataActions });
    expect(props.roleName).toBe(role.Name);
    expect(props.description).toBe(role.Description);
    expect(props.type).toBe('CustomRole');
    // A field the template does not carry over (a condition, say) must not be added to the file unnoticed.
    expect(Object.keys(role).sort()).toEqual(['Actions', 'AssignableScopes', 'DataActions', 'Description', 'IsCustom', 'Name', 'NotActions', 'NotDataActions']);
    expect(role.IsCustom).toBe(true);
  });

  it('has one source of truth: no action list in the template, the role file passed by the documented command', () => {
    const actionLike = /"Microsoft\.[A-Za-z]+\/[A-Za-z/]+\/(read|write|delete|action)"/;
    expect(templateText).not.toMatch(actionLike);
    expect(FILE_PARAMETERS).toEqual({ roleDefinition: 'deploy/cmk-chatops-role.json' });
    for (const doc of ['docs/deploy.md', 'deploy/README.md']) {
      const text = readFileSync(doc, 'utf8');
      const command = /az deployment sub create[^\n]*(?:\\\n[^\n]*)*/.exec(text)?.[0] ?? '';
      expect(command).toContain(`--template-file ${TEMPLATE_FILE}`);
      expect(command).toContain('roleDefinition=@deploy/cmk-chatops-role.json');
    }
    const example = obj(obj(loadJson(EXAMPLE_PARAMETERS_FILE)).parameters);
    expect(Object.keys(example)).not.toContain('roleDefinition');
  });

  it('assigns it to the bot identity at exactly the subscriptions and resource groups the operator names', () => {
    const subs = ['aaaaaaaa-0000-0000-0000-000000000001', 'aaaaaaaa-0000-0000-0000-000000000002'];
    const groups = ['/subscriptions/bbbbbbbb-0000-0000-0000-000000000003/resourceGroups/rg-keys', '/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-app'];
    const scope = mainScope(template, { roleAssignmentSubscriptionIds: subs, roleAssignmentResourceGroupIds: groups });
    const loops = resources(template).filter((r) => r.type === 'Microsoft.Resources/deployments' && isObject(r.copy));
    expect(loops).toHaveLength(2);
    const targets: string[] = [];
    for (const loop of loops) {
      const copy = obj(loop.copy);
      const count = Number(scope.evaluate(copy.count));
      for (let k = 0; k < count; k++) {
        const at = scope.withCopyIndex(String(copy.name), k);
        const sub = String(at.evaluate(loop.subscriptionId));
        const rg = loop.resourceGroup === undefined ? undefined : String(at.evaluate(loop.resourceGroup));
        targets.push(rg ? `/subscriptions/${sub}/resourceGroups/${rg}` : `/subscriptions/${sub}`);
        // What the nested deployment creates there: one assignment of this role to the bot's identity.
        const inner = nestedScope(at, loop);
        const assignment = obj(inner.evaluate(resourceOf(inner.template, 'Microsoft.Authorization/roleAssignments')));
        const p = obj(assignment.properties);
        expect(p.roleDefinitionId).toBe(`/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${String(definition.name)}`);
        expect(baseOutput(p.principalId, 'principalId')).toBe(true);
        expect(p.principalType).toBe('ServicePrincipal');
        expect(arr(loop.dependsOn).map((d) => String(scope.evaluate(d)))).toContain(`/subscriptions/${scope.scope.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${String(definition.name)}`);
      }
    }
    expect(targets.sort()).toEqual([...subs.map((s) => `/subscriptions/${s}`), ...groups].sort());
    // The role can be assigned wherever it is assigned.
    const assignable = arr(scope.variable('assignableScopes'));
    for (const t of targets) expect(assignable.some((a) => t === a || t.startsWith(`${String(a)}/`))).toBe(true);
  });

  it('assigns nothing when no scope is named (the identity then has only Key Vault Secrets User on its own vault)', () => {
    const scope = mainScope(template, { roleAssignmentSubscriptionIds: [], roleAssignmentResourceGroupIds: [] });
    for (const loop of resources(template).filter((r) => isObject(r.copy))) expect(scope.evaluate(obj(loop.copy).count)).toBe(0);
  });
});

describe('deploy/azure/main.json: the container app and src/config.ts', () => {
  const schemaKeys = Object.keys(envSchema.shape);

  it('sets only variables the bot reads (or ones listed as awaiting the bot, which it must not read yet)', () => {
    for (const variant of [{}, { slackEnabled: false }, { botAppType: 'SingleTenant', botAppId: 'app-registration-id' }]) {
      const { raw } = containerEnv(variant);
      const names = raw.map((e) => e.name);
      expect(new Set(names).size).toBe(names.length);
      expect(names.filter((n) => !schemaKeys.includes(n) && !(n in AWAITING_BOT_SUPPORT))).toEqual([]);
    }
    // Once the bot reads one of them, it is no longer awaited: take it off the list.
    expect(Object.keys(AWAITING_BOT_SUPPORT).filter((n) => schemaKeys.includes(n))).toEqual([]);
  });

  it.each([
    ['Teams (managed identity) and Slack', {}],
    ['Teams only', { slackEnabled: false }],
    ['Teams with an app registration', { botAppType: 'SingleTenant', botAppId: 'app-registration-id', slackEnabled: false }],
  ])('%s: the configuration loads as production Azure, PostgreSQL, Teams authenticated', (_label, overrides: Record<string, unknown>) => {
    const { env, raw, app } = containerEnv(overrides);
    // The image sets NODE_ENV=production (Dockerfile); production start-up checks key on it.
    const config = loadConfig({ ...env, NODE_ENV: 'production' });
    expect(config.azure.mode).toBe('azure');
    // Passwordless: the bot logs in to PostgreSQL with its identity's token (DATABASE_AUTH=entra).
    expect(config.database).toMatchObject({ kind: 'postgres', auth: 'entra' });
    expect(env.DATABASE_AUTH).toBe('entra');
    expect(config.host).toBe('0.0.0.0');
    expect(config.teamsEnabled).toBe(true);
    expect(config.teams.appId).toBeDefined();
    expect(config.teams.appTenantId).toBeDefined();
    const slack = overrides.slackEnabled !== false;
    expect(config.slack !== undefined).toBe(slack);

    const byName = Object.fromEntries(raw.map((e) => [e.name, e]));
    expect(baseOutput(byName.AZURE_CLIENT_ID?.value, 'clientId')).toBe(true);
    expect(baseOutput(byName.MicrosoftAppTenantId?.value, 'tenantId')).toBe(true);
    if (overrides.botAppType === 'SingleTenant') {
      expect(config.teams.appType).toBe('SingleTenant');
      expect(config.teams.appId).toBe('app-registration-id');
      expect(byName.MicrosoftAppPassword?.secretRef).toBe('microsoft-app-password');
    } else {
      expect(config.teams.appType).toBe('UserAssignedMSI');
      expect(baseOutput(byName.MicrosoftAppId?.value, 'clientId')).toBe(true);
      expect(byName.MicrosoftAppPassword).toBeUndefined();
    }
    // Secrets never appear as values: only as references.
    for (const name of ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'MicrosoftAppPassword']) if (byName[name]) expect(byName[name]).toEqual({ name, secretRef: expect.any(String) });

    // Ingress, probes and PORT agree.
    const props = obj(app.properties);
    const ingress = obj(obj(props.configuration).ingress);
    expect(String(ingress.targetPort)).toBe(String(config.port));
    expect(ingress.external).toBe(true);
    const container = obj(arr(obj(props.template).containers)[0]);
    const probes = arr(container.probes).map(obj);
    expect(probes.map((p) => [p.type, obj(p.httpGet).path, obj(p.httpGet).port])).toEqual([
      ['Liveness', '/healthz', config.port],
      ['Readiness', '/readyz', config.port],
    ]);
    expect(obj(app.identity).type).toBe('UserAssigned');
  });

  it('resolves every secret from the Key Vault with the bot identity, and the base deployment stores exactly those secrets', () => {
    const { secrets, raw, appScope } = containerEnv({ botAppType: 'SingleTenant', botAppId: 'x' });
    const identity = appScope.parameter('identityId');
    expect(baseOutput(identity, 'identityId')).toBe(true);
    expect(secrets.map((s) => s.name).sort()).toEqual(raw.flatMap((e) => (e.secretRef ? [e.secretRef] : [])).sort());
    for (const s of secrets) {
      expect(Object.keys(s).sort()).toEqual(['identity', 'keyVaultUrl', 'name']);
      expect(s.identity).toBe(identity);
      expect(String(s.keyVaultUrl)).toMatch(/outputs\.vaultUri\.value\}secrets\/[a-z-]+$/);
      expect(String(s.keyVaultUrl).endsWith(`secrets/${String(s.name)}`)).toBe(true);
    }
    const { scope: base } = nested(mainScope(template, { botAppType: 'SingleTenant', microsoftAppPassword: 'pw' }), 'cmk-chatops-base');
    const stored = resources(base.template)
      .filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets' && base.evaluate(r.condition) === true)
      .map((r) => String(base.evaluate(r.name)).split('/')[1]);
    expect(stored.sort()).toEqual(secrets.map((s) => String(s.name)).sort());
    // The identity may read the vault's secrets (Key Vault Secrets User on that vault, nothing wider).
    const grant = obj(base.evaluate(resourceOf(base.template, 'Microsoft.Authorization/roleAssignments')));
    expect(grant.scope).toBe(`Microsoft.KeyVault/vaults/${String(base.parameter('vaultName'))}`);
    expect(String(obj(grant.properties).roleDefinitionId)).toMatch(/\/roleDefinitions\/4633458b-17de-408a-b874-0445c86b69e6$/);
  });

  it('connects to PostgreSQL as the identity that is its Entra administrator, with password authentication off', () => {
    const { env, appScope } = containerEnv();
    const url = new URL(env.DATABASE_URL!);
    expect(url.password).toBe('');
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    const admins = arr(appScope.variable('postgresAdmins')).map(obj);
    expect(admins[0]).toMatchObject({ principalName: decodeURIComponent(url.username), principalType: 'ServicePrincipal' });
    expect(baseOutput(admins[0]!.objectId, 'principalId')).toBe(true);
    const { scope: base } = nested(mainScope(template), 'cmk-chatops-base');
    const server = obj(base.evaluate(resourceOf(base.template, 'Microsoft.DBforPostgreSQL/flexibleServers')));
    expect(obj(obj(server.properties).authConfig)).toMatchObject({ activeDirectoryAuth: 'Enabled', passwordAuth: 'Disabled' });
  });

  it('registers the Azure Bot single tenant, at the container app, with the Teams channel', () => {
    // Never MultiTenant: the template offers only the single-tenant kinds, defaulting to the managed identity.
    const param = obj(obj(template.parameters).botAppType);
    expect(param.allowedValues).toEqual(['UserAssignedMSI', 'SingleTenant']);
    expect(param.defaultValue).toBe('UserAssignedMSI');
    for (const botAppType of ['UserAssignedMSI', 'SingleTenant']) {
      const { appScope, env } = containerEnv({ botAppType, botAppId: 'app-registration-id' });
      const bot = obj(appScope.evaluate(resourceOf(appScope.template, 'Microsoft.BotService/botServices')));
      const p = obj(bot.properties);
      expect(p.msaAppType).toBe(botAppType);
      expect(String(p.msaAppId)).toBe(env.MicrosoftAppId);
      expect(String(p.msaAppTenantId)).toBe(env.MicrosoftAppTenantId);
      expect(p.endpoint).toBe(`${env.PUBLIC_BASE_URL}/api/messages`);
      if (botAppType === 'UserAssignedMSI') expect(baseOutput(p.msaAppMSIResourceId, 'identityId')).toBe(true);
      const channel = obj(appScope.evaluate(resourceOf(appScope.template, 'Microsoft.BotService/botServices/channels')));
      expect(obj(channel.properties).channelName).toBe('MsTeamsChannel');
    }
  });
});

describe('the production process: Dockerfile, npm run start:prod and the container', () => {
  it('starts node dist/main.js with the same V8 heap bound everywhere, at most a quarter of the container memory', () => {
    const dockerCmd = /^CMD (\[.*\])\s*$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(dockerCmd).toBeDefined();
    const image = JSON.parse(dockerCmd!) as string[];
    const scripts = (loadJson('package.json') as { scripts: Record<string, string> }).scripts;
    const startProd = scripts['start:prod']!.split(' ');
    expect(image).toEqual(startProd);
    expect(image.at(-1)).toBe('dist/main.js');
    const heapMB = Number(/^--max-old-space-size=(\d+)$/.exec(image.find((a) => a.startsWith('--max-old-space-size=')) ?? '')?.[1]);
    expect(heapMB).toBeGreaterThan(0);
    const { app } = containerEnv();
    const container = obj(arr(obj(obj(app.properties).template).containers)[0]);
    const memory = String(obj(container.resources).memory);
    const memoryMB = Number(/^(\d+(?:\.\d+)?)Gi$/.exec(memory)?.[1]) * 1024;
    expect(heapMB).toBeLessThanOrEqual(memoryMB / 4);
  });

  it('builds and runs every stage on the one Node.js major the CI production start runs (the Dockerfile ARG NODE_MAJOR), an LTS major newer than 20', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    // CI's production start and the benchmarks read the major through this one reader.
    const major = Number(productionNodeMajor());
    // Even majors are Node.js's LTS lines; 20 reached its end of life on 2026-04-30.
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThan(20);
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(stages).toHaveLength(3);
    for (const from of stages) expect(from).toBe('node:${NODE_MAJOR}-bookworm-slim');
    expect(readFileSync('scripts/ci-production-start.sh', 'utf8')).toMatch(/^RUNTIME_NODE=\$\(npx --no-install tsx scripts\/production-node\.ts /m);
  });
});

describe('npm run template:check', () => {
  it('passes on the template and the example parameters', () => {
    expect(checkAll()).toEqual([]);
  });

  it('cites a REST spec file of the same version for every resource type the template uses', () => {
    const used = new Set<string>();
    const walk = (tpl: JsonObject) => {
      for (const r of resources(tpl)) {
        used.add(`${String(r.type)}@${String(r.apiVersion)}`);
        if (isObject(r.properties) && isObject(r.properties.template)) walk(r.properties.template);
      }
    };
    walk(template);
    expect([...used].sort()).toEqual(
      Object.entries(apiVersions.types)
        .map(([t, v]) => `${t}@${v.apiVersion}`)
        .sort(),
    );
    for (const v of Object.values(apiVersions.types)) expect(v.spec).toMatch(new RegExp(`^specification/[a-z]+/resource-manager/Microsoft\\.[A-Za-z]+/stable/${v.apiVersion}/[A-Za-z-]+\\.json$`));
  });

  const problemsAfter = (edit: (t: JsonObject) => void): string[] => {
    const t = structuredClone(template);
    edit(t);
    return validateTemplate(mainScope(t), apiVersions);
  };
  const appTemplate = (t: JsonObject) => obj(obj(resources(t).find((r) => r.name === 'cmk-chatops-app')!.properties).template);

  it.each<[string, (t: JsonObject) => void, RegExp]>([
    ['an undeclared parameter', (t) => (obj(t.variables).identityName = "[format('id-{0}', parameters('namePrefx'))]"), /parameters\('namePrefx'\) is not declared/],
    ['an undeclared variable', (t) => (obj(t.variables).identityName = "[variables('nope')]"), /variables\('nope'\) is not declared/],
    ['an unused parameter', (t) => (obj(t.parameters).spare = { type: 'string', defaultValue: '' }), /parameter spare is declared but never used/],
    ['an unbalanced expression', (t) => (obj(t.variables).identityName = "[format('id-{0}', parameters('namePrefix')]"), /expected "\)"/],
    ['an unterminated string', (t) => (obj(t.variables).identityName = "[format('id-{0}, parameters('namePrefix'))]"), /expected "\)"|unterminated string|unexpected/],
    ['a function ARM does not have', (t) => (obj(t.variables).identityName = "[lower(parameters('namePrefix'))]"), /unknown function lower\(\)/],
    ['an api-version not in the cited list', (t) => (resourceOf(appTemplate(t), 'Microsoft.BotService/botServices').apiVersion = '2021-03-01'), /botServices@2021-03-01: api-versions.json lists 2022-09-15/],
    ['a dependsOn that names nothing', (t) => (resourceOf(appTemplate(t), 'Microsoft.App/containerApps').dependsOn = ['postgresAdmins']), /dependsOn "postgresAdmins" names no resource/],
    ['a nested deployment missing a parameter', (t) => delete obj(obj(resources(t).find((r) => r.name === 'cmk-chatops-app')!.properties).parameters).image, /parameter image is not passed and has no default/],
    ['a nested template in the outer scope', (t) => (obj(resources(t).find((r) => r.name === 'cmk-chatops-app')!.properties).expressionEvaluationOptions = { scope: 'outer' }), /own scope/],
  ])('catches %s', (_label, edit, message) => {
    expect(problemsAfter(edit).join('\n')).toMatch(message);
  });

  it('checks the parameters file: declared names, allowed values, no secrets, required ones present', () => {
    const file = loadJson(EXAMPLE_PARAMETERS_FILE) as JsonObject;
    const withParams = (p: JsonObject) => ({ ...file, parameters: { ...obj(file.parameters), ...p } });
    expect(validateParametersFile(template, file)).toEqual([]);
    expect(validateParametersFile(template, withParams({ botAppType: { value: 'MultiTenant' } }))).toEqual([expect.stringMatching(/botAppType: "MultiTenant" is not one of/)]);
    expect(validateParametersFile(template, withParams({ slackBotToken: { value: 'placeholder-not-a-token' } }))).toEqual([expect.stringMatching(/pass secure values on the command line/)]);
    expect(validateParametersFile(template, withParams({ imagee: { value: 'x' } }))).toEqual([expect.stringMatching(/imagee is not declared/)]);
    const { image: _image, ...rest } = obj(file.parameters);
    expect(validateParametersFile(template, { ...file, parameters: rest })).toEqual(['required parameter image is missing']);
  });

  it('parses the expression language as ARM writes it', () => {
    expect(parseExpression("concat('it''s', variables('a')[0].b)")).toEqual({
      kind: 'call',
      name: 'concat',
      args: [
        { kind: 'string', value: "it's" },
        { kind: 'member', property: 'b', target: { kind: 'index', index: { kind: 'number', value: 0 }, target: { kind: 'call', name: 'variables', args: [{ kind: 'string', value: 'a' }] } } },
      ],
    });
    expect(() => parseExpression("concat('a'")).toThrow(/expected "\)"/);
    expect(() => parseExpression("concat('a'))")).toThrow(/unexpected text/);
  });
});
