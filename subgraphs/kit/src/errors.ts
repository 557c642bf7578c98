import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';

/** The codes the client contract promises; messages are for people, codes for programs. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'EMAIL_TAKEN'
  | 'INVALID_CREDENTIALS'
  | 'INSUFFICIENT_STOCK'
  | 'PAYMENT_DECLINED'
  | 'INVALID_STATE'
  | 'SERVICE_UNAVAILABLE';

export function clientError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** Codes that are safe to show as they are: the contract's, and those graphql-js and Apollo give bad requests. */
const CLIENT_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'EMAIL_TAKEN',
  'INVALID_CREDENTIALS',
  'INSUFFICIENT_STOCK',
  'PAYMENT_DECLINED',
  'INVALID_STATE',
  'SERVICE_UNAVAILABLE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
] satisfies (ErrorCode | string)[]);

/** Extensions that would show internals: stack traces, subgraph responses and names. */
const INTERNAL_EXTENSIONS = new Set(['stacktrace', 'exception', 'response', 'serviceName', 'http']);

/**
 * Apollo Server `formatError`: errors with a client code keep their message and code; anything else (a database
 * error, a bug, a subgraph that could not be reached) is logged in full and reaches the client as a bare
 * INTERNAL_SERVER_ERROR. The router runs it too, since @apollo/gateway passes subgraph errors through.
 */
export function maskUnexpectedErrors(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      const extensions = Object.fromEntries(Object.entries(formatted.extensions ?? {}).filter(([key]) => !INTERNAL_EXTENSIONS.has(key)));
      return { ...formatted, extensions };
    }
    logger.error({ err: unwrapResolverError(error), path: formatted.path }, 'unexpected error');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
