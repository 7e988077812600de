// The bot process is killed (SIGKILL) in the middle of a watchdog scan — as it reads a key — and
// started again on the same data folder: the scan job is run again by the new process, completes,
// and each alert reaches the channel once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator';
import { startChildBot, type ChildBot } from '../helpers/child-bot';
import { cardText, startConnector, type FakeConnector } from '../helpers/connector';
import { ALICE, message, post } from '../helpers/teams';

let dir: string;
let sim: Simulator;
let connector: FakeConnector;
let bot: ChildBot | undefined;
const CONV = 'conv-watch-kill';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cmk-watch-kill-'));
  writeFileSync(
    join(dir, 'policy.yaml'),
    `version: 2\ntenants: { teams: ["*"], slack: ["*"] }\npeople:\n  alice: { teams: ["tenant-1/${ALICE.aadObjectId}"] }\nwatchers: ["person:alice"]\nrules:\n  - name: all\n    requesters: ["*"]\n    approvers: ["*"]\n    irreversibleExtraApprovals: 0\n`,
  );
  [sim, connector] = await Promise.all([startSimulator({ tlsDir: join(dir, 'tls') }), startConnector()]);
});

afterAll(async () => {
  await bot?.kill('SIGKILL');
  await Promise.all([sim?.close(), connector?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const start = async () => (bot = await startChildBot(sim, { DATA_DIR: join(dir, 'data'), POLICY_FILE: join(dir, 'policy.yaml'), WATCH_INTERVAL: '0' }));
const alerts = () => connector.log.filter((a) => a.conversationId === CONV && a.kind !== 'update' && /Watch W-/.test(cardText(a.activity)));

describe('SIGKILL during a watchdog scan, then restart', () => {
  it('the restarted bot completes the scan, and every alert reaches the channel once', async () => {
    const url = (await start()).url;
    const victim = bot!;
    let killed = false;
    // The scan reads the keys its resources depend on: kill the process at the first such read.
    const off = sim.onRequest((r) => {
      if (!killed && r.method === 'GET' && /\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+\/keys\//i.test(r.path)) {
        killed = true;
        victim.child.kill('SIGKILL');
      }
    });
    await post(url, message(connector.url, ALICE, 'watch all', CONV));
    await victim.exited;
    off();
    expect(killed).toBe(true);
    expect(alerts()).toHaveLength(0);

    // Same data folder: the job is still there, and the new process runs it.
    await start();
    const first = await connector.waitFor((a) => a.conversationId === CONV && /Watch W-/.test(cardText(a.activity)), 60_000, 'an alert after the restart');
    expect(cardText(first.activity)).toMatch(/Urgent|Warning/);
    // Let every alert of the scan arrive, then count: one per key, none twice.
    await new Promise((r) => setTimeout(r, 3000));
    const titles = alerts().map((a) => cardText(a.activity).split('\n')[0]);
    expect(titles.length).toBeGreaterThan(0);
    expect(new Set(titles).size).toBe(titles.length);
    await bot!.kill('SIGTERM');
  }, 120_000);
});
