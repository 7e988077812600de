// A throw-away PostgreSQL server of the test's own (initdb into a temporary folder, on a free
// port), for tests that stop and start the server or need real password authentication — never
// the machine's shared PostgreSQL on 5432, which other tests use and which trusts every login.
// Uses initdb and pg_ctl from PATH (PG_BIN, when set, names their folder). initdb refuses to run
// as root: as root the server runs as the `postgres` user, in a folder it owns.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

export interface PgCluster {
  port: number;
  /** A URL on this server (the admin role unless another is given). */
  url(opts?: { user?: string; password?: string; database?: string }): string;
  /** SQL as the admin role (in the `postgres` database unless another is named). */
  admin<T = Record<string, unknown>>(text: string, params?: unknown[], database?: string): Promise<T[]>;
  /** `pg_ctl stop -m fast`: every connection dropped, open transactions rolled back. */
  stop(): Promise<void>;
  /** `pg_ctl start`, waiting until it accepts connections. */
  start(): Promise<void>;
  /** Stop it (if running) and delete its folder. */
  destroy(): Promise<void>;
}

/**
 * `describe` when this machine has the PostgreSQL server binaries; otherwise skipped with a message
 * — except in CI (CI set), which has them, where their absence fails the file.
 */
export function describeWithPostgres(file: string, name: string, fn: () => void): void {
  if (postgresBinaries()) return describe(name, fn);
  const why = `${file}: the PostgreSQL server binaries (initdb, pg_ctl, postgres) are not on PATH (or in PG_BIN)`;
  if (process.env.CI) {
    describe(name, () =>
      it('has the PostgreSQL server binaries', () => {
        throw new Error(why);
      }),
    );
    return;
  }
  console.warn(`${why}; skipped`);
  describe.skip(name, fn);
}

/** The folder holding initdb and pg_ctl, or undefined when this machine has none. */
export function postgresBinaries(): string | undefined {
  const dirs = [process.env.PG_BIN, ...(process.env.PATH ?? '').split(delimiter)].filter((d): d is string => Boolean(d));
  return dirs.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')) && existsSync(join(d, 'postgres')));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBinaries();
  if (!bin) throw new Error('PostgreSQL server binaries (initdb, pg_ctl, postgres) are not on PATH (or in PG_BIN)');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'cmk-pg-'));
  const data = join(dir, 'data');
  const password = `admin-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(dir, 'pw'), `${password}\n`);
  // As root: the `postgres` user when there is one, else `nobody`, owning the folder.
  let user = 'postgres';
  if (asRoot) {
    const ids = async (name: string) => ({ uid: Number((await run('id', ['-u', name])).stdout.trim()), gid: Number((await run('id', ['-g', name])).stdout.trim()) });
    const owner = await ids('postgres').catch(async () => ((user = 'nobody'), ids('nobody')));
    for (const f of [dir, join(dir, 'pw')]) chownSync(f, owner.uid, owner.gid);
  }
  const pg = (tool: string, args: string[]) => (asRoot ? run('runuser', ['-u', user, '--', join(bin, tool), ...args], { timeout: 60_000 }) : run(join(bin, tool), args, { timeout: 60_000 }));
  const port = await freePort();
  // Passwords checked for real (scram-sha-256) on TCP and the socket alike; the socket in our folder.
  await pg('initdb', ['-D', data, '-U', 'cmkadmin', '--pwfile', join(dir, 'pw'), '--auth', 'scram-sha-256', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  let running = false;
  const cluster: PgCluster = {
    port,
    url: ({ user = 'cmkadmin', password: pw = user === 'cmkadmin' ? password : undefined, database = 'postgres' } = {}) =>
      `postgres://${encodeURIComponent(user)}${pw !== undefined ? `:${encodeURIComponent(pw)}` : ''}@127.0.0.1:${port}/${database}`,
    async admin<T>(text: string, params: unknown[] = [], database = 'postgres') {
      const c = new Client({ connectionString: cluster.url({ database }) });
      await c.connect();
      try {
        return (await c.query(text, params)).rows as T[];
      } finally {
        await c.end();
      }
    },
    async start() {
      await pg('pg_ctl', ['start', '-w', '-t', '30', '-D', data, '-l', join(dir, 'log'), '-o', options]);
      running = true;
    },
    async stop() {
      await pg('pg_ctl', ['stop', '-w', '-t', '30', '-m', 'fast', '-D', data]);
      running = false;
    },
    async destroy() {
      try {
        if (running) await cluster.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await cluster.start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return cluster;
}
