// Composition root as a function, so `npm start` and the tests build the same bot:
// config → the port → store → azure gateway → workflow → channels → the HTTP servers on the port.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import express from 'express';
import { type Config, ConfigError } from './config';
import { listenShared, type PortReservation, reservePort } from './listen';
import { type ArmCallRecord, type ArmGateway, isArmError } from './azure/port';
import { defaultAzureCredential, SdkArmGateway, staticTokenCredential } from './azure/sdk-gateway';
import { CommandRouter } from './chat/router';
import { createSlackChannel, createSlackTransport } from './chat/slack/channel';
import { createTeamsChannel, createTeamsTransport } from './chat/teams/channel';
import { DEFAULT_TARGETS, type TargetRegistry } from './targets';
import { randomUUID } from 'node:crypto';
import { createLog, type Log, withLogContext } from './log';
import { Metrics } from './metrics';
// Only the type: the simulator is dev tooling, loaded below (dynamic import) when it runs embedded.
import type { Simulator } from './simulator';
import { openStore } from './azure/open-store';
import { Store } from './store/store';
import { FormCatalog } from './workflow/catalog';
import { DurableQueue, type DurableQueueOptions } from './workflow/durable';
import { JobRegistry } from './workflow/job-registry';
import { Inbound } from './workflow/inbound';
import { JobRunner, jobLimitsFor } from './workflow/jobs';
import { loadPolicy, type Policy } from './workflow/policy';
import { Workflow } from './workflow/service';
import { engineScanner, Watchdog } from './workflow/watchdog';
import { createEventGridEndpoint } from './events/eventgrid-endpoint';

export interface AppOptions {
  config: Config;
  now?: () => Date;
  /** Use this simulator instead of starting one (tests share one per file). */
  simulator?: Simulator;
  store?: Store;
  policy?: Policy;
  log?: Log;
  /** Gateway options for tests (fast polls, few retries). */
  armTuning?: { maxRetries?: number; retryDelayMs?: number; defaultPollMs?: number; maxOperationMs?: number };
  /** Durable queue options for tests (lane limits, retry base). */
  queueTuning?: Partial<DurableQueueOptions>;
  /** Resume: how often a resource still provisioning is read again. */
  resumePollMs?: number;
  /** The targets served (default: every built-in one). A test adds one of its own here. */
  targets?: TargetRegistry;
  /** Tests: a local stand-in for the Entra authority (https://login.microsoftonline.com) whose published keys Teams tokens are checked against. */
  teamsAuthorityEndpoint?: string;
  /** Tests: how long one chat request holds back the work after other acks at most (src/workflow/inbound.ts; default 500 ms). */
  chatRequestCountsForMs?: number;
  /** Tests: where the port's lock is taken (src/listen.ts); a path nothing can listen on stands for a sandbox without Unix sockets. */
  portLockPath?: (port: number) => string;
}

export interface App {
  url: string;
  /** The first of the servers listening on the port (src/listen.ts: several share it where the runtime can). */
  server: Server;
  store: Store;
  arm: ArmGateway;
  workflow: Workflow;
  /** In-process chat work that needs no durability (loading modals, ephemeral replies). */
  jobs: JobRunner;
  /** The chat requests being answered now, which that work waits for (src/workflow/inbound.ts). */
  inbound: Inbound;
  /** Durable work in the database, shared by every replica. */
  queue: DurableQueue;
  simulator?: Simulator;
  /**
   * Put a new policy in force (the one given, or POLICY_FILE read again): it decides every later
   * decision and is applied again to approved requests right before their write. A bad file keeps
   * the old policy and throws the PolicyError.
   */
  reloadPolicy(next?: Policy): Policy;
  /** Graceful shutdown: stop taking work, finish or hand back in-flight jobs, close the store. */
  close(): Promise<void>;
}

/** Another process already listens on PORT at HOST. */
export class PortInUseError extends Error {
  readonly code = 'port_in_use';
  constructor(host: string, port: number) {
    super(`Port ${port} on ${host} is already in use (another cmk-chatops, or another program). Stop that process, or set PORT to a free port (0 = any free port).`);
  }
}

/**
 * The embedded Azure simulator, loaded only when it runs: production never loads it, and the build
 * (dist/) and a production install (no node-forge) do not carry it.
 */
async function loadEmbeddedSimulator(): Promise<typeof import('./simulator')> {
  try {
    return await import('./simulator');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new ConfigError([
      `Azure: not configured, and the embedded Azure simulator is development tooling that this build does not contain (${(e as Error).message.split('\n')[0]}). ` +
        'Set AZURE_MODE=azure with the identity (AZURE_CLIENT_ID, …), or ARM_ENDPOINT and ARM_CA_FILE of a simulator started with `npm run simulator`; or run `npm start` in a source checkout',
    ]);
  }
}

