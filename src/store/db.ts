// One SQL dialect (PostgreSQL) on two engines: embedded PGlite by default, a PostgreSQL server
// via DATABASE_URL for several replicas.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
}

export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
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
export function lockDataFolder(dataDir: string): () => void {
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
 */
export const PGLITE_OPTIONS = { postgresqlconf: ['shared_buffers = 16MB'] };

export async function openPglite(dataDir?: string): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const unlock = dataDir ? lockDataFolder(dataDir) : () => undefined;
  let db: PGlite;
  try {
    db = dataDir ? await PGlite.create(dataDir, PGLITE_OPTIONS) : await PGlite.create(PGLITE_OPTIONS);
  } catch (e) {
    unlock();
    throw e;
  }
  return {
    kind: 'pglite',
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

export async function openPostgres(url: string, max = 10): Promise<Database> {
  const pool = new Pool({ connectionString: url, max });
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
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
