// Structured one-line JSON logs on stderr. Secrets are never passed in; tokens are redacted anyway.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type Log = (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };
const SECRET = /(password|secret|token|authorization)/i;

export function createLog(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Log {
  return (lvl, msg, data) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const clean = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, SECRET.test(k) ? '[redacted]' : v]));
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...clean }));
  };
}
