// A channel's route counts the chat requests it is answering (src/workflow/inbound.ts): from the
// moment the request is routed, before its body is read, until its response is done or its
// connection has gone.
import type { RequestHandler } from 'express';
import type { Inbound } from '../workflow/inbound';

export const countAnswering =
  (inbound: Inbound): RequestHandler =>
  (_req, res, next) => {
    res.once('close', inbound.enter());
    next();
  };
