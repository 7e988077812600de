// The bot's port is shared by several listening sockets only where the runtime can (src/listen.ts);
// elsewhere it is one socket, and a taken port is refused either way. The shared path itself runs in
// CI's production start, on the image's Node.js (scripts/ci-production-start.sh).
import { createServer } from 'node:net';
import { canSharePort, listenShared } from '../../src/listen';

describe('listening on the bot’s port', () => {
  it('shares the port on Linux from Node.js 22.12 (reusePort), not before and not elsewhere', () => {
    expect(canSharePort('linux', '24.22.3')).toBe(true);
    expect(canSharePort('linux', '22.12.0')).toBe(true);
    expect(canSharePort('linux', '22.11.0')).toBe(false);
    expect(canSharePort('linux', '20.20.2')).toBe(false);
    expect(canSharePort('darwin', '24.22.3')).toBe(false);
  });

  it('answers on the port it chose, and refuses a port something else listens on', async () => {
    const { servers, port } = await listenShared((_req, res) => res.end('ok'), '127.0.0.1', 0);
    try {
      expect(servers).toHaveLength(canSharePort() ? 16 : 1);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
      await expect(listenShared((_req, res) => res.end('second'), '127.0.0.1', port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
    const other = createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const taken = (other.address() as { port: number }).port;
    await expect(listenShared((_req, res) => res.end('x'), '127.0.0.1', taken)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await new Promise((r) => other.close(r));
  });
});
