// `npm run playground`: the Microsoft 365 Agents Playground (a local Teams client) against the
// running bot, with mock users from playground/config.yml, so one person can request and
// another approve.
//
//   npm start                # terminal 1: the bot on http://127.0.0.1:3978
//   npm run playground       # terminal 2: prints one page per mock user
//
// Use the group chat: every mock user is in it, and the bot's messages and card updates reach
// every open page there. (The personal chat belongs to currentUser alone, and in a channel the
// playground shows a thread only in the page that started it.)
//
// The playground has no user switch: the page's user is the config's `currentUser`, and it
// sends that id with every card action. So each person gets a page of their own: the
// playground itself is Alex Requester's page, and a small loopback proxy per other person
// serves the same playground with that person as `currentUser` (only GET /_internal/v1/config
// is rewritten, plus a name banner). Card actions (Approve, Reject…) from that page reach the
// bot as that person. Typed messages do not: the playground always sends typed text as the
// config's `currentUser` (Alex), so type commands in Alex's page.
//
// Environment: PORT (the bot's port, default 3978), PLAYGROUND_PORT (default 56150; the next
// ports are the other people's pages), PLAYGROUND_PEOPLE (user ids from the config that get a
// page, default "user-riley,user-sam"), DATA_DIR (default .data; the playground's log goes there).
// The playground is bound to 127.0.0.1 (playground/loopback-only.cjs) and telemetry is off.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = resolve(__dirname, '..');
export const CONFIG_FILE = join(ROOT, 'playground', 'config.yml');
/** Who gets a page besides the config's currentUser: two approvers, for rules that need two. */
export const DEFAULT_PEOPLE = ['user-riley', 'user-sam'];
const CLI = join(ROOT, 'node_modules', '@microsoft', 'm365agentsplayground', 'cli.js');
const LOOPBACK_PRELOAD = join(ROOT, 'playground', 'loopback-only.cjs');

export interface MockUser {
  id: string;
  name: string;
  aadObjectId: string;
  [k: string]: unknown;
}

export interface PlaygroundConfigFile {
  bot: { id: string; name: string };
  currentUser: MockUser;
  users: MockUser[];
  personalChat: { id: string };
  groupChat: { id: string; name: string };
  team: { id: string; name: string; channels: Array<{ id: string; name: string }> };
}

export function readPlaygroundConfig(file = CONFIG_FILE): PlaygroundConfigFile {
  return parse(readFileSync(file, 'utf8')) as PlaygroundConfigFile;
}

export interface Page {
  user: MockUser;
  url: string;
}

export interface RunningPlayground {
  /** The playground's own port and URL: the config's currentUser's page. */
  port: number;
  url: string;
  /** One page per person: the currentUser first, then one per PLAYGROUND_PEOPLE entry. */
  pages: Page[];
  child: ChildProcess;
  logFile: string;
  config: PlaygroundConfigFile;
  /** Resolves with the playground's exit code once it has exited. */
  exited: Promise<number>;
  close(signal?: NodeJS.Signals): Promise<number>;
}

export interface PlaygroundOptions {
  botPort: number;
  port: number;
  people: string[];
  dataDir: string;
  configFile?: string;
  /** Drop the child's stderr instead of passing it on. */
  quiet?: boolean;
}

/** GET /healthz on the bot; true when it answers 200 within the timeout. */
export function botIsUp(botPort: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolveUp) => {
    const req = http.get({ host: '127.0.0.1', port: botPort, path: '/healthz', timeout: timeoutMs }, (res) => {
      res.resume();
      resolveUp(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveUp(false));
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const s = net.createServer();
    s.once('error', () => resolveFree(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolveFree(true)));
  });
}

/** A free loopback port chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/_debug/ping', timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolvePing(res.statusCode === 200 && body.includes('pong')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolvePing(false));
  });
}

/** The playground's config answer as `user` would see it: that user is currentUser, the old one a member. */
export function asUser(body: { config: PlaygroundConfigFile & { groupChats?: Array<{ members: string[] }>; teams?: Array<{ members: string[] }> } }, userId: string) {
  const c = body.config;
  const me = c.currentUser;
  const user = c.users.find((u) => u.id === userId);
  if (!user) return body;
  const swap = (id: string) => (id === userId ? me.id : id);
  return {
    ...body,
    config: {
      ...c,
      currentUser: user,
      users: c.users.map((u) => (u.id === userId ? me : u)),
      groupChats: c.groupChats?.map((g) => ({ ...g, members: g.members.map(swap) })),
      teams: c.teams?.map((t) => ({ ...t, members: t.members.map(swap) })),
    },
  };
}

