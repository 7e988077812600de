// The bot's port, listened on with several sockets where the platform allows it.
//
// libuv accepts one connection per turn of the event loop (libuv/libuv#3696), and the bot's loop
// is busy with the work that follows each acknowledgement: a burst of new connections waited to be
// let in one turn at a time, up to a second for the last (docs/benchmarks.md, issue 17 item 6).
// With SO_REUSEPORT (Node.js's `reusePort`, Linux, Node.js ≥ 23.1 or 22.12) several listening
// sockets share the port, the kernel spreads new connections over them, and one turn accepts one
// on each.
//
// SO_REUSEPORT would also let a second bot of the same user bind the port beside the first and
// take half its traffic. So the port is reserved first, before the bot opens anything: bound the
// plain way, which fails while anything listens there (our shared sockets included), and, where
// the sockets will be shared, a lock only one process can hold (an abstract Unix socket named after
// the port) for the process's life, which closes the gap between that bind and the shared ones.
// A program of the same user that sets SO_REUSEPORT itself could still join the port; nothing in
// a socket option prevents that.
import { createServer, type RequestListener, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type ListenOptions, type Server as NetServer } from 'node:net';

/** Listening sockets on the port where they can be shared (measured: 8 and 16 alike; 16 leaves room). */
export const ACCEPT_SOCKETS = 16;

/** Whether this runtime can share a port between sockets: `reusePort` is Node.js ≥ 23.1 / 22.12, on Linux here. */
export function canSharePort(platform: string = process.platform, version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return platform === 'linux' && (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12));
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

const closed = (s: Server | NetServer) => new Promise<void>((r) => s.close(() => r()));

/** A port this process may listen on: nothing else listens there, and no other bot will (see above). */
export interface PortReservation {
  host: string;
  /** The port (the one the system chose, for 0). */
  port: number;
  /** Whether the port is to be shared by ACCEPT_SOCKETS sockets. */
  shared: boolean;
  /** Why a runtime that can share the port does not (the lock could not be taken). */
  notShared?: string;
  /** Lets the port go (on close, or when start-up stops). */
  release(): Promise<void>;
}

/**
 * The lock's name: an abstract Unix socket (Linux; no file, gone with the process). By port alone:
 * a bot on 0.0.0.0 and one on 127.0.0.1 would share the same port's connections.
 */
const lockPathOf = (port: number) => `\0cmk-chatops:port:${port}`;

/**
 * Reserves host:port (0: a free one the system picks). Fails with EADDRINUSE while anything listens
 * there or another bot holds it. Where the lock cannot be taken for another reason (a sandbox
 * without Unix sockets), the port is not shared: one socket, as on a runtime that cannot share it.
 */
export async function reservePort(host: string, port: number, shared = canSharePort(), lockPath = lockPathOf): Promise<PortReservation> {
  const probe = createNetServer();
  await listenOn(probe, { host, port, exclusive: true });
  const chosen = (probe.address() as AddressInfo).port;
  let lock: NetServer | undefined;
  let notShared: string | undefined;
  try {
    if (shared) {
      lock = createNetServer();
      await listenOn(lock, { path: lockPath(chosen) }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') throw e;
        lock = undefined;
        notShared = `the lock that keeps a second bot off the port could not be taken (${e.code ?? e.message}): one listening socket`;
      });
    }
  } finally {
    await closed(probe);
  }
  const held = lock;
  return {
    host,
    port: chosen,
    shared: !!held,
    ...(notShared ? { notShared } : {}),
    async release() {
      if (held?.listening) await closed(held);
    },
  };
}

/**
 * Listens on a reserved port with ACCEPT_SOCKETS servers sharing it (one where it cannot be
 * shared). Only the first must bind: if a later one cannot, the bot goes on with those it has and
 * `onError` says why. `onError` also hears what a listening server reports afterwards (an accept
 * that failed for want of file descriptors), which would otherwise end the process.
 */
export async function listenShared(handler: RequestListener, reservation: PortReservation, onError: (e: Error) => void, sockets = reservation.shared ? ACCEPT_SOCKETS : 1): Promise<Server[]> {
  const servers: Server[] = [];
  for (let i = 0; i < Math.max(1, sockets); i++) {
    const server = createServer(handler);
    try {
      await listenOn(server, { host: reservation.host, port: reservation.port, exclusive: true, ...(sockets > 1 ? { reusePort: true } : {}) });
    } catch (e) {
      if (!servers.length) throw e;
      onError(new Error(`listening with ${servers.length} of ${sockets} sockets on port ${reservation.port}: ${(e as Error).message}`));
      break;
    }
    server.on('error', onError);
    servers.push(server);
  }
  return servers;
}
