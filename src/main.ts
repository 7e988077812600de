// `npm start`: the bot on embedded defaults (local Azure simulator + PGlite) unless configured otherwise.
// `npm run start:prod` / the container: the same entry point built (node dist/main.js).
import { ConfigError, loadConfig, loadDotEnv } from './config';
import { createApp, PortInUseError } from './app';
import { DataFolderInUseError } from './store/db';
import { PolicyError } from './workflow/policy';

/** Start-up refusals that name their cause: said in one message, exit code 2, no stack trace. */
function refuse(e: unknown): never {
  if (e instanceof ConfigError) process.stderr.write(`${e.message}\nSee .env.example for every variable.\n`);
  else if (e instanceof PolicyError) process.stderr.write(`Policy file problem — ${e.message}\n`);
  else if (e instanceof PortInUseError || e instanceof DataFolderInUseError) process.stderr.write(`cmk-chatops did not start: ${e.message}\n`);
  else throw e;
  process.exit(2);
}

/** How a PGlite data folder came to be, on the start-up banner. */
const CREATED = { existing: '', initdb: ' (new: created by initdb)', template: ' (new: from the build’s empty database)' } as const;

/** The public URL (PUBLIC_BASE_URL) and what to register there with each platform that is on. */
function publicUrl(config: ReturnType<typeof loadConfig>): string[] {
  if (!config.publicBaseUrl) return [];
  const base = config.publicBaseUrl.replace(/\/+$/, '');
  const where = [...(config.teamsEnabled ? [`the Azure Bot’s messaging endpoint: ${base}/api/messages`] : []), ...(config.slack ? [`the Slack app’s request URL: ${base}/slack/events`] : [])];
  return [`  Public URL:       ${base}${where.length ? ` (${where.join('; ')})` : ''}`];
}

async function main() {
  let config;
  let fromDotEnv: string[] = [];
  try {
    fromDotEnv = loadDotEnv();
    config = loadConfig();
  } catch (e) {
    refuse(e);
  }
  let app;
  try {
    app = await createApp({ config });
  } catch (e) {
    refuse(e);
  }
  const lines = [
    `cmk-chatops is listening on ${app.url}`,
    config.teamsEnabled ? `  Teams endpoint:   ${app.url}/api/messages${config.teams.appId ? '' : '  (no MicrosoftAppId: unauthenticated, loopback only)'}` : '  Teams:            off (TEAMS_ENABLED=false)',
    config.slack ? `  Slack endpoint:   ${app.url}/slack/events  (Web API ${config.slack.apiUrl})` : '  Slack:            off (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN)',
    ...publicUrl(config),
    `  Health:           ${app.url}/healthz`,
    `  Azure:            ${app.simulator ? `local simulator at ${app.simulator.endpoint} (CA ${app.simulator.caPath ?? 'in memory'})` : config.azure.mode === 'azure' ? config.azure.endpoint : `external simulator at ${config.azure.external?.endpoint}`}`,
    `  Database:         ${config.database.kind === 'postgres' ? `PostgreSQL (DATABASE_URL${config.database.auth === 'entra' ? ', Entra token login' : ''})` : `embedded PGlite in ${config.database.dataDir}${CREATED[app.store.db.created ?? 'existing']}`}`,
    `  Policy:           ${config.policyFile}`,
    ...(fromDotEnv.length ? [`  Settings:         .env (${fromDotEnv.length} variables it sets and the environment does not)`] : []),
    '',
    'Try it: in another terminal run `npm run playground`, then type `help` or `new fluid-relay`.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: finishing in-flight work and closing…\n`);
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // SIGHUP: read POLICY_FILE again (a bad file keeps the policy in force and says why).
  process.on('SIGHUP', () => {
    try {
      const p = app.reloadPolicy();
      process.stdout.write(`SIGHUP: policy ${config.policyFile} in force (hash ${p.hash.slice(0, 12)}…)\n`);
    } catch (e) {
      process.stderr.write(`SIGHUP: the policy was not changed: ${(e as Error).message}\n`);
    }
  });
}

main().catch((e) => {
  process.stderr.write(`cmk-chatops failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