function banner(user: MockUser, me: MockUser): string {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  // Bottom of the left rail, where the playground leaves room; it never takes clicks.
  return (
    `<div id="cmk-person-banner" style="position:fixed;left:8px;bottom:8px;width:280px;z-index:2147483647;pointer-events:none;` +
    `background:#fff4ce;color:#323130;border:1px solid #c8a300;border-radius:6px;padding:6px 10px;font:12px/17px 'Segoe UI',system-ui,sans-serif">` +
    `<b>Viewing as ${esc(user.name)}.</b> Card buttons act as ${esc(user.name)}. Typed messages reach the bot as ${esc(me.name)} ` +
    `(a playground limitation): type commands in ${esc(me.name)}'s page.</div>` +
    `<script>document.title=${JSON.stringify(`${user.name} — Agents Playground`)};</script>`
  );
}

/** A loopback proxy to the playground that presents it as `user` (HTTP and the WebSockets). */
export function startPersonProxy(upstreamPort: number, listenPort: number, user: MockUser, me: MockUser): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const rewriteConfig = req.method === 'GET' && path.startsWith('/_internal/v1/config');
    const rewriteIndex = req.method === 'GET' && (path === '/' || path.startsWith('/?') || path === '/index.html');
    const headers = { ...req.headers, host: `127.0.0.1:${upstreamPort}` };
    if (rewriteConfig || rewriteIndex) delete headers['accept-encoding'];
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path, headers }, (upRes) => {
      if (!(rewriteConfig || rewriteIndex) || upRes.statusCode !== 200) {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('end', () => {
        let out = Buffer.concat(chunks).toString('utf8');
        if (rewriteConfig) out = JSON.stringify(asUser(JSON.parse(out), user.id));
        else out = out.includes('<body>') ? out.replace('<body>', `<body>${banner(user, me)}`) : out + banner(user, me);
        const h = { ...upRes.headers };
        delete h['content-length'];
        delete h['etag'];
        delete h['last-modified'];
        res.writeHead(200, { ...h, 'content-length': Buffer.byteLength(out), 'cache-control': 'no-store' });
        res.end(out);
      });
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`The playground is not answering: ${e.message}`);
    });
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(upstreamPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        const value = name.toLowerCase() === 'host' ? `127.0.0.1:${upstreamPort}` : req.rawHeaders[i + 1]!;
        lines.push(`${name}: ${value}`);
      }
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      socket.pipe(up).pipe(socket);
    });
    const end = () => {
      socket.destroy();
      up.destroy();
    };
    up.on('error', end);
    socket.on('error', end);
    up.on('close', end);
    socket.on('close', end);
  });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolveServer(server));
  });
}

