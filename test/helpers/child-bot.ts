// The real entry point (src/main.ts) as a child process, for tests that kill, stop and restart it
// or run several replicas. tsx is loaded in the child itself, so a signal reaches the bot.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator';
import { startConnector, type FakeConnector } from './connector';

export interface ChildBot {
  url: string;
  child: ChildProcess;
  /** Everything it printed (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function policyAllowingEveryone(): string {
  return 'version: 2\ntenants: { teams: ["*"], slack: ["*"] }\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n';
}

/** What a start that never came up (a refusal) rejects with: its exit code and everything it printed. */
export type RefusedStart = Error & { code: number | null; out: string };

const ROOT = join(__dirname, '..', '..');

/**
 * Starts the bot against `sim` (a simulator in the test process). `cwd`: the folder it runs in (a
 * `.env` there is read), the repository root unless given; the entry point is found either way.
 */
export function startChildBot(sim: Simulator, env: Record<string, string>, opts: { cwd?: string } = {}): Promise<ChildBot> {
  const child = spawn(process.execPath, ['--import', join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'), join(ROOT, 'src', 'main.ts')], {
    cwd: opts.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      AZURE_MODE: 'simulator',
      ARM_ENDPOINT: sim.endpoint,
      ARM_CA_FILE: sim.caPath!,
      LOG_LEVEL: 'warn',
      ARM_RETRY_DELAY_MS: '50',
      JOB_POLL_MS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`bot did not start:\n${out}`)), 40_000);
    const on = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({
          url: m[1]!,
          child,
          output: () => out,
          exited,
          kill: async (signal = 'SIGKILL') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    void exited.then((code) => {
      clearTimeout(t);
      if (!/listening on/.test(out)) reject(Object.assign(new Error(`bot exited (${code}) before it started:\n${out}`), { code, out }));
    });
  });
}

/** A folder with the open policy, a simulator and a connector stand-in: a bot started (and killed, and started again) on that folder. */
export interface ChildBotRig {
  dir: string;
  sim: Simulator;
  connector: FakeConnector;
  /** The bot started last. */
  readonly bot: ChildBot | undefined;
  /** A bot on the rig's data folder and policy (`env` adds to them). */
  start(env?: Record<string, string>): Promise<ChildBot>;
  /** Kills the bot and ends the simulator, the connector and the folder. */
  close(): Promise<void>;
}

export async function childBotRig(prefix: string, simulator: Omit<SimulatorOptions, 'tlsDir'> = {}): Promise<ChildBotRig> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'policy.yaml'), policyAllowingEveryone());
  const [sim, connector] = await Promise.all([startSimulator({ ...simulator, tlsDir: join(dir, 'tls') }), startConnector()]);
  let bot: ChildBot | undefined;
  return {
    dir,
    sim,
    connector,
    get bot() {
      return bot;
    },
    async start(env = {}) {
      bot = await startChildBot(sim, { DATA_DIR: join(dir, 'data'), POLICY_FILE: join(dir, 'policy.yaml'), ...env });
      return bot;
    },
    async close() {
      await bot?.kill('SIGKILL');
      await Promise.all([sim.close(), connector.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
