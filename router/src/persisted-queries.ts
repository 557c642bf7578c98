import { existsSync, readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError, stripIgnoredCharacters } from 'graphql';
import { errorBody, type Logger } from '@shop/service';

/**
 * Trusted documents (docs/security.md). The persisted-query manifest (Apollo's format, written by
 * `npm run codegen`) lists every operation the storefront and the contract send, each with an id: the sha256 of
 * its text, as Apollo Client sends it.
 *
 * - `allow` (development): a manifest id runs its operation; anything else goes on to Apollo Server as it is, so
 *   full documents and automatic persisted queries (APQ: a hash, registered by sending the document once) work.
 * - `safelist` (production): only the manifest's operations run, by id or by their full text; any other
 *   document, and any id not in the manifest, is refused with PERSISTED_QUERY_NOT_IN_LIST before it is parsed.
 *
 * Apollo Server 5 has APQ (`persistedQueries`) but no safelist of its own (that is the GraphOS Router's), so the
 * check runs here, on the request's parameters, before Apollo Server reads them. A subscription arriving over
 * WebSocket goes through `resolvePersistedOperation` too, so it follows the same rule.
 */
export type PersistedQueryMode = 'safelist' | 'allow';

export const NOT_IN_LIST = 'PERSISTED_QUERY_NOT_IN_LIST';

export interface PersistedQueryManifest {
  /** The operation's text by id. */
  byId: ReadonlyMap<string, string>;
  /** Each operation's text, stripped of whitespace and comments, so a reformatted copy still matches. */
  stripped: ReadonlySet<string>;
}

interface ManifestFile {
  format?: unknown;
  version?: unknown;
  operations?: { id?: unknown; body?: unknown }[];
}

/** The router's manifest: PERSISTED_QUERIES_MANIFEST, else the one `npm run codegen` writes next to the supergraph. */
export const defaultManifestPath = () => new URL('../../schema/persisted-query-manifest.json', import.meta.url).pathname;

/** Reads a manifest in Apollo's format; throws naming the file when it is missing or not one. */
export function loadManifest(path: string): PersistedQueryManifest {
  let file: ManifestFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as ManifestFile;
  } catch (error) {
    throw new Error(`The persisted-query manifest ${path} could not be read: ${(error as Error).message}`, { cause: error });
  }
  if (file.format !== 'apollo-persisted-query-manifest' || file.version !== 1 || !Array.isArray(file.operations)) {
    throw new Error(`${path} is not a persisted-query manifest (format apollo-persisted-query-manifest, version 1)`);
  }
  const byId = new Map<string, string>();
  for (const operation of file.operations) {
    if (typeof operation.id !== 'string' || typeof operation.body !== 'string') {
      throw new Error(`${path}: every operation needs a string id and body`);
    }
    byId.set(operation.id, operation.body);
  }
  return { byId, stripped: new Set([...byId.values()].map((body) => strip(body) ?? body)) };
}

/**
 * The manifest the router runs with. In safelist mode a missing or broken manifest stops the router at start
 * (nothing could run); in allow mode the router starts without one, ids then work as APQ only.
 */
export function manifestFor(mode: PersistedQueryMode, path: string | undefined, logger: Logger): PersistedQueryManifest {
  const file = path ?? defaultManifestPath();
  if (mode === 'allow' && !existsSync(file)) {
    logger.warn(`No persisted-query manifest at ${file} (PERSISTED_QUERIES_MANIFEST): manifest ids run only once registered as APQ`);
    return { byId: new Map(), stripped: new Set() };
  }
  try {
    return loadManifest(file);
  } catch (error) {
    // Named like a bad setting: the router does not start on a manifest it cannot use.
    throw new Error(`PERSISTED_QUERIES_MANIFEST: ${(error as Error).message}`, { cause: error });
  }
}

function strip(text: string): string | undefined {
  try {
    return stripIgnoredCharacters(text);
  } catch {
    return undefined;
  }
}

/** The parameters of one GraphQL request: an HTTP body, a GET query string's, or a graphql-ws subscribe payload. */
export interface OperationParams {
  query?: unknown;
  extensions?: unknown;
  operationName?: unknown;
  variables?: unknown;
}

export type Resolution<T extends OperationParams> = { ok: true; params: T } | { ok: false; message: string };

const persistedQueryOf = (extensions: unknown): { sha256Hash?: unknown } | undefined =>
  typeof extensions === 'object' && extensions !== null
    ? (extensions as { persistedQuery?: { sha256Hash?: unknown } }).persistedQuery
    : undefined;

