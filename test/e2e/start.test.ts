// `npm start` on a fresh machine: the real entry point comes up on embedded defaults (simulator +
// PGlite in a new data folder), answers health and a Teams message, and shuts down on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConnector, type FakeConnector } from '../helpers/connector';
import { ALICE, message, post } from '../helpers/teams';

let child: ChildProcess | undefined;
let dataDir: string;
let connector: FakeConnector;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cmk-start-'));
  connector = await startConnector();
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await connector.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function start(env: Record<string, string>): Promise<{ url: string; output: () => string }> {
  let out = '';
  // tsx as a loader in this very process, so SIGKILL reaches the bot itself (the tsx CLI runs it in a child).
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no start within 40 s:\n${out}`)), 40_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ url: m[1]!, output: () => out });
      }
    };
    child!.stdout!.on('data', onData);
    child!.stderr!.on('data', onData);
    child!.once('exit', (code) => {
      clearTimeout(t);
      reject(Object.assign(new Error(`exited ${code}:\n${out}`), { out, code }));
    });
  });
}

describe('npm start', () => {
  it('refuses a bad variable by name, before doing anything', async () => {
    await expect(start({ PORT: 'not-a-port' })).rejects.toMatchObject({ code: 2, out: expect.stringMatching(/PORT: must be a whole number/) });
  });

  it('runs on embedded defaults and stops cleanly on SIGTERM', async () => {
    const { url, output } = await start({});
    expect(output()).toMatch(/local simulator at https:\/\/127\.0\.0\.1:\d+/);
    expect(output()).toMatch(/embedded PGlite/);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    await post(url, message(connector.url, ALICE, 'new fluid-relay'));
    await connector.waitFor((a) => /New Azure Fluid Relay server/.test(JSON.stringify(a.activity)), 15_000, 'form from the started bot');
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
