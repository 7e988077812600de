// The database the configuration names, opened as the bot opens it. Its own module, so the
// operator commands (src/cli: audit:verify, audit:export) open it without loading the whole app.
import type { Config } from '../config';
import type { Log } from '../log';
import { Store } from '../store/store';
import { postgresPassword } from './postgres-token';
import { defaultAzureCredential } from './sdk-gateway';

/**
 * The database the configuration names, opened as the bot opens it: PostgreSQL with
 * DATABASE_POOL_MAX connections — with DATABASE_AUTH=entra each new connection's password is a
 * current token of `credential` (default: the Azure identity, DefaultAzureCredential) — or embedded
 * PGlite. The operator scripts (audit:verify, audit:export) open it the same way, so they work
 * wherever the bot does.
 */
export function openStore(db: Config['database'], opts: { credential?: Parameters<typeof postgresPassword>[0]; log?: Log; now?: () => Date } = {}): Promise<Store> {
  if (db.kind === 'pglite') return Store.open({ kind: 'pglite', dataDir: db.dataDir }, opts.now);
  const log = opts.log;
  return Store.open(
    {
      kind: 'postgres',
      url: db.url,
      poolMax: db.poolMax,
      password: db.auth === 'entra' ? postgresPassword(opts.credential ?? defaultAzureCredential()) : undefined,
      // The server restarted or a connection was cut: the pool opens a new one for the next query.
      onConnectionError: (e) => log?.('warn', 'a database connection was lost; the next query opens a new one', { error: e.message }),
    },
    opts.now,
  );
}
