// The Node.js production runs: the major the image is built on (the Dockerfile's ARG NODE_MAJOR),
// and a binary of it on this machine — this process's node when it is that major, otherwise
// Node.js's own build of it from the npm registry (node-<os>-<arch>@<major>), unpacked into a
// cache folder. CI's production start (scripts/ci-production-start.sh) and the benchmarks
// (bench/lib/build.ts) run on it.
//   npx tsx scripts/production-node.ts <cache folder>   # prints the binary's path
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** The major the Dockerfile builds every stage on. */
export function productionNodeMajor(root = ROOT): string {
  const major = /^ARG NODE_MAJOR=(\d+)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
  if (!major) throw new Error('the Dockerfile names no ARG NODE_MAJOR');
  return major;
}

/** A node binary of production's major: this one, or the registry's build kept in `cacheDir/node-<os>-<arch>-<major>/`. */
export function productionNode(cacheDir: string, root = ROOT): string {
  const major = productionNodeMajor(root);
  if (process.versions.node.split('.')[0] === major) return process.execPath;
  const platform = `${process.platform}-${process.arch}`;
  const dir = join(cacheDir, `node-${platform}-${major}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    process.stderr.write(`Node.js ${major} (the image's) from the npm registry: node-${platform}@${major}\n`);
    mkdirSync(dir, { recursive: true });
    // No package of that name for this platform: npm says so, and this fails with its message.
    const tarball = execFileSync('npm', ['pack', `node-${platform}@${major}`, '--silent'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .at(-1)!;
    execFileSync('tar', ['-xzf', tarball], { cwd: dir });
    rmSync(join(dir, tarball));
  }
  return bin;
}

if (require.main === module) {
  const cacheDir = process.argv[2];
  if (!cacheDir) {
    process.stderr.write('usage: tsx scripts/production-node.ts <cache folder>\n');
    process.exit(2);
  }
  process.stdout.write(`${productionNode(resolve(cacheDir))}\n`);
}
