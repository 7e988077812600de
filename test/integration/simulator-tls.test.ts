// The simulator's certificate: generated fast, cached under tlsDir, regenerated when unusable;
// and the standalone `npm run simulator` CLI.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulator } from '../../src/simulator';
import { generateTlsMaterial, isUsable, type TlsMaterial } from '../../src/simulator/tls';
import { call } from '../fixtures/azure-rest/helpers';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'sim-tls-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

let a: TlsMaterial;
let b: TlsMaterial;
let expired: TlsMaterial;
beforeAll(async () => {
  [a, b, expired] = await Promise.all([generateTlsMaterial(), generateTlsMaterial(), generateTlsMaterial({ validityDays: -1 })]);
});

describe('certificate material', () => {
  it('generates usable material (native RSA keys; start-up time is a benchmark concern, not a test)', async () => {
    const fresh = await generateTlsMaterial();
    expect(isUsable(fresh)).toBe(true);
  });

  it('is not usable when expired or when the parts do not belong together', () => {
    expect(isUsable(a)).toBe(true);
    expect(isUsable(expired)).toBe(false);
    expect(isUsable({ ...a, key: b.key })).toBe(false);
    expect(isUsable({ ...a, ca: b.ca })).toBe(false);
  });
});

describe('tlsDir cache', () => {
  it('writes the CA on first start and reuses it after a restart', async () => {
    const dir = tmp();
    const first = await startSimulator({ tlsDir: dir });
    await first.close();
    expect(first.caPath).toBe(path.join(dir, 'ca.pem'));
    expect(readFileSync(first.caPath!, 'utf8')).toBe(first.ca);
    expect(statSync(path.join(dir, 'server-key.pem')).mode & 0o077).toBe(0);

    const second = await startSimulator({ tlsDir: dir });
    try {
      expect(second.ca).toBe(first.ca);
      const res = await call({ endpoint: second.endpoint, ca: readFileSync(second.caPath!, 'utf8') }, 'GET', '/subscriptions', { apiVersion: '2022-12-01' });
      expect(res.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('regenerates when the cached material is expired or unreadable', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'ca.pem'), expired.ca);
    writeFileSync(path.join(dir, 'server.pem'), expired.cert);
    writeFileSync(path.join(dir, 'server-key.pem'), expired.key);
    const sim = await startSimulator({ tlsDir: dir });
    await sim.close();
    expect(sim.ca).not.toBe(expired.ca);
    expect(readFileSync(path.join(dir, 'ca.pem'), 'utf8')).toBe(sim.ca);

    writeFileSync(path.join(dir, 'server.pem'), 'not a certificate');
    const again = await startSimulator({ tlsDir: dir });
    try {
      expect(again.ca).not.toBe(sim.ca);
      expect((await call(again, 'GET', '/subscriptions', { apiVersion: '2022-12-01' })).status).toBe(200);
    } finally {
      await again.close();
    }
  });
});

describe('npm run simulator (cli.ts)', () => {
  it('prints the endpoint, the CA path and a curl hint, serves, and stops cleanly on SIGTERM', async () => {
    const cwd = tmp();
    // A valid cached set, so the CLI's start costs no key generation.
    const tlsDir = path.join(cwd, '.data', 'simulator-tls');
    mkdirSync(tlsDir, { recursive: true });
    writeFileSync(path.join(tlsDir, 'ca.pem'), a.ca);
    writeFileSync(path.join(tlsDir, 'server.pem'), a.cert);
    writeFileSync(path.join(tlsDir, 'server-key.pem'), a.key, { mode: 0o600 });
    const root = path.resolve(__dirname, '../..');
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), [path.join(root, 'src/simulator/cli.ts')], {
      cwd,
      env: { ...process.env, SIMULATOR_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 15_000;
      while (!/curl --cacert/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const endpoint = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(endpoint).toBeDefined();
      expect(out).toContain(path.join('.data', 'simulator-tls', 'ca.pem'));
      expect((await call({ endpoint: endpoint!, ca: a.ca }, 'GET', '/subscriptions', { apiVersion: '2022-12-01' })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 20_000);
});