/**
 * What to run for one request: a manifest id becomes its document (the persistedQuery extension is dropped, so
 * Apollo Server runs it as a plain document); in safelist mode anything not in the manifest is refused.
 */
export function resolvePersistedOperation<T extends OperationParams>(
  params: T,
  manifest: PersistedQueryManifest,
  mode: PersistedQueryMode,
): Resolution<T> {
  const persistedQuery = persistedQueryOf(params.extensions);
  const id = persistedQuery?.sha256Hash;
  const body = typeof id === 'string' ? manifest.byId.get(id) : undefined;
  if (body !== undefined) {
    const { persistedQuery: _dropped, ...extensions } = params.extensions as Record<string, unknown>;
    return { ok: true, params: { ...params, query: body, extensions } };
  }
  if (mode === 'allow') return { ok: true, params };
  if (persistedQuery !== undefined) {
    return { ok: false, message: 'This operation id is not in the persisted-query list: only the trusted operations run here' };
  }
  // Without a document Apollo Server answers BAD_REQUEST itself.
  if (params.query === undefined || params.query === null) return { ok: true, params };
  const stripped = typeof params.query === 'string' ? strip(params.query) : undefined;
  if (stripped !== undefined && manifest.stripped.has(stripped)) return { ok: true, params };
  return { ok: false, message: 'This operation is not in the persisted-query list: only the trusted operations run here' };
}

/**
 * The same rule for a graphql-ws subscribe payload: the payload to run, or the error to answer it with. (graphql-ws
 * requires a string `query`, so a client sending an id alone sends an empty one.)
 */
export function subscribePayloadResolver(manifest: PersistedQueryManifest, mode: PersistedQueryMode) {
  return <T extends OperationParams>(payload: T): T | GraphQLError => {
    const withoutEmptyQuery = payload.query === '' && persistedQueryOf(payload.extensions) ? { ...payload, query: undefined } : payload;
    const resolution = resolvePersistedOperation(withoutEmptyQuery, manifest, mode);
    return resolution.ok ? resolution.params : new GraphQLError(resolution.message, { extensions: { code: NOT_IN_LIST } });
  };
}

/**
 * The /graphql hook: POST bodies (one operation or a batch) and GET query strings are resolved before Apollo
 * Server reads them; a refusal answers 400 with PERSISTED_QUERY_NOT_IN_LIST and runs nothing.
 */
export function persistedQueriesHook(manifest: PersistedQueryManifest, mode: PersistedQueryMode) {
  return async function persistedQueries(request: FastifyRequest, reply: FastifyReply) {
    if (request.method === 'POST') {
      const body = request.body;
      if (Array.isArray(body)) {
        const resolved = body.map((params: unknown) =>
          typeof params === 'object' && params !== null ? resolvePersistedOperation(params as OperationParams, manifest, mode) : undefined,
        );
        const refused = resolved.find((resolution) => resolution?.ok === false);
        if (refused && !refused.ok) return refuse(reply, refused.message);
        request.body = resolved.map((resolution, index) => (resolution?.ok ? resolution.params : body[index]));
      } else if (typeof body === 'object' && body !== null) {
        const resolution = resolvePersistedOperation(body as OperationParams, manifest, mode);
        if (!resolution.ok) return refuse(reply, resolution.message);
        request.body = resolution.params;
      }
    } else if (request.method === 'GET') {
      const search = request.query as Record<string, string | undefined>;
      if (search.query === undefined && search.extensions === undefined) return; // the landing page
      let extensions: unknown = search.extensions;
      try {
        if (typeof extensions === 'string') extensions = JSON.parse(extensions);
      } catch {
        return; // Apollo Server answers a malformed extensions parameter itself.
      }
      const resolution = resolvePersistedOperation<OperationParams>({ ...search, extensions }, manifest, mode);
      if (!resolution.ok) return refuse(reply, resolution.message);
      if (resolution.params.query === search.query) return;
      // Apollo Server reads a GET's parameters from the URL: the id's document is written into it.
      const url = new URL(request.url, 'http://router');
      url.searchParams.set('query', resolution.params.query as string);
      url.searchParams.set('extensions', JSON.stringify(resolution.params.extensions));
      request.raw.url = `${url.pathname}${url.search}`;
    }
  };
}

function refuse(reply: FastifyReply, message: string) {
  return reply.code(400).type('application/json; charset=utf-8').send(errorBody(NOT_IN_LIST, message));
}
