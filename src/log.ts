// Structured one-line JSON logs (pino) on stderr. Each line carries the id of the HTTP request or
// the durable job it belongs to (kept in AsyncLocalStorage, so nothing passes it by hand), and ARM
// calls log their correlation id. Secrets are never passed in; anything named like one is redacted.
import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

/** What a log line is part of: an inbound request, or a durable job. */
export interface LogContext {
  requestId?: string;
  job?: string;
}

const context = new AsyncLocalStorage<LogContext>();

/** Run `fn` with `ctx` attached to every log line written inside it (and the async work it starts). */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return context.run({ ...context.getStore(), ...ctx }, fn);
}

export function currentLogContext(): LogContext | undefined {
  return context.getStore();
}

const SECRET_KEY = /(password|secret|token|authorization|cookie|credential|signature)/i;

/** Redact secret-looking keys at any depth, and bearer tokens inside strings. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[deep]';
  if (typeof value === 'string') return value.replace(/(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, '$1[redacted]').replace(/xox[abprs]-[A-Za-z0-9-]+/g, 'xox?-[redacted]');
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1)]));
  }
  return value;
}

export function createLog(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Log {
  const logger = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => ({ ...context.getStore() }),
    },
    { write },
  );
  return (lvl, msg, data) => {
    if (level === 'silent') return;
    logger[lvl](data ? (redact(data) as Record<string, unknown>) : {}, msg);
  };
}
