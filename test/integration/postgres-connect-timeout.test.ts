// A PostgreSQL server that accepts the TCP connection and never answers (a hung server, or a
// network path that drops packets instead of refusing): the pool gives up after its connect
// timeout with an error, instead of every query — and the acknowledgement waiting on it — hanging.
import net from 'node:net';
import { Store } from '../../src/store/store';

it('opening a connection to a server that never answers fails within the connect timeout', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => void sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as net.AddressInfo;
  try {
    const started = Date.now();
    // Through the store, as the bot opens it: the option reaches the pool.
    await expect(Store.open({ kind: 'postgres', url: `postgres://cmk@127.0.0.1:${port}/cmk`, connectTimeoutMs: 300 })).rejects.toThrow(/timeout/i);
    expect(Date.now() - started).toBeLessThan(5_000);
    // It did reach the server: the wait was for an answer, not for a route.
    expect(sockets.size).toBeGreaterThan(0);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
}, 20_000);
