// `npm run build`: compile src/ to dist/ (tsconfig.build.json), then take the dev tooling out of it,
// and create the empty database a new embedded-PGlite data folder starts from (src/store/db.ts).
// tsc emits every file the program reaches, and app.ts reaches the simulator through the dynamic
// import that only the embedded (development) path runs; production does not load it, so the
// artifact does not carry it (nor node-forge, which only it needs).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import process from 'node:process';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
for (const dir of ['dist/simulator', 'dist/dev']) rmSync(dir, { recursive: true, force: true });
if (!existsSync('dist/main.js')) throw new Error('build: dist/main.js was not written');
// initdb, once, here: PGlite runs it in a second WebAssembly instance whose whole memory it copies
// (over 500 MB at its peak), so a bot’s first start on a new data folder loads this instead (~330 MB for the whole bot).
const { builtPgliteTemplate, createPgliteTemplate } = require(resolve('dist/store/db.js'));
const template = builtPgliteTemplate();
await createPgliteTemplate(template);
process.stdout.write(`built dist/ (node dist/main.js), with a new database for embedded PGlite: ${relative(process.cwd(), template)} (${(statSync(template).size / 1e6).toFixed(1)} MB)\n`);
