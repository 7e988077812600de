// Preloaded into the Agents Playground by scripts/playground.ts (`node --require`): the tool
// calls `server.listen(port)` with no host, i.e. on every interface, and relays whatever it
// receives to the bot from 127.0.0.1 — which would let anyone on the network drive a bot that
// accepts unauthenticated requests only from loopback. This binds its listeners to 127.0.0.1.
// Only `listen(port[, callback])` is touched; a call that names a host is left as it is.
'use strict';
/* global require */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS preload for `node --require` */
const net = require('node:net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function patchedListen(...args) {
  const [port, second] = args;
  const portOnly = (typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port))) && (args.length === 1 || typeof second === 'function');
  if (portOnly) args.splice(1, 0, '127.0.0.1');
  return listen.apply(this, args);
};
