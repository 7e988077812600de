// The bot's port (src/listen.ts): reserved before anything is opened, then listened on by several
// sockets where the runtime can share it, one elsewhere; a taken port is refused either way. The
// shared path runs in CI's production start, on the image's Node.js (scripts/ci-production-start.sh).
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { ACCEPT_SOCKETS, canSharePort, listenShared, reservePort } from '../../src/listen';
import { parsePolicy } from '../../src/workflow/policy';
import { startBot } from '../helpers/bot';
import { policyAllowingEveryone } from '../helpers/child-bot';

const closeAll = (servers: Server[]) => Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
// What only one kind of runtime can show: the lock is held only where the port is shared (CI's
// production start runs this file on Node.js 24); a later bind fails only where it is not (Node.js 20).
const whereShared = canSharePort() ? it : it.skip;
const whereNotShared = canSharePort() ? it.skip : it;

describe('the bot’s port', () => {
  it('is shared on Linux from Node.js 23.1 and 22.12 (reusePort), not before and not elsewhere', () => {
    expect(canSharePort('linux', '24.22.3')).toBe(true);
    expect(canSharePort('linux', '23.1.0')).toBe(true);
    expect(canSharePort('linux', '23.0.0')).toBe(false);
    expect(canSharePort('linux', '22.12.0')).toBe(true);
    expect(canSharePort('linux', '22.11.0')).toBe(false);
    expect(canSharePort('linux', '20.20.2')).toBe(false);
    expect(canSharePort('darwin', '24.22.3')).toBe(false);
  });

  it('answers on the port it reserved, and a second reservation of that port is refused', async () => {
    const reservation = await reservePort('127.0.0.1', 0);
    const servers = await listenShared(
      (_req, res) => res.end('ok'),
      reservation,
      () => undefined,
    );
    try {
      expect(servers).toHaveLength(canSharePort() ? ACCEPT_SOCKETS : 1);
      expect(await (await fetch(`http://127.0.0.1:${reservation.port}/`)).text()).toBe('ok');
      await expect(reservePort('127.0.0.1', reservation.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await closeAll(servers);
      await reservation.release();
    }
  });

  it('keeps a second bot off a port to be shared while nothing listens on it yet, on any address, until released', async () => {
    // Sharing asked for explicitly: the lock is Linux's abstract socket, which this runtime has even where it cannot share.
    const first = await reservePort('127.0.0.1', 0, true);
    try {
      expect(first.shared).toBe(true);
      // Between the reservation and the shared sockets nothing listens on the port: only the lock refuses.
      await expect(reservePort('127.0.0.1', first.port, true)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await expect(reservePort('0.0.0.0', first.port, true)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.release();
    }
    const again = await reservePort('127.0.0.1', first.port, true);
    await again.release();
  });

  whereShared('is let go, lock and all, when the start-up that reserved it stops later (a policy file that cannot be read)', async () => {
    const probe = await reservePort('127.0.0.1', 0);
    const port = probe.port;
    await probe.release();
    await expect(createApp({ config: loadConfig({ HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', POLICY_FILE: '/nonexistent-cmk-folder/policy.yaml' }) })).rejects.toThrow(/cannot read the policy file/);
    // createApp held the lock: a reservation that takes it again is refused unless createApp let it go.
    const again = await reservePort('127.0.0.1', port, true);
    await again.release();
  });

  whereShared('starts where the lock cannot be taken, and says why in the log', async () => {
    const lines: Array<{ level: string; msg: string; data?: Record<string, unknown> }> = [];
    const bot = await startBot(parsePolicy(policyAllowingEveryone(), 'listen-test-policy'), {}, undefined, {
      log: (level, msg, data) => lines.push({ level, msg, data }),
      portLockPath: () => '/nonexistent-cmk-folder/lock.sock',
    });
    try {
      expect((await fetch(`${bot.app.url}/healthz`)).status).toBe(200);
      expect(lines.filter((l) => l.msg === 'the port is not shared')).toEqual([{ level: 'warn', msg: 'the port is not shared', data: { reason: expect.stringMatching(/lock .* could not be taken \(E[A-Z]+\): one listening socket/) } }]);
    } finally {
      await bot.close();
    }
  });

  it('refuses a port another program listens on', async () => {
    const other = createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const taken = (other.address() as { port: number }).port;
    await expect(reservePort('127.0.0.1', taken)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await new Promise((r) => other.close(r));
  });

  it('does not share the port where the lock that keeps a second bot off cannot be taken', async () => {
    // A lock path no process can listen on (its folder does not exist), as in a sandbox without Unix sockets.
    const reservation = await reservePort('127.0.0.1', 0, true, () => '/nonexistent-cmk-folder/lock.sock');
    try {
      expect(reservation).toMatchObject({ shared: false, notShared: expect.stringMatching(/could not be taken \(E[A-Z]+\): one listening socket/) });
      const servers = await listenShared(
        (_req, res) => res.end('ok'),
        reservation,
        () => undefined,
      );
      expect(servers).toHaveLength(1);
      await closeAll(servers);
    } finally {
      await reservation.release();
    }
  });

  whereNotShared('goes on with the sockets it has when a later one cannot share the port, and says why', async () => {
    // Asked for two sockets without the platform's sharing (Node.js 20 ignores reusePort): the second bind fails.
    const reservation = await reservePort('127.0.0.1', 0, false);
    const said: string[] = [];
    const servers = await listenShared(
      (_req, res) => res.end('ok'),
      reservation,
      (e) => said.push(e.message),
      2,
    );
    try {
      expect(servers).toHaveLength(1);
      expect(said).toEqual([expect.stringMatching(/^listening with 1 of 2 sockets on port \d+: .*EADDRINUSE/)]);
      expect((await fetch(`http://127.0.0.1:${reservation.port}/`)).status).toBe(200);
    } finally {
      await closeAll(servers);
      await reservation.release();
    }
  });
});
