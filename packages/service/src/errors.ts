import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { currentRequest } from './request-context.js';

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
  | 'SERVICE_UNAVAILABLE'
  | 'RATE_LIMITED';

/** Codes the router gives operations it refuses to run for their size (see docs/security.md). */
export const LIMIT_CODES = [
  'MAX_DEPTH_LIMIT',
  'MAX_ALIASES_LIMIT',
  'MAX_ROOT_FIELDS_LIMIT',
  'MAX_DIRECTIVES_LIMIT',
  'COST_ESTIMATED_TOO_EXPENSIVE',
] as const;

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
  'RATE_LIMITED',
  ...LIMIT_CODES,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  // The router's trusted documents (a subscription over graphql-ws is refused through formatError).
  'PERSISTED_QUERY_NOT_IN_LIST',
  'OPERATION_RESOLUTION_FAILURE',
] satisfies (ErrorCode | string)[]);

/** Extensions that would show internals: stack traces, subgraph responses and names. */
const INTERNAL_EXTENSIONS = new Set(['stacktrace', 'exception', 'response', 'serviceName', 'http']);

export interface MaskOptions {
  /** Strip graphql-js's "Did you mean …?" hints, which spell the schema out to anyone probing it (production). */
  hideSuggestions?: boolean;
}

/**
 * Apollo Server `formatError`: errors with a client code keep their message and code; anything else (a database
 * error, a bug, a subgraph that could not be reached) is logged in full, under the request id, and reaches the
 * client as a bare INTERNAL_SERVER_ERROR. The router runs it too, since @apollo/gateway passes subgraph errors
 * through.
 */
export function maskUnexpectedErrors(logger: Logger, options: MaskOptions = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = ownCode(formatted, error);
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      const extensions = Object.fromEntries(Object.entries(formatted.extensions ?? {}).filter(([key]) => !INTERNAL_EXTENSIONS.has(key)));
      const message = options.hideSuggestions ? withoutSuggestions(formatted.message) : formatted.message;
      return { ...formatted, message, extensions: { ...extensions, code } };
    }
    (currentRequest()?.log ?? logger).error({ err: unwrapResolverError(error), path: formatted.path }, 'unexpected error');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/**
 * Apollo Server files every validation error under GRAPHQL_VALIDATION_FAILED; a rule that gave its refusal a
 * code of its own (the router's limits) keeps that code.
 */
function ownCode(formatted: GraphQLFormattedError, error: unknown): unknown {
  const code = formatted.extensions?.code;
  if (code !== 'GRAPHQL_VALIDATION_FAILED') return code;
  const own = (error as { originalError?: { extensions?: Record<string, unknown> } } | undefined)?.originalError?.extensions?.code;
  return typeof own === 'string' && (LIMIT_CODES as readonly string[]).includes(own) ? own : code;
}

/** `Cannot query field "nme" on type "User". Did you mean "name"?` loses its last sentence. */
export function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean\b.*$/s, '');
}
