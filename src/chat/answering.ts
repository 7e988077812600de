// A channel's route counts the chat requests it is answering (src/workflow/inbound.ts): mounted
// after the body parser, from when the body has been read until the response is done or the
// connection has gone (or the count's time is up). Anyone's request counts, signed or not — for
// 0.5 s at most, which is as long as it can hold back the work after other acks.
import type { RequestHandler } from 'express';
import type { Inbound } from '../workflow/inbound';

export const countAnswering =
  (inbound: Inbound): RequestHandler =>
  (_req, res, next) => {
    res.once('close', inbound.enter());
    next();
  };
