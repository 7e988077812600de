// Structured one-line JSON logs (pino) on stderr. Each line carries the id of the HTTP request or
// the durable job it belongs to (kept in AsyncLocalStorage, so nothing passes it by hand), and ARM
// calls log their correlation id. Secrets are never passed in; anything named like one is redacted.
import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
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

// Libraries that print to the console (botbuilder, before the Agents SDK, wrote refused tokens and
// failed turns with console.error, stack traces included) would put lines outside the JSON log. Work run inside
// routeConsole() has its console output turned into log lines instead; elsewhere the console is
// left as it is.
const consoleRoute = new AsyncLocalStorage<Log>();
let consolePatched = false;
const CONSOLE_LEVEL = { error: 'error', warn: 'warn', log: 'debug', info: 'debug', debug: 'debug', trace: 'debug' } as const;

function patchConsole(): void {
  if (consolePatched) return;
  consolePatched = true;
  for (const method of Object.keys(CONSOLE_LEVEL) as Array<keyof typeof CONSOLE_LEVEL>) {
    const original = console[method] as (...args: unknown[]) => void;
    console[method] = (...args: unknown[]) => {
      const route = consoleRoute.getStore();
      if (!route) return original.apply(console, args);
      route(CONSOLE_LEVEL[method], 'library console output', { text: format(...args).slice(0, 4000) });
    };
  }
}

/** Run `fn` (and the async work it starts) with console output sent to `log` as JSON lines; nothing is printed when there is no log. */
export function routeConsole<T>(log: Log | undefined, fn: () => T): T {
  patchConsole();
  return consoleRoute.run(log ?? (() => undefined), fn);
}
