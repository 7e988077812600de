// Composition root as a function, so `npm start` and the tests build the same bot:
// config → store → azure gateway → workflow → channels → one HTTP server.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import express from 'express';
import type { Config } from './config';
import { type ArmGateway, isArmError } from './azure/port';
import { defaultAzureCredential, SdkArmGateway, staticTokenCredential } from './azure/sdk-gateway';
import { createSlackChannel } from './chat/slack/channel';
import { createTeamsChannel } from './chat/teams/channel';
import { createLog, type Log } from './log';
import { Metrics } from './metrics';
import { startSimulator, type Simulator } from './simulator';
import { Store } from './store/store';
import { JobRunner } from './workflow/jobs';
import { loadPolicy, type Policy } from './workflow/policy';
import { Workflow } from './workflow/service';

export interface AppOptions {
  config: Config;
  now?: () => Date;
  /** Use this simulator instead of starting one (tests share one per file). */
  simulator?: Simulator;
  store?: Store;
  policy?: Policy;
  log?: Log;
  /** Gateway options for tests (fast polls, few retries). */
  armTuning?: { maxRetries?: number; retryDelayMs?: number; defaultPollMs?: number };
}

export interface App {
  url: string;
  server: Server;
  store: Store;
  arm: ArmGateway;
  workflow: Workflow;
  jobs: JobRunner;
  simulator?: Simulator;
  close(): Promise<void>;
}

export async function createApp(opts: AppOptions): Promise<App> {
  const { config } = opts;
  const log = opts.log ?? createLog(config.logLevel);
  const policy = opts.policy ?? loadPolicy(config.policyFile);

  let simulator = opts.simulator;
  const external = config.azure.mode === 'simulator' ? config.azure.external : undefined;
  const ownsSimulator = !simulator && config.azure.mode === 'simulator' && !external;
  if (ownsSimulator) {
    simulator = await startSimulator({ port: config.azure.mode === 'simulator' ? config.azure.simulatorPort : 0, tlsDir: `${config.dataDir}/simulator-tls` });
  }
  const tuning = { timeoutMs: config.armTimeoutMs, ...opts.armTuning };
  const arm = new SdkArmGateway(
    simulator
      ? { endpoint: simulator.endpoint, ca: simulator.ca, credential: staticTokenCredential(), ...tuning }
      : external
        ? // A simulator in another process (it accepts any bearer token): survives bot restarts.
          { endpoint: external.endpoint, ca: external.caFile ? readFileSync(external.caFile, 'utf8') : undefined, credential: staticTokenCredential(), ...tuning }
        : {
            endpoint: config.azure.mode === 'azure' ? config.azure.endpoint : '',
            ca: config.azure.mode === 'azure' && config.azure.caFile ? readFileSync(config.azure.caFile, 'utf8') : undefined,
            credential: defaultAzureCredential(),
            ...tuning,
          },
  );

  const store =
    opts.store ?? (await Store.open(config.database.kind === 'postgres' ? { kind: 'postgres', url: config.database.url } : { kind: 'pglite', dataDir: config.database.dataDir }, opts.now));
  const jobs = new JobRunner((key, e) => log('error', 'background job failed', { job: key, error: (e as Error).stack ?? String(e) }));

  const teams = config.teamsEnabled ? createTeamsChannel(config.teams, { arm, jobs, log }) : undefined;
  const slack = config.slack ? createSlackChannel(config.slack, { arm, jobs, log, now: opts.now ? () => opts.now!().getTime() : undefined }) : undefined;
  const workflow = new Workflow({
    store,
    arm,
    policy,
    jobs,
    notifiers: { ...(teams ? { teams: teams.notifier } : {}), ...(slack ? { slack: slack.notifier } : {}) },
    now: opts.now,
    expiryWarningDays: config.keyExpiryWarningDays,
    log,
  });
  teams?.attach(workflow);
  slack?.attach(workflow);
  // Work a previous process left half-done is finished (never written twice).
  const recovered = await workflow.recover();
  if (recovered) log('info', 'resuming interrupted executions', { count: recovered });
  // Waiting requests end when their time is up, and say so, even if nobody touches them.
  const sweep = setInterval(() => {
    workflow.expireDue().catch((e) => log('warn', 'expiry sweep failed', { error: (e as Error).message }));
  }, 60_000);
  sweep.unref();

  const metrics = new Metrics({ cmk_jobs_running: { help: 'Background jobs (checks, ARM writes, polling) running now.', read: () => jobs.size } });
  arm.onCall((c) => {
    metrics.armCalls.inc({ method: c.method, status: String(c.status) });
    metrics.armLatency.observe({ method: c.method }, c.durationMs / 1000);
  });
  workflow.onChecks((results) => results.forEach((r) => metrics.checkOutcomes.inc({ check: r.id, status: r.status })));

  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    // Route, not URL: request ids and resource ids would make unbounded label sets.
    res.on('finish', () => metrics.httpRequests.inc({ route: req.route?.path ?? 'unmatched', method: req.method, status: String(res.statusCode) }));
    next();
  });
  app.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4').send(metrics.render());
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready = the database answers and ARM answers (any HTTP answer, even 401/404, means reachable).
  app.get('/readyz', async (_req, res) => {
    const probe = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
        return 'ok';
      } catch (e) {
        return isArmError(e) && e.status > 0 ? 'ok' : `unavailable: ${(e as Error).message.slice(0, 200)}`;
      }
    };
    const [database, arm_] = await Promise.all([probe(() => store.db.query('SELECT 1')), probe(() => arm.list('/subscriptions', '2022-12-01'))]);
    const ok = database === 'ok' && arm_ === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', database, arm: arm_ });
  });
  teams?.mount(app);
  slack?.mount(app);
  // Malformed or oversized bodies: a clear 4xx, never a stack trace.
  app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log('error', 'request failed', { error: err.stack ?? String(err) });
    res.status(status).json({ error: status === 413 ? 'Request body too large.' : status === 400 ? 'Request body is not valid JSON.' : 'Internal error.' });
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  return {
    url,
    server,
    store,
    arm,
    workflow,
    jobs,
    simulator,
    async close() {
      clearInterval(sweep);
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await closed;
      await jobs.drain();
      if (!opts.store) await store.close();
      if (ownsSimulator) await simulator?.close();
    },
  };
}
