// `npm run build`: compile src/ to dist/ (tsconfig.build.json), then take the dev tooling out of it.
// tsc emits every file the program reaches, and app.ts reaches the simulator through the dynamic
// import that only the embedded (development) path runs; production does not load it, so the
// artifact does not carry it (nor node-forge, which only it needs).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
for (const dir of ['dist/simulator', 'dist/dev']) rmSync(dir, { recursive: true, force: true });
if (!existsSync('dist/main.js')) throw new Error('build: dist/main.js was not written');
process.stdout.write('built dist/ (node dist/main.js)\n');
