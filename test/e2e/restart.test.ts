// A restart while a Chaos PUT is in progress: the bot process is killed (SIGKILL) after Azure
// accepted the long-running write, started again on the same data folder, and finishes the
// request by following the stored operation — without sending the PUT a second time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIM_CHAOS_CONTAINER, SIM_IDENTITY, SIM_LOCATION, SIM_RG, SIM_STORAGE_CMK, SIM_SUBSCRIPTION_ID, simChaosVmTargetId, simIdentityId, simStorageId, startSimulator, type Simulator } from '../../src/simulator';
import { cardText, startConnector, type FakeConnector } from '../helpers/connector';
import { ALICE, BOB, cardAction, post } from '../helpers/teams';

let dir: string;
let sim: Simulator;
let connector: FakeConnector;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cmk-restart-'));
  writeFileSync(join(dir, 'policy.yaml'), 'version: 1\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n');
  // The operation needs a few polls, one second apart: time enough to kill the bot mid-way.
  [sim, connector] = await Promise.all([startSimulator({ tlsDir: join(dir, 'tls'), lro: { retryAfterSeconds: 1, pollsToComplete: 4 } }), startConnector()]);
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await Promise.all([sim?.close(), connector?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function startBot(): Promise<string> {
  // tsx as a loader in this very process, so SIGKILL reaches the bot itself (the tsx CLI runs it in a child).
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: join(dir, 'data'),
      PORT: '0',
      AZURE_MODE: 'simulator',
      ARM_ENDPOINT: sim.endpoint,
      ARM_CA_FILE: sim.caPath!,
      POLICY_FILE: join(dir, 'policy.yaml'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`bot did not start:\n${out}`)), 40_000);
    const on = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child!.stdout!.on('data', on);
    child!.stderr!.on('data', on);
  });
}

it('resumes polling after SIGKILL and completes the request exactly once', async () => {
  const url = await startBot();
  const formMsg = 'form-restart';
  await post(
    url,
    cardAction(connector.url, ALICE, 'form.submit', {
      targetType: 'chaos-experiment',
      subscriptionId: SIM_SUBSCRIPTION_ID,
      resourceGroup: SIM_RG,
      name: 'exp-restart',
      location: SIM_LOCATION,
      identityId: simIdentityId(SIM_IDENTITY),
      storageAccountId: simStorageId(SIM_STORAGE_CMK),
      blobContainerName: SIM_CHAOS_CONTAINER,
      template: 'vm-shutdown',
      targetResourceId: simChaosVmTargetId(),
    }, formMsg),
  );
  const card = await connector.waitFor((a) => a.id === formMsg && /Waiting for 1 more approval/.test(cardText(a.activity)), 30_000, 'request card');
  const requestId = /Request: (CR-[A-Z0-9]{6})/.exec(cardText(card.activity))![1]!;
  await post(url, cardAction(connector.url, BOB, 'request.approve', { requestId }, formMsg));
  await connector.waitFor((a) => new RegExp(`${requestId}: Azure accepted the change`).test(a.activity.text ?? ''), 20_000, 'operation started');

  // Kill the bot while Azure is still working on it.
  const died = new Promise((r) => child!.once('exit', r));
  child!.kill('SIGKILL');
  await died;
  expect(sim.writes().filter((w) => w.method === 'PUT')).toHaveLength(1);

  await startBot(); // same data folder: it must pick the request up by itself
  await connector.waitFor((a) => a.kind === 'update' && a.id === formMsg && /Created with customer data storage and verified/.test(cardText(a.activity)), 40_000, 'finished after restart');
  expect(sim.writes().filter((w) => w.method === 'PUT')).toHaveLength(1);
  const stopped = new Promise((r) => child!.once('exit', r));
  child!.kill('SIGTERM');
  await stopped;
}, 120_000);