export async function startPlayground(opts: PlaygroundOptions): Promise<RunningPlayground> {
  const configFile = opts.configFile ?? CONFIG_FILE;
  const config = readPlaygroundConfig(configFile);
  const people = opts.people.map((id) => {
    const u = config.users.find((x) => x.id === id);
    if (!u) throw new Error(`PLAYGROUND_PEOPLE: "${id}" is not one of the users in ${configFile} (${config.users.map((x) => x.id).join(', ')}).`);
    return u;
  });
  const ports = [opts.port, ...people.map((_, i) => opts.port + 1 + i)];
  for (const p of ports) {
    if (!(await portIsFree(p))) throw new Error(`Port ${p} on 127.0.0.1 is in use (another playground still running?). Stop it, or set PLAYGROUND_PORT.`);
  }
  if (!existsSync(CLI)) throw new Error(`The Agents Playground is not installed (${CLI} is missing). Run \`npm ci\`.`);

  const logFile = resolve(opts.dataDir, 'm365agentsplayground.log');
  mkdirSync(dirname(logFile), { recursive: true });
  const endpoint = `http://127.0.0.1:${opts.botPort}/api/messages`;
  const child = spawn(process.execPath, ['--require', LOOPBACK_PRELOAD, CLI, '-e', endpoint, '-c', 'msteams', '--disable-telemetry', '-p', String(opts.port), '--service-url', `http://127.0.0.1:${opts.port}/_connector`], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEAMSAPPTESTER_BROWSER: 'none',
      APPLICATION_INSIGHTS_NO_STATSBEAT: '1',
      M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: configFile,
    },
    // With stdout not a terminal the tool writes its console to the log file only.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.resume();
  if (opts.quiet) child.stderr?.resume();
  else child.stderr?.pipe(process.stderr);
  const exited = new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1))));

  let alive = true;
  void exited.then(() => (alive = false));
  const deadline = Date.now() + 20_000;
  while (!(await ping(opts.port))) {
    if (!alive) throw new Error(`The playground exited during start-up; see ${logFile}.`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`The playground did not answer on port ${opts.port} within 20 s; see ${logFile}.`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  const proxies: http.Server[] = [];
  try {
    for (const [i, u] of people.entries()) proxies.push(await startPersonProxy(opts.port, opts.port + 1 + i, u, config.currentUser));
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  }

  const url = `http://127.0.0.1:${opts.port}`;
  const pages: Page[] = [{ user: config.currentUser, url }, ...people.map((u, i) => ({ user: u, url: `http://127.0.0.1:${opts.port + 1 + i}` }))];
  let closing: Promise<number> | undefined;
  const close = (signal: NodeJS.Signals = 'SIGTERM') => {
    closing ??= (async () => {
      for (const p of proxies) {
        p.closeAllConnections();
        p.close();
      }
      if (alive) {
        child.kill(signal);
        const timer = setTimeout(() => alive && child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    })();
    return closing;
  };
  void exited.then(() => {
    for (const p of proxies) {
      p.closeAllConnections();
      p.close();
    }
  });
  return { port: opts.port, url, pages, child, logFile, config, exited, close };
}

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    process.stderr.write(`${name} must be a port number, got "${v}".\n`);
    process.exit(2);
  }
  return n;
}

async function main() {
  const botPort = intEnv('PORT', 3978);
  const port = intEnv('PLAYGROUND_PORT', 56150);
  const people = (process.env.PLAYGROUND_PEOPLE ?? DEFAULT_PEOPLE.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const dataDir = process.env.DATA_DIR || '.data';

  if (!(await botIsUp(botPort))) {
    process.stderr.write(
      [
        `The bot is not answering at http://127.0.0.1:${botPort}/healthz.`,
        `Start the bot first with \`npm start\` (in another terminal), wait for "cmk-chatops is listening", then run \`npm run playground\` again.`,
        botPort === 3978 ? '' : `(PORT=${botPort} here: start the bot with the same PORT.)`,
      ]
        .filter(Boolean)
        .join('\n') + '\n',
    );
    process.exit(1);
  }

  let pg: RunningPlayground;
  try {
    pg = await startPlayground({ botPort, port, people, dataDir });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
  const c = pg.config;
  const width = Math.max(...pg.pages.map((p) => p.user.name.length));
  const lines = [
    '',
    `Microsoft 365 Agents Playground is talking to the bot at http://127.0.0.1:${botPort}/api/messages`,
    '',
    'Open one page per person, each in its own browser tab:',
    ...pg.pages.map((p, i) => `  ${p.user.name.padEnd(width)}  ${p.url}${i === 0 ? '   requester: types the commands' : '   approver: clicks Approve / Reject'}`),
    '',
    'Switching users = switching tabs (the playground has no user switch of its own). In every tab:',
    `  1. click "${c.groupChat.name}" in the left rail: all of you are in it. (The personal chat is`,
    `     ${c.currentUser.name}'s alone; in a channel the other tabs do not see the threads.)`,
    `  2. talk to the bot with an @mention: type @, pick "${c.bot.name}", then e.g. " new fluid-relay".`,
    `Card buttons act as the tab's person; typed text always reaches the bot as ${c.currentUser.name}.`,
    'A tab shows only what arrives while it is open, so open them all first; `status <id>` in the',
    `requester's tab brings a request card into every open tab again.`,
    '',
    `Log: ${pg.logFile}    Stop: Ctrl+C`,
    '',
  ];
  process.stdout.write(lines.join('\n'));

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void pg.close(signal).then((code) => process.exit(signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : code));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const code = await pg.exited;
  if (!stopping) {
    process.stderr.write(`The playground exited (code ${code}); see ${pg.logFile}.\n`);
    process.exit(code || 1);
  }
}

if (require.main === module)
  main().catch((e) => {
    process.stderr.write(`playground failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
