// What the measured servers run: our bot as production runs it — `node dist/main.js`, built by
// `npm run build` — and the bare framework bots and the memory probe compiled the same way
// (CommonJS, no tsx in the process). Under tsx each process would carry its module hooks (a worker
// thread with its own V8 heap) and compile TypeScript as it loads, on both sides of the comparison.
// All of them run on the Node.js major the image runs (the Dockerfile's ARG NODE_MAJOR).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './proc';

export interface BenchBuild {
  /** The node binary every measured server runs on: production's major (see productionNode). */
  node: string;
  /** Our bot: dist/main.js. */
  bot: string;
  /** The node flags `npm run start:prod` (and the Dockerfile) start it with: the V8 heap bound. */
  botNodeArgs: string[];
  bareBolt: string;
  bareAgents: string;
  /** Preloaded with --require when a run measures memory. */
  memprobe: string;
}

let built: BenchBuild | undefined;

/**
 * The Node.js the image runs (the Dockerfile's ARG NODE_MAJOR): this process's node when it is that
 * major, otherwise Node.js's own build of it from the npm registry (node-<os>-<arch>@<major>, as
 * scripts/ci-production-start.sh fetches it), kept in bench/results/.runtime/.
 */
export function productionNode(): string {
  const major = /^ARG NODE_MAJOR=(\d+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
  if (!major) throw new Error('bench: the Dockerfile names no ARG NODE_MAJOR');
  if (process.versions.node.split('.')[0] === major) return process.execPath;
  const platform = `${process.platform}-${process.arch}`;
  const dir = join(ROOT, 'bench', 'results', '.runtime', `node-${platform}-${major}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tarball = execFileSync('npm', ['pack', `node-${platform}@${major}`, '--silent'], { cwd: dir, encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1)!;
    execFileSync('tar', ['-xzf', tarball], { cwd: dir });
    rmSync(join(dir, tarball));
  }
  return bin;
}

/**
 * Builds once per benchmark run: `npm run build`, then the bare bots and the probe into
 * bench/results/.build/. BENCH_KEEP_DIST=1 measures dist/ as it is (a diagnostic: a build with
 * timing added by hand).
 */
export function benchBuild(): BenchBuild {
  if (built) return built;
  if (process.env.BENCH_KEEP_DIST !== '1') execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  // Inside the repository, so `require('@slack/bolt')` resolves from its node_modules.
  const out = join(ROOT, 'bench', 'results', '.build');
  mkdirSync(out, { recursive: true });
  const compile = (file: string) => {
    const { outputText } = ts.transpileModule(readFileSync(join(ROOT, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const to = join(out, basename(file).replace(/\.ts$/, '.js'));
    writeFileSync(to, outputText);
    return to;
  };
  const startProd = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod'] ?? '';
  const argv = startProd.split(' ');
  if (argv[0] !== 'node' || argv.at(-1) !== 'dist/main.js') throw new Error(`bench: start:prod is not "node [flags] dist/main.js": ${startProd}`);
  built = {
    node: productionNode(),
    bot: 'dist/main.js',
    botNodeArgs: argv.slice(1, -1),
    bareBolt: compile('bench/servers/bare-bolt.ts'),
    bareAgents: compile('bench/servers/bare-agents.ts'),
    memprobe: compile('bench/lib/memprobe.ts'),
  };
  return built;
}
