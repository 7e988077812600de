// `npm run audit:verify`: walks the whole audit log and checks its hash chain. Exit 0 when intact,
// 1 when a row was changed or removed (naming the first broken row), 2 when it cannot run.
import { loadConfig } from '../src/config';
import { Store } from '../src/store/store';

async function main() {
  const config = loadConfig();
  const store = await Store.open(config.database.kind === 'postgres' ? { kind: 'postgres', url: config.database.url } : { kind: 'pglite', dataDir: config.database.dataDir });
  try {
    const r = await store.verifyAuditChain();
    if (r.ok) {
      process.stdout.write(`audit log intact: ${r.rows} rows, hash chain verified\n`);
      return 0;
    }
    process.stdout.write(`audit log TAMPERED: row ${r.brokenAt}: ${r.reason} (${r.rows} rows read)\n`);
    return 1;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`audit:verify could not run: ${(e as Error).message}\n`);
    process.exit(2);
  },
);
