// Start-up safety through the real entry point (src/main.ts in a child process): a taken port and a
// PGlite folder another live process holds stop start-up with a message naming the cause (exit 2);
// a lock left by a killed process is taken over; `.env` is read, and the environment wins over it;
// production with no Azure configured refuses to start instead of running the simulator.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator';
import { policyAllowingEveryone, startChildBot, type ChildBot, type RefusedStart } from '../helpers/child-bot';

let sim: Simulator;
let dir: string;
const bots: ChildBot[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cmk-start-safety-'));
  sim = await startSimulator({ tlsDir: join(dir, 'tls') });
  writeFileSync(join(dir, 'policy.yaml'), policyAllowingEveryone());
});

afterAll(async () => {
  await Promise.all(bots.map((b) => b.kill('SIGKILL')));
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const start = async (env: Record<string, string>, opts: { cwd?: string } = {}) => {
  const bot = await startChildBot(sim, { POLICY_FILE: join(dir, 'policy.yaml'), ...env }, opts);
  bots.push(bot);
  return bot;
};
const refusal = (p: Promise<unknown>): Promise<RefusedStart> =>
  p.then(
    () => {
      throw new Error('the second process started');
    },
    (e: RefusedStart) => e,
  );

describe('a second process', () => {
  it('on a port already taken stops with a message naming the port, and the first one runs on', async () => {
    const first = await start({ DATA_DIR: join(dir, 'port-a') });
    const port = new URL(first.url).port;
    const second = await refusal(start({ DATA_DIR: join(dir, 'port-b'), PORT: port }));
    expect(second.code).toBe(2);
    expect(second.out).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(second.out).not.toMatch(/listening on/);
    // It found out before it opened anything: not even its data folder was made.
    expect(existsSync(join(dir, 'port-b'))).toBe(false);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    await first.kill('SIGTERM');
  }, 90_000);

  it('on the same PGlite folder stops naming the folder and the process holding it; a killed holder’s lock is taken over', async () => {
    const data = join(dir, 'shared');
    const first = await start({ DATA_DIR: data });
    expect(readFileSync(join(data, 'pglite.lock'), 'utf8').trim()).toBe(String(first.child.pid));
    const second = await refusal(start({ DATA_DIR: data }));
    expect(second.code).toBe(2);
    expect(second.out).toContain(`The database folder ${join(data, 'pglite')} is in use by process ${first.child.pid}`);
    expect(second.out).toMatch(/set DATA_DIR to another folder/);
    // The first is killed outright: its lock stays behind, stale, and the next start takes it over.
    await first.kill('SIGKILL');
    expect(existsSync(join(data, 'pglite.lock'))).toBe(true);
    const third = await start({ DATA_DIR: data });
    expect(readFileSync(join(data, 'pglite.lock'), 'utf8').trim()).toBe(String(third.child.pid));
    const ready = await fetch(`${third.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'ok', arm: 'ok' });
    // A clean stop releases it.
    expect(await third.kill('SIGTERM')).toBe(0);
    expect(existsSync(join(data, 'pglite.lock'))).toBe(false);
  }, 120_000);
});

describe('.env', () => {
  it('is read from the working folder, and a variable set in the environment wins over it', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(
      join(cwd, '.env'),
      ['# Slack on from .env; Teams off here but on in the environment', 'SLACK_SIGNING_SECRET=from-dotenv-signing-secret', 'SLACK_BOT_TOKEN="xoxb-from-dotenv"', 'TEAMS_ENABLED=false', `DATA_DIR=${join(cwd, 'data')}`, ''].join('\n'),
    );
    const bot = await start({ TEAMS_ENABLED: 'true', PUBLIC_BASE_URL: 'https://cmk.example.com/' }, { cwd });
    expect(bot.output()).toMatch(/Slack endpoint: +http:\/\/127\.0\.0\.1:\d+\/slack\/events/);
    expect(bot.output()).toMatch(/Teams endpoint: +http:\/\/127\.0\.0\.1:\d+\/api\/messages/);
    // What to register with the platforms, from the public URL.
    expect(bot.output()).toContain('Public URL:       https://cmk.example.com (the Azure Bot’s messaging endpoint: https://cmk.example.com/api/messages; the Slack app’s request URL: https://cmk.example.com/slack/events)');
    expect(bot.output()).toMatch(/Settings: +\.env \(3 variables/);
    // DATA_DIR came from .env: the database is in the folder it names.
    expect(existsSync(join(cwd, 'data', 'pglite.lock'))).toBe(true);
    // Slack is really on, with the .env secret: an unsigned request is refused.
    expect((await fetch(`${bot.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"url_verification","challenge":"x"}' })).status).toBe(401);
    await bot.kill('SIGTERM');
  }, 90_000);

  it('a bad value in .env is refused by name like one in the environment', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, '.env'), 'WATCH_INTERVAL=hourly\n');
    const e = await refusal(start({ DATA_DIR: join(cwd, 'data') }, { cwd }));
    expect(e.code).toBe(2);
    expect(e.out).toMatch(/WATCH_INTERVAL: must be a whole number/);
  }, 60_000);
});

describe('NODE_ENV=production', () => {
  it('with no Azure configured stops, naming what to set, instead of starting the simulator', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: '0', DATA_DIR: join(dir, 'prod') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(out).toMatch(/NODE_ENV=production does not start the embedded Azure simulator/);
    for (const name of ['AZURE_MODE=azure', 'AZURE_CLIENT_ID', 'ARM_ENDPOINT', 'ARM_CA_FILE']) expect(out).toContain(name);
    expect(out).not.toMatch(/listening on/);
    // Refused before anything was opened.
    expect(existsSync(join(dir, 'prod'))).toBe(false);
  }, 60_000);
});
