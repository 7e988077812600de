// One SQL dialect (PostgreSQL) on two engines: embedded PGlite by default, a PostgreSQL server
// via DATABASE_URL for several replicas.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
}

export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** PGlite: how this open found its database — created now from the build's template or by initdb, or already there (undefined). */
  readonly created?: 'template' | 'initdb';
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Another live process holds the PGlite data folder: PGlite is one process's database. */
export class DataFolderInUseError extends Error {
  readonly code = 'data_folder_in_use';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly lockFile: string,
  ) {
    super(
      `The database folder ${dataDir} is in use by process ${pid} (another cmk-chatops, or an audit script): embedded PGlite serves one process. ` +
        `Stop that process, or set DATA_DIR to another folder; for several replicas use PostgreSQL (DATABASE_URL). ` +
        `If process ${pid} is not cmk-chatops, delete ${lockFile}.`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `<dataDir>.lock`, holding this process's id, for as long as the folder is open. A lock left by a
 * process that is gone (killed, crashed) — or by an earlier life of this very pid, as after a
 * container restart, where the bot is always the same pid — is taken over. Returns the release.
 */
function lockDataFolder(dataDir: string): () => void {
  const lockFile = `${dataDir}.lock`;
  // The pid in the lock file; undefined when there is none (absent, or released meanwhile).
  const holder = (): number | undefined => {
    try {
      return Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
    }
    const pid = holder();
    if (pid !== undefined && Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DataFolderInUseError(dataDir, pid, lockFile);
    // Stale (or half-written by a process killed while writing it): take it over.
    if (pid !== undefined) rmSync(lockFile, { force: true });
  }
  return () => {
    // Only our own lock: a process that took a stale one over owns it now.
    if (holder() === process.pid) rmSync(lockFile, { force: true });
  };
}

/**
 * PostgreSQL's default shared_buffers (128 MB) lives in PGlite's WebAssembly memory, which never
 * shrinks: the bot's tables are small, and 16 MB of buffers keeps a warm process about 125 MB
 * smaller (docs/benchmarks.md §4). Written to the folder's postgresql.conf, so it holds from then on.
 * initdb's own bootstrap backends get the same setting (`-c`): a first start's peak is ~40 MB lower.
 */
const PGLITE_OPTIONS = { postgresqlconf: ['shared_buffers = 16MB'], initDbStartParams: ['-c', 'shared_buffers=16MB'] };

/**
 * The installed PGlite's version. A database created by one PGlite is only loaded by the same one,
 * so the template's name carries it: after an upgrade without a new build, none is found.
 */
function pgliteVersion(): string {
  const pkg = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/**
 * Where `npm run build` writes a created, empty database (`dist/pgdata-pglite-<version>.tar.gz`,
 * beside dist/main.js), and where a new PGlite data folder is started from. Run from src/ (npm start,
 * the tests) the file is not there, and a new folder is created by initdb as before.
 */
export function builtPgliteTemplate(): string {
  return join(__dirname, '..', `pgdata-pglite-${pgliteVersion()}.tar.gz`);
}

/**
 * Creates an empty database (initdb, with the bot's settings) and writes it to `file` as a gzipped
 * tar of its data folder: PGlite's own dump, which `loadDataDir` reads. initdb is what makes a first
 * start heavy: PGlite 0.5 runs it in a second WebAssembly instance and copies that instance's whole
 * memory (at least 128 MB) between its steps — 556 MB at its peak on Node.js 24. Done once at build
 * time, a bot’s first start loads the ~4.5 MB file instead (the whole bot peaks near 330 MB; docs/benchmarks.md).
 */
export async function createPgliteTemplate(file: string): Promise<void> {
  const db = await PGlite.create(PGLITE_OPTIONS);
  try {
    const dump = await db.dumpDataDir('gzip');
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await db.close();
  }
}

export interface PgliteOpenOptions {
  /**
   * A database from `createPgliteTemplate` to start a new data folder (or an in-memory database)
   * from. Default: the build's (`builtPgliteTemplate()`), when it is there; null: none (initdb).
   */
  template?: string | null;
}

/**
 * Creates the database of a new data folder — loaded from the template, or by initdb — as
 * `<dataDir>.new`, renamed into place once it is whole: a start stopped half-way (killed, out of
 * memory) leaves nothing that fails every later start. The folder is the bot's own
 * (`<DATA_DIR>/pglite`): an empty one gives way; one holding other files is refused. The instance
 * that made it is closed, and with it goes initdb's memory, which WebAssembly never returns (near
 * 700 MB kept for the process's life otherwise; docs/benchmarks.md).
 */
async function createDataFolder(dataDir: string, fromTemplate: { loadDataDir: Blob } | undefined): Promise<void> {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(`The database folder ${dataDir} has files but no database in it (no PG_VERSION). Move it away or delete it, or set DATA_DIR to another folder.`);
  }
  const staging = `${dataDir}.new`;
  rmSync(staging, { recursive: true, force: true });
  await (await PGlite.create(staging, { ...PGLITE_OPTIONS, ...fromTemplate })).close();
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(staging, dataDir);
}

export async function openPglite(dataDir?: string, opts: PgliteOpenOptions = {}): Promise<Database> {
  if (dataDir) mkdirSync(dirname(dataDir), { recursive: true });
  const unlock = dataDir ? lockDataFolder(dataDir) : () => undefined;
  // Looked up and read only when a database is to be created.
  const fromTemplate = () => {
    const template = opts.template === undefined ? builtPgliteTemplate() : opts.template;
    return template && existsSync(template) ? { loadDataDir: new Blob([readFileSync(template)]) } : undefined;
  };
  let db: PGlite;
  let created: Database['created'];
  try {
    if (!dataDir) {
      const load = fromTemplate();
      created = load ? 'template' : 'initdb';
      db = await PGlite.create({ ...PGLITE_OPTIONS, ...load });
    } else {
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        const load = fromTemplate();
        created = load ? 'template' : 'initdb';
        await createDataFolder(dataDir, load);
      }
      db = await PGlite.create(dataDir, PGLITE_OPTIONS);
    }
  } catch (e) {
    unlock();
    throw e;
  }
  return {
    kind: 'pglite',
    created,
    async query<T>(text: string, params?: unknown[]) {
      const r = await db.query<T>(text, params);
      return r.rows;
    },
    async exec(text: string) {
      await db.exec(text);
    },
    transaction<T>(fn: (tx: Sql) => Promise<T>) {
      return db.transaction(async (tx) =>
        fn({
          async query<R>(text: string, params?: unknown[]) {
            const r = await tx.query<R>(text, params);
            return r.rows;
          },
          async exec(text: string) {
            await tx.exec(text);
          },
        }),
      );
    },
    close: async () => {
      await db.close();
      unlock();
    },
  };
}

export interface PostgresOptions {
  /** Connections at most (DATABASE_POOL_MAX). */
  max?: number;
  /**
   * The password of each new connection, asked for when it opens (DATABASE_AUTH=entra: a current
   * access token of the Azure identity). Unset: the password in the URL.
   */
  password?: () => Promise<string>;
  /** A connection lost while nobody was using it (the server restarted, a network cut): reported, never fatal. */
  onConnectionError?: (e: Error) => void;
  /**
   * How long opening a connection may take (default 10 s). node-postgres waits forever by
   * default: behind a network path that drops packets instead of refusing, every query — and the
   * acknowledgement waiting on it — would hang rather than fail.
   */
  connectTimeoutMs?: number;
}

/**
 * A pool on a PostgreSQL server. It outlives the server going away: a connection that breaks is
 * dropped (an idle one reports through `onConnectionError`, one in use fails its query), and the
 * next query opens a new one — so the bot reconnects by itself once the server is back, and until
 * then every query fails at once rather than hanging.
 */
export async function openPostgres(url: string, opts: PostgresOptions = {}): Promise<Database> {
  const reportLost = opts.onConnectionError ?? (() => undefined);
  // node-postgres merges a connectionString over the other options, and the URL's (empty)
  // password would replace a password function: with one, the URL goes in as its parsed fields.
  const common = { max: opts.max, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000 };
  const pool = opts.password ? new Pool({ ...parseIntoClientConfig(url), password: opts.password, ...common }) : new Pool({ connectionString: url, ...common });
  // An idle connection the server closed: pg-pool has already removed it; without a listener its
  // 'error' event would end the process.
  pool.on('error', (e) => reportLost(e));
  // Fail fast with a clear message when the server is not there.
  const probe = await pool.connect();
  probe.release();
  return {
    kind: 'postgres',
    async query<T>(text: string, params?: unknown[]) {
      const r = await pool.query(text, params as unknown[]);
      return r.rows as T[];
    },
    async exec(text: string) {
      await pool.query(text);
    },
    async transaction<T>(fn: (tx: Sql) => Promise<T>) {
      const client = await pool.connect();
      // Checked out, the connection is ours to watch: lost between two statements, it would
      // otherwise emit an 'error' nobody listens to (fatal). The next statement fails instead.
      let lost: Error | undefined;
      const onLost = (e: Error) => {
        lost = e;
        reportLost(e);
      };
      client.on('error', onLost);
      try {
        await client.query('BEGIN');
        const out = await fn({
          async query<R>(text: string, params?: unknown[]) {
            const r = await client.query(text, params as unknown[]);
            return r.rows as R[];
          },
          async exec(text: string) {
            await client.query(text);
          },
        });
        await client.query('COMMIT');
        return out;
      } catch (e) {
        // The rollback can fail only with the connection, which is then dropped below (its
        // transaction ends with it); the caller gets the original error.
        if (!lost) await client.query('ROLLBACK').catch((r: unknown) => (lost = r as Error));
        throw e;
      } finally {
        client.removeListener('error', onLost);
        // A broken connection is not given back to the pool.
        client.release(lost);
      }
    },
    close: () => pool.end(),
  };
}
