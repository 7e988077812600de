// The only reader of process.env. Parsed once at start; a bad value stops start-up with the
// variable's name, so a typo never turns into a half-configured bot.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const intIn = (min: number, max: number, dflt: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return dflt;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

export const envSchema = z.object({
  /** production: the built artifact in a real deployment — Azure must be configured (no embedded simulator). */
  NODE_ENV: optionalString,
  PORT: intIn(0, 65535, 3978),
  HOST: z.string().optional().default('127.0.0.1'),
  PUBLIC_BASE_URL: optionalString,
  MicrosoftAppId: optionalString,
  MicrosoftAppPassword: optionalString,
  MicrosoftAppType: z
    .enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI'])
    .optional()
    // Single tenant: the bot answers only tokens issued for its own tenant (Azure Bot's default
    // since multi-tenant bot creation was deprecated); MultiTenant must be chosen on purpose.
    .default('SingleTenant'),
  MicrosoftAppTenantId: optionalString,
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  DATABASE_POOL_MAX: intIn(1, 200, 10),
  /** password: the one in DATABASE_URL; entra: the Azure identity's access token, fetched for each new connection (Azure Database for PostgreSQL). */
  DATABASE_AUTH: z.enum(['password', 'entra']).optional().default('password'),
  DATA_DIR: z.string().optional().default('.data'),
  AZURE_MODE: z.enum(['auto', 'simulator', 'azure']).optional().default('auto'),
  ARM_ENDPOINT: optionalString.refine((v) => v === undefined || /^https:\/\//.test(v), {
    message: 'must be an https:// URL (the Azure SDK refuses plain http)',
  }),
  ARM_CA_FILE: optionalString,
  /** Microsoft Graph, for group memberships behind vault access policies (azure mode; default https://graph.microsoft.com). */
  GRAPH_ENDPOINT: optionalString.refine((v) => v === undefined || /^https:\/\//.test(v), { message: 'must be an https:// URL' }),
  AZURE_CLIENT_ID: optionalString,
  AZURE_TENANT_ID: optionalString,
  AZURE_FEDERATED_TOKEN_FILE: optionalString,
  IDENTITY_ENDPOINT: optionalString,
  SIMULATOR_PORT: intIn(0, 65535, 0),
  POLICY_FILE: z.string().optional().default('policy/local.policy.yaml'),
  KEY_EXPIRY_WARNING_DAYS: intIn(0, 3650, 30),
  ARM_TIMEOUT_MS: intIn(100, 300000, 30000),
  ARM_MAX_RETRIES: intIn(0, 10, 4),
  ARM_RETRY_DELAY_MS: intIn(1, 60000, 800),
  JOB_LEASE_MS: intIn(500, 600000, 30000),
  JOB_POLL_MS: intIn(20, 60000, 500),
  SHUTDOWN_GRACE_MS: intIn(0, 300000, 10000),
  FORM_CHOICES_TTL_MS: intIn(0, 3600000, 30000),
  /** Minutes between scheduled watchdog scans of every watch (0: only `scan now` and Key Vault events). */
  WATCH_INTERVAL: intIn(0, 7 * 24 * 60, 60),
  TEAMS_ENABLED: z.enum(['true', 'false']).optional().default('true'),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_BOT_TOKEN: optionalString.refine((v) => v === undefined || /^xox[bp]-/.test(v), { message: 'must be a bot token (xoxb-…)' }),
  SLACK_API_URL: z
    .string()
    .optional()
    .default('https://slack.com/api/')
    .refine((v) => /^https?:\/\/.+\/$/.test(v), { message: 'must be a URL ending in / (e.g. https://slack.com/api/)' }),
  /** Key Vault events from Event Grid (POST /events/eventgrid): the shared secret Event Grid sends as `?code=`. */
  EVENT_GRID_WEBHOOK_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, { message: 'must be at least 16 characters (it is the only thing between the internet and the endpoint)' }),
  /** …or Event Grid's Microsoft Entra authentication: the app id URI or client id its tokens are issued for. */
  EVENT_GRID_AUDIENCE: optionalString,
  /** The Entra tenant (GUID) that issues those tokens. */
  EVENT_GRID_TENANT_ID: optionalString.refine((v) => v === undefined || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v), { message: 'must be the tenant id (a GUID)' }),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional().default('info'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  host: string;
  publicBaseUrl?: string;
  teams: {
    appId?: string;
    appPassword?: string;
    appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
    appTenantId?: string;
  };
  database: { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string; poolMax: number; /** entra: the password is the Azure identity's token (src/azure/postgres-token.ts). */ auth: 'password' | 'entra' };
  dataDir: string;
  azure:
    | { mode: 'simulator'; simulatorPort: number; /** A simulator running elsewhere (npm run simulator), not embedded. */ external?: { endpoint: string; caFile?: string } }
    | { mode: 'azure'; endpoint: string; caFile?: string; graphEndpoint?: string };
  slack?: { signingSecret: string; botToken: string; apiUrl: string };
  teamsEnabled: boolean;
  policyFile: string;
  keyExpiryWarningDays: number;
  armTimeoutMs: number;
  /** Retries of one ARM call (408/429/5xx, dropped connections, timeouts) and the first backoff. */
  armRetries: { max: number; delayMs: number };
  /** Durable jobs: how long a claim lasts without a heartbeat, and how often replicas look for work. */
  jobs: { leaseMs: number; pollMs: number };
  /** On SIGTERM: how long in-flight jobs may run before they are handed back to the queue. */
  shutdownGraceMs: number;
  /** How long the form pickers read from ARM are reused (0: read for every form). */
  formChoicesTtlMs: number;
  /** Watchdog scans every this many milliseconds (0: not on a schedule). */
  watchIntervalMs: number;
  /** POST /events/eventgrid; absent (the endpoint off) unless a secret or an Entra audience is set. */
  eventGrid?: { secret?: string; audience?: string; tenantId?: string };
  logLevel: Env['LOG_LEVEL'];
}

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly problems: string[]) {
    super(`Configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * `.env` in the working folder, when there is one (as .env.example invites): each variable it sets
 * that the environment does not is put into the environment — the environment wins. Node's own
 * parser (util.parseEnv, the one behind --env-file). Returns the names it set; none without a file.
 */
export function loadDotEnv(file = '.env', env: Record<string, string | undefined> = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    set.push(name);
  }
  return set;
}

/** The password part of a postgres:// URL ('' when none, or when the URL does not parse: the URL check says so). */
function urlPassword(url: string): string {
  try {
    return new URL(url).password;
  } catch (e) {
    if (e instanceof TypeError) return '';
    throw e;
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.MicrosoftAppId && !e.MicrosoftAppPassword && e.MicrosoftAppType !== 'UserAssignedMSI') {
    problems.push('MicrosoftAppPassword: required when MicrosoftAppId is set (unless MicrosoftAppType=UserAssignedMSI)');
  }
  if (e.MicrosoftAppId && e.MicrosoftAppType !== 'MultiTenant' && !e.MicrosoftAppTenantId) {
    problems.push(`MicrosoftAppTenantId: required when MicrosoftAppType=${e.MicrosoftAppType}${env.MicrosoftAppType ? '' : ' (the default)'}: the bot's Entra tenant id`);
  }
  // "auto": any sign of real Azure credentials or an explicit endpoint means Azure; otherwise
  // the embedded simulator, so `npm start` works on a fresh machine.
  const azureHint = e.ARM_ENDPOINT || e.AZURE_CLIENT_ID || e.AZURE_TENANT_ID || e.AZURE_FEDERATED_TOKEN_FILE || e.IDENTITY_ENDPOINT;
  const mode = e.AZURE_MODE === 'auto' ? (azureHint ? 'azure' : 'simulator') : e.AZURE_MODE;
  if (Boolean(e.SLACK_SIGNING_SECRET) !== Boolean(e.SLACK_BOT_TOKEN)) {
    problems.push(e.SLACK_SIGNING_SECRET ? 'SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET is set' : 'SLACK_SIGNING_SECRET: required when SLACK_BOT_TOKEN is set');
  }
  if (e.EVENT_GRID_AUDIENCE && !e.EVENT_GRID_TENANT_ID) problems.push('EVENT_GRID_TENANT_ID: required when EVENT_GRID_AUDIENCE is set: the Entra tenant whose tokens Event Grid sends');
  if (e.EVENT_GRID_TENANT_ID && !e.EVENT_GRID_AUDIENCE) problems.push('EVENT_GRID_AUDIENCE: required when EVENT_GRID_TENANT_ID is set: the app id URI or client id of the Entra app Event Grid gets tokens for');
  // Unauthenticated Teams (no app id: loopback only) is for local use; the SDK refuses it in production too.
  if (e.NODE_ENV === 'production' && e.TEAMS_ENABLED === 'true' && !e.MicrosoftAppId) {
    problems.push('MicrosoftAppId: required with NODE_ENV=production (Teams requests are checked against it), or set TEAMS_ENABLED=false');
  }
  // Production never starts the embedded simulator (dev tooling, not in the build): a deployment
  // that forgot its Azure identity stops here instead of managing a make-believe tenant.
  if (e.NODE_ENV === 'production' && mode === 'simulator' && !e.ARM_ENDPOINT) {
    problems.push(
      `Azure: not configured, and NODE_ENV=production does not start the embedded Azure simulator${e.AZURE_MODE === 'simulator' ? ' (AZURE_MODE=simulator)' : ''}. ` +
        'Set AZURE_MODE=azure with the identity: AZURE_CLIENT_ID for a user-assigned managed identity (AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE for workload identity; ' +
        'IDENTITY_ENDPOINT is set by the platform for a managed identity) — or, for a test, AZURE_MODE=simulator with ARM_ENDPOINT and ARM_CA_FILE of a simulator started with `npm run simulator`',
    );
  }
  if (e.DATABASE_AUTH === 'entra') {
    // The password is the Azure identity's access token: a password in the URL would be a second,
    // unused secret; without DATABASE_URL or Azure mode there is nothing to log in to, or no identity.
    if (!e.DATABASE_URL) problems.push("DATABASE_URL: required when DATABASE_AUTH=entra (the Azure Database for PostgreSQL server, with the identity's role as the user name)");
    else if (urlPassword(e.DATABASE_URL)) problems.push("DATABASE_URL: must not carry a password when DATABASE_AUTH=entra (the password is the Azure identity's access token); remove it from the URL");
    if (mode !== 'azure')
      problems.push(
        `DATABASE_AUTH: entra needs AZURE_MODE=azure (now ${mode}${e.AZURE_MODE === 'auto' ? ', from AZURE_MODE=auto with no Azure identity set' : ''}): the token comes from the Azure identity (AZURE_CLIENT_ID for a user-assigned managed identity)`,
      );
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    teams: {
      appId: e.MicrosoftAppId,
      appPassword: e.MicrosoftAppPassword,
      appType: e.MicrosoftAppType,
      appTenantId: e.MicrosoftAppTenantId,
    },
    database: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX, auth: e.DATABASE_AUTH } : { kind: 'pglite', dataDir: `${e.DATA_DIR}/pglite` },
    dataDir: e.DATA_DIR,
    azure:
      mode === 'simulator'
        ? { mode: 'simulator', simulatorPort: e.SIMULATOR_PORT, external: e.ARM_ENDPOINT ? { endpoint: e.ARM_ENDPOINT, caFile: e.ARM_CA_FILE } : undefined }
        : { mode: 'azure', endpoint: e.ARM_ENDPOINT ?? 'https://management.azure.com', caFile: e.ARM_CA_FILE, graphEndpoint: e.GRAPH_ENDPOINT ?? 'https://graph.microsoft.com' },
    slack: e.SLACK_SIGNING_SECRET && e.SLACK_BOT_TOKEN ? { signingSecret: e.SLACK_SIGNING_SECRET, botToken: e.SLACK_BOT_TOKEN, apiUrl: e.SLACK_API_URL } : undefined,
    teamsEnabled: e.TEAMS_ENABLED === 'true',
    policyFile: e.POLICY_FILE,
    keyExpiryWarningDays: e.KEY_EXPIRY_WARNING_DAYS,
    armTimeoutMs: e.ARM_TIMEOUT_MS,
    armRetries: { max: e.ARM_MAX_RETRIES, delayMs: e.ARM_RETRY_DELAY_MS },
    jobs: { leaseMs: e.JOB_LEASE_MS, pollMs: e.JOB_POLL_MS },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    formChoicesTtlMs: e.FORM_CHOICES_TTL_MS,
    watchIntervalMs: e.WATCH_INTERVAL * 60_000,
    eventGrid: e.EVENT_GRID_WEBHOOK_SECRET || e.EVENT_GRID_AUDIENCE ? { secret: e.EVENT_GRID_WEBHOOK_SECRET, audience: e.EVENT_GRID_AUDIENCE, tenantId: e.EVENT_GRID_TENANT_ID } : undefined,
    logLevel: e.LOG_LEVEL,
  };
}
