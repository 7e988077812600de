// What the measured servers run: our bot as production runs it — `node dist/main.js`, built by
// `npm run build` — and the bare framework bots and the memory probe compiled the same way
// (CommonJS, no tsx in the process). Under tsx each process would carry its module hooks (a worker
// thread with its own V8 heap) and compile TypeScript as it loads, on both sides of the comparison.
// All of them run on the Node.js major the image runs (the Dockerfile's ARG NODE_MAJOR).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ts from 'typescript';
import { productionNode as productionNodeIn } from '../../scripts/production-node';
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

/** The Node.js the image runs (scripts/production-node.ts), kept in bench/results/.runtime/. */
export function productionNode(): string {
  return productionNodeIn(join(ROOT, 'bench', 'results', '.runtime'));
}

/** The node flags `npm run start:prod` (and the Dockerfile) start the bot with. */
export function productionFlags(): string[] {
  const startProd = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod'] ?? '';
  const argv = startProd.split(' ');
  if (argv[0] !== 'node' || argv.at(-1) !== 'dist/main.js') throw new Error(`bench: start:prod is not "node [flags] dist/main.js": ${startProd}`);
  return argv.slice(1, -1);
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
  built = {
    node: productionNode(),
    bot: 'dist/main.js',
    botNodeArgs: productionFlags(),
    bareBolt: compile('bench/servers/bare-bolt.ts'),
    bareAgents: compile('bench/servers/bare-agents.ts'),
    memprobe: compile('bench/lib/memprobe.ts'),
  };
  return built;
}