export async function createApp(opts: AppOptions): Promise<App> {
  const { config } = opts;
  // The port first (src/listen.ts): a process another bot or program holds the port from opens
  // nothing and claims no job. Where the port is not shared nothing holds it after the check, so
  // the servers can still find it taken later: createAppOn then undoes what it started.
  const reservation = await reservePort(config.host, config.port, undefined, opts.portLockPath).catch((e: unknown) => {
    throw portTaken(config, e);
  });
  try {
    return await createAppOn(opts, reservation);
  } catch (e) {
    await reservation.release();
    throw e;
  }
}

/** The bot's port found taken (EADDRINUSE from its own sockets, not the embedded simulator's): said as a start-up refusal. */
function portTaken(config: Config, e: unknown): unknown {
  return (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PortInUseError(config.host, config.port) : e;
}

async function createAppOn(opts: AppOptions, reservation: PortReservation): Promise<App> {
  const { config } = opts;
  const log = opts.log ?? createLog(config.logLevel);
  const policy = opts.policy ?? loadPolicy(config.policyFile);
  if (reservation.notShared) log('warn', 'the port is not shared', { reason: reservation.notShared });

  let simulator = opts.simulator;
  const external = config.azure.mode === 'simulator' ? config.azure.external : undefined;
  const ownsSimulator = !simulator && config.azure.mode === 'simulator' && !external;
  if (ownsSimulator) {
    const { startSimulator } = await loadEmbeddedSimulator();
    simulator = await startSimulator({ port: config.azure.mode === 'simulator' ? config.azure.simulatorPort : 0, tlsDir: `${config.dataDir}/simulator-tls` });
  }
  const tuning = { timeoutMs: config.armTimeoutMs, maxRetries: config.armRetries.max, retryDelayMs: config.armRetries.delayMs, ...opts.armTuning };
  const armOptions = simulator
    ? // The simulator also answers the Microsoft Graph calls the checks make (group memberships).
      { endpoint: simulator.endpoint, graphEndpoint: simulator.endpoint, ca: simulator.ca, credential: staticTokenCredential(), ...tuning }
    : external
      ? // A simulator in another process (it accepts any bearer token): survives bot restarts.
        { endpoint: external.endpoint, graphEndpoint: external.endpoint, ca: external.caFile ? readFileSync(external.caFile, 'utf8') : undefined, credential: staticTokenCredential(), ...tuning }
      : {
          endpoint: config.azure.mode === 'azure' ? config.azure.endpoint : '',
          graphEndpoint: config.azure.mode === 'azure' ? config.azure.graphEndpoint : undefined,
          ca: config.azure.mode === 'azure' && config.azure.caFile ? readFileSync(config.azure.caFile, 'utf8') : undefined,
          credential: defaultAzureCredential(),
          ...tuning,
        };
  const arm = new SdkArmGateway(armOptions);
  // Readiness asks once, briefly: a probe that retries for half a minute tells an orchestrator nothing.
  const probeArm = new SdkArmGateway({ ...armOptions, maxRetries: 0, timeoutMs: Math.min(5000, config.armTimeoutMs), pacer: false });

  const store = opts.store ?? (await openStore(config.database, { credential: armOptions.credential, log, now: opts.now }));
  // Every audit append puts the chain's new head in the JSON log: an anchor outside the database
  // (`npm run audit:verify -- --anchors <log file>` checks the chain still holds each one).
  const stopAnchoring = store.onAuditAppend((h) => log('info', 'audit head', { seq: h.seq, hash: h.hash, event: h.event, request: h.requestId }));
  const inbound = new Inbound({ countsForMs: opts.chatRequestCountsForMs });
  const jobs = new JobRunner((key, e) => log('error', 'background job failed', { job: key, error: (e as Error).stack ?? String(e) }), jobLimitsFor(config.database.kind === 'postgres' ? config.database.poolMax : undefined), inbound);
  const queue = new DurableQueue(store.db, { leaseMs: config.jobs.leaseMs, pollMs: config.jobs.pollMs, log, ...opts.queueTuning });

  const catalog = new FormCatalog(arm, config.formChoicesTtlMs);
  const targets = opts.targets ?? DEFAULT_TARGETS;
  // What talks to Teams and Slack comes first: the workflow needs their notifiers, and the channels
  // need the workflow — each gets what it needs when it is built, and nothing answers half-built.
  const teamsTransport = config.teamsEnabled ? createTeamsTransport(config.teams, { targets, log, authorityEndpoint: opts.teamsAuthorityEndpoint }) : undefined;
  const slackTransport = config.slack ? createSlackTransport(config.slack, { targets }) : undefined;
  // Every durable job kind (the workflow's and the channels'), its payload parsed by its schema (job-registry.ts).
  const registry = new JobRegistry(log);
  const workflow = new Workflow({
    store,
    arm,
    policy,
    queue,
    registry,
    targets,
    notifiers: { ...(teamsTransport ? { teams: teamsTransport.notifier } : {}), ...(slackTransport ? { slack: slackTransport.notifier } : {}) },
    now: opts.now,
    expiryWarningDays: config.keyExpiryWarningDays,
    resumePollMs: opts.resumePollMs,
    log,
  });
  // The policy in force, for the watchdog too (a reload replaces it).
  let policyInForce = policy;
  // Scan results go to /metrics (built below).
  const scanListeners: Array<(r: { seconds: number; findings: Record<'urgent' | 'warning', number> }) => void> = [];
  const watchdog = new Watchdog({
    store,
    arm,
    policy: () => policyInForce,
    queue,
    registry,
    notifiers: { ...(teamsTransport ? { teams: teamsTransport.notifier } : {}), ...(slackTransport ? { slack: slackTransport.notifier } : {}) },
    scanner: engineScanner(targets),
    now: opts.now,
    expiryWarningDays: config.keyExpiryWarningDays,
    log,
    onScan: (r) => scanListeners.forEach((l) => l(r)),
  });
  const router = new CommandRouter({ workflow, watchdog, catalog, store, targets });
  const channelDeps = { workflow, watchdog, router, registry, jobs, inbound, queue, store, catalog, log };
  const teams = teamsTransport ? createTeamsChannel(teamsTransport, channelDeps) : undefined;
  const slack = slackTransport ? createSlackChannel(slackTransport, { ...channelDeps, now: opts.now ? () => opts.now!().getTime() : undefined }) : undefined;
  registry.wire(queue);
  // Work a previous process left half-done is in the job table and resumes from its stored state
  // (never written twice); a request between approval and its end without a job gets one.
  const repaired = await workflow.recover();
  if (repaired) log('info', 'execution jobs restored for interrupted requests', { count: repaired });
  await queue.start();
  watchdog.start(config.watchIntervalMs);
  // Waiting requests end when their time is up, and say so once, even if nobody touches them;
  // deliveries seen more than 15 minutes ago are forgotten (Slack retries within 5), and expired
  // Slack form sessions removed (never read once expired).
  const sweep = setInterval(() => {
    workflow.expireDue().catch((e) => log('warn', 'expiry sweep failed', { error: (e as Error).message }));
    Promise.all([store.pruneDeliveries(15 * 60_000), store.pruneFormSessions()]).catch((e) => log('warn', 'pruning old deliveries and form sessions failed', { error: (e as Error).message }));
  }, 60_000);
  sweep.unref();

  let depth = { queued: 0, running: 0, failed: 0 };
  const metrics = new Metrics({
    cmk_jobs_running: { help: 'Durable jobs (execution, card updates, posts) this process is running now.', read: () => queue.size + jobs.size },
    cmk_job_queue_depth: { help: 'Durable jobs queued (due or waiting), all replicas.', read: () => depth.queued },
    cmk_job_queue_running: { help: 'Durable jobs claimed and running, all replicas.', read: () => depth.running },
    cmk_job_queue_failed: { help: 'Durable jobs that gave up in the last hour, all replicas.', read: () => depth.failed },
  });
  const observeArm = (c: ArmCallRecord) => {
    metrics.armCalls.inc({ method: c.method, status: String(c.status) });
    metrics.armLatency.observe({ method: c.method }, c.durationMs / 1000);
    // A 404 is how a check learns that something does not exist yet (a new server): not a warning.
    if (c.status === 0 || (c.status >= 400 && c.status !== 404)) log('warn', 'ARM call failed', { method: c.method, path: c.path, status: c.status, code: c.errorCode, correlationId: c.correlationId, armRequestId: c.requestId });
    else log('debug', 'ARM call', { method: c.method, path: c.path, status: c.status, ms: c.durationMs, correlationId: c.correlationId });
  };
  arm.onCall(observeArm);
  probeArm.onCall(observeArm);
  workflow.onChecks((results) => results.forEach((r) => metrics.checkOutcomes.inc({ check: r.id, status: r.status })));
  scanListeners.push((r) => {
    metrics.watchScanDuration.observe({}, r.seconds);
    for (const [severity, n] of Object.entries(r.findings)) metrics.watchFindings.set({ severity }, n);
  });

  let stopping = false;
  const app = express();
  app.disable('x-powered-by');
  // Every request gets an id (the caller's X-Request-Id when it is sane), on its answer and on
  // every log line written while it is handled.
  app.use((req, res, next) => {
    const given = req.get('x-request-id');
    const requestId = given && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    withLogContext({ requestId }, () => next());
  });
  // Shutting down: refuse new work so the platform retries it elsewhere; in-flight requests finish.
  app.use((req, res, next) => {
    if (stopping && req.method === 'POST') {
      res.setHeader('connection', 'close');
      res.setHeader('retry-after', '1');
      res.status(503).json({ error: 'This replica is shutting down; retry the request.' });
      return;
    }
    next();
  });
  app.use((req, res, next) => {
    // Route, not URL: request ids and resource ids would make unbounded label sets.
    res.on('finish', () => metrics.httpRequests.inc({ route: req.route?.path ?? 'unmatched', method: req.method, status: String(res.statusCode) }));
    next();
  });
  app.get('/metrics', async (_req, res) => {
    depth = await queue.depth().catch(() => depth);
    res.type(metrics.contentType).send(await metrics.render());
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready = the database answers and ARM answers (any HTTP answer, even 401/404, means reachable).
  app.get('/readyz', async (_req, res) => {
    const probe = async (fn: () => Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        // A database that does not answer at all (a network cut rather than a refused connection)
        // must not hold the probe: not ready after 5 s.
        await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000)))]);
        return 'ok';
      } catch (e) {
        return isArmError(e) && e.status > 0 ? 'ok' : `unavailable: ${(e as Error).message.slice(0, 200)}`;
      } finally {
        clearTimeout(timer);
      }
    };
    const [database, arm_] = await Promise.all([probe(() => store.db.query('SELECT 1')), probe(() => probeArm.list('/subscriptions', '2022-12-01'))]);
    const ok = database === 'ok' && arm_ === 'ok';
    const ready = ok && !stopping;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : stopping ? 'shutting down' : 'not ready', database, arm: arm_ });
  });
  teams?.mount(app);
  slack?.mount(app);
  // Key Vault events (Event Grid): a delivery about a vault scans what the watches cover at once.
  if (config.eventGrid) {
    app.use(
      createEventGridEndpoint({
        ...config.eventGrid,
        log,
        onEvents: async (events) => {
          for (const e of events) await watchdog.rescanVault(e.vaultName, e.id);
        },
      }),
    );
  }
  // Malformed or oversized bodies: a clear 4xx, never a stack trace.
  app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log('error', 'request failed', { error: err.stack ?? String(err) });
    res.status(status).json({ error: status === 413 ? 'Request body too large.' : status === 400 ? 'Request body is not valid JSON.' : 'Internal error.' });
  });

  // Ends the work started above: in-process chat work, then durable jobs (finished within the
  // grace period or handed back to the queue), then the store and an embedded simulator.
  const release = async (graceMs: number) => {
    await Promise.race([jobs.drain(), new Promise((r) => setTimeout(r, graceMs).unref())]);
    const { released } = await queue.stop(graceMs);
    if (released) log('info', 'handed unfinished jobs back to the queue', { count: released });
    stopAnchoring();
    if (!opts.store) await store.close();
    if (ownsSimulator) await simulator?.close();
  };
  // Several sockets on the port where the runtime can share it (src/listen.ts says why).
  const servers = await listenShared(app, reservation, (e) => log('warn', 'the HTTP server reported a problem', { error: e.message })).catch(async (e: unknown) => {
    // Something else took the port meanwhile. Nothing half-started stays behind (jobs claimed, the data folder locked).
    clearInterval(sweep);
    watchdog.stop();
    await release(0);
    throw portTaken(config, e);
  });
  const server = servers[0]!;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${reservation.port}`;

  return {
    url,
    server,
    store,
    arm,
    workflow,
    jobs,
    inbound,
    queue,
    simulator,
    reloadPolicy(next) {
      const p = next ?? loadPolicy(config.policyFile);
      workflow.setPolicy(p);
      policyInForce = p;
      log('info', 'policy in force', { policyHash: p.hash, rules: p.doc.rules.map((r) => r.name) });
      return p;
    },
    async close() {
      if (stopping) return;
      stopping = true;
      clearInterval(sweep);
      watchdog.stop();
      // 1. No new requests (503 meanwhile); those in flight are answered.
      const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const s of servers) s.closeIdleConnections();
      await closed;
      // 2. In-process chat work (acknowledged Slack actions) finishes; it may enqueue durable jobs.
      // 3. Durable jobs: finish within the grace period, or go back to the queue for the next process.
      await release(config.shutdownGraceMs);
      await reservation.release();
    },
  };
}
