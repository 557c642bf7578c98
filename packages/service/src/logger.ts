import { pino, type Logger } from 'pino';
import { currentRequest } from './request-context.js';

/**
 * JSON logs, readable ones when stdout is a terminal. Secrets never reach the log. What the service logger
 * writes while serving a request carries the request's id as `reqId`, like fastify's request logger.
 */
export function createLogger(service: string): Logger {
  const logger: Logger = pino({
    name: service,
    // Child loggers (fastify's request.log above all) carry their own bindings.
    mixin: (_object, _level, instance) => {
      const request = instance === logger ? currentRequest() : undefined;
      return request ? { reqId: request.id } : {};
    },
    level: process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-router-secret"]',
        '*.authorization',
        '*["x-router-secret"]',
        'password',
        'token',
        '*.password',
        '*.token',
        'variables',
      ],
      censor: '[redacted]',
    },
    transport: process.stdout.isTTY ? { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss' } } : undefined,
  });
  return logger;
}

export type { Logger };
