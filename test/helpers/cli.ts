// The operator commands (src/cli/*) as a person runs them: a child process through tsx, with only
// the environment given (and PATH). Its exit code and what it printed on each stream.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

type CliRun = { code: number; out: string; err: string };

export function runCli(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<CliRun> {
  return promisify(execFile)(process.execPath, [join('node_modules', 'tsx', 'dist', 'cli.mjs'), script, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
}
