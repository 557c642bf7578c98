import { pino, type Logger } from 'pino';

/** JSON logs, readable ones when stdout is a terminal. Secrets never reach the log. */
export function createLogger(service: string): Logger {
  return pino({
    name: service,
    level: process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-router-secret"]', '*.password', '*.token', 'variables'],
      censor: '[redacted]',
    },
    transport: process.stdout.isTTY ? { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss' } } : undefined,
  });
}

export type { Logger };
