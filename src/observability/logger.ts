import pino from 'pino';

export type Logger = pino.Logger;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Structured JSON logs on stdout; passwords and tokens never go in, message bodies only at trace. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'bosh-gateway' },
    redact: { paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' },
  });
}
