// What every operator command (src/cli) does around its own work: the configured database, opened
// as the bot opens it and closed afterwards, and the process's exit code — 2, with the reason, when
// the command cannot run.
import { openStore } from '../azure/open-store';
import { loadConfig } from '../config';
import type { Store } from '../store/store';

/** `fn` with the database the configuration names: DATABASE_POOL_MAX, and DATABASE_AUTH=entra (the Azure identity's token as the password). */
export async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(loadConfig().database);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Runs `main` and exits with its code; a failure is "<name> could not run: <reason>", exit 2. */
export function runCli(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${name} could not run: ${(e as Error).message}\n`);
      process.exit(2);
    },
  );
}
