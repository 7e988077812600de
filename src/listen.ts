// The bot's port, listened on with several sockets where the platform allows it.
//
// libuv accepts one connection per turn of the event loop (libuv/libuv#3696), and the bot's loop
// is busy with the work that follows each acknowledgement: a burst of new connections waited to be
// let in one turn at a time, up to a second for the last (docs/benchmarks.md, issue 17 item 6).
// With SO_REUSEPORT (Node.js's `reusePort`, Linux, Node.js ≥ 22.12) several listening sockets share
// the port, the kernel spreads new connections over them, and one turn accepts one on each.
//
// SO_REUSEPORT would also let a second bot of the same user bind the port beside the first and
// take half its traffic. So the port is first bound the plain way, which fails while anything
// listens there (our own shared sockets included), and only then shared.
import { createServer, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type ListenOptions, type Server as NetServer } from 'node:net';

/** Listening sockets on the port where they can be shared (measured: 8 and 16 alike; 16 leaves room). */
export const ACCEPT_SOCKETS = 16;

/** Whether this runtime can share a port between sockets: `reusePort` is Node.js ≥ 23.1 / 22.12, on Linux here. */
export function canSharePort(platform: string = process.platform, version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return platform === 'linux' && (major > 22 || (major === 22 && minor >= 12));
}

function listenOn(server: Server | NetServer, options: ListenOptions & { reusePort?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Listens on host:port (0: a free port the system picks) with `sockets` servers sharing it where
 * the runtime can (one otherwise). Fails with EADDRINUSE while anything else listens there.
 */
export async function listenShared(handler: RequestListener, host: string, port: number, sockets = canSharePort() ? ACCEPT_SOCKETS : 1): Promise<{ servers: Server[]; port: number }> {
  const probe = createNetServer();
  await listenOn(probe, { host, port, exclusive: true });
  const chosen = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const servers: Server[] = [];
  try {
    for (let i = 0; i < Math.max(1, sockets); i++) {
      const server = createServer(handler);
      await listenOn(server, { host, port: chosen, exclusive: true, ...(sockets > 1 ? { reusePort: true } : {}) });
      servers.push(server);
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }
  return { servers, port: chosen };
}
