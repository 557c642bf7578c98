import { createGraphQLService, createLogger, isProduction, SANDBOX_ORIGIN, type Logger } from '@shop/service';
import { settings } from './config.js';
import { createGateway, supergraphPath, subgraphsOf, type RouterContext } from './gateway.js';
import { operationDedupePlugin } from './dedupe.js';
import { EntityCache, type EntityStore } from './entity-cache.js';
import { MemoryEntityStore } from './entity-cache-memory.js';
import { explorerLandingPage, serveExplorerAssets } from './explorer.js';
import { costLimitPlugin, limitRules, operationLimits } from './limits.js';
import { manifestFor, persistedQueriesHook, subscribePayloadResolver } from './persisted-queries.js';
import { contractOperationsPath, warmPlansOnLoad } from './plan-warmup.js';
import { createSubscriptions } from './subscriptions/index.js';
import { SupergraphFile } from './supergraph-file.js';
import { trustProxySetting } from './trust-proxy.js';

/** Checks that a subgraph answers a trivial query. */
async function subgraphAnswers(url: string, routerSecret: string | undefined): Promise<true | string> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(routerSecret && { 'x-router-secret': routerSecret }) },
      body: JSON.stringify({ query: '{ __typename }' }),
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok ? true : `answered HTTP ${response.status}`;
  } catch (error) {
    return `unreachable: ${(error as Error).message}`;
  }
}

/** Where the entity cache keeps its entries: in Redis, shared by every replica, with REDIS_URL; else in memory. */
async function entityStore(logger: Logger): Promise<EntityStore> {
  const {
    REDIS_URL,
    ENTITY_CACHE_TTL_MS: ttlMs,
    ENTITY_CACHE_MAX_PRODUCTS: maxProducts,
    ENTITY_CACHE_MAX_ROOT_QUERIES: maxRootQueries,
  } = settings();
  if (!REDIS_URL) return new MemoryEntityStore({ maxProducts, maxRootQueries, ttlMs });
  // Loaded only when used: the Redis client is no part of a start without it.
  const store = new (await import('./entity-cache-redis.js')).RedisEntityStore(REDIS_URL, { ttlMs, logger });
  await store.open();
  return store;
}

/** Builds the router (gateway loaded, subgraphs not yet required) without opening a port. */
export async function buildServer() {
  const logger = createLogger('router');
  const supergraph = new SupergraphFile(supergraphPath(), logger);
  // Product entities and catalogue queries cached at the router, kept current by products events (only with NATS_URL).
  const entityCache = settings().ENTITY_CACHE && settings().NATS_URL ? new EntityCache(await entityStore(logger)) : undefined;
  // Loaded only when used: the NATS client is no part of a start without it.
  const events = entityCache
    ? await (await import('./entity-cache-events.js')).followProductChanges(settings().NATS_URL!, entityCache, logger)
    : undefined;
  const gateway = createGateway(supergraph, undefined, { entityCache });
  // The contract's query plans are built whenever a supergraph loads, before the first client needs them.
  warmPlansOnLoad(gateway, contractOperationsPath(), logger);
  const corsOrigins = [SANDBOX_ORIGIN, ...settings().CORS_ORIGINS];
  // Operation limits, all enforced here before any subgraph is called (docs/security.md).
  const limits = operationLimits();
  if (isProduction && !settings().ROUTER_SECRET) {
    logger.warn(
      'SECURITY: ROUTER_SECRET is not set. The subgraphs cannot tell the router from anyone else. Set the same ROUTER_SECRET on the router and every subgraph.',
    );
  }
  // Trusted documents: manifest ids run in both modes; safelist runs nothing else (docs/security.md).
  const persistedQueries = settings().PERSISTED_QUERIES;
  const manifest = manifestFor(persistedQueries, settings().PERSISTED_QUERIES_MANIFEST, logger);
  // The offline explorer needs introspection for its docs; without it the landing page stays Apollo's.
  const introspection = settings().INTROSPECTION ?? !isProduction;
  const trustProxy = trustProxySetting(settings().TRUST_PROXY);
  // Subscriptions (docs/realtime.md): multipart on the /graphql route, graphql-ws on the same port; both follow
  // the trusted documents (HTTP through the preHandler before theirs, graphql-ws through resolveOperation).
  const subscriptions = createSubscriptions({
    gateway,
    limits,
    logger,
    trustProxy,
    resolveOperation: subscribePayloadResolver(manifest, persistedQueries),
  });
  const service = await createGraphQLService<RouterContext>({
    name: 'router',
    logger,
    gateway,
    corsOrigins,
    // The client's address is the socket's unless TRUST_PROXY names the proxies in front of the router.
    trustProxy,
    parseOptions: { maxTokens: limits.tokens },
    validationRules: limitRules(limits),
    plugins: [costLimitPlugin<RouterContext>(limits), ...(settings().DEDUPE_OPERATIONS ? [operationDedupePlugin<RouterContext>()] : [])],
    graphqlPreHandler: [persistedQueriesHook(manifest, persistedQueries), subscriptions.preHandler],
    // In safelist mode no hash is ever registered: APQ is off, and an unknown id is refused before Apollo.
    ...(persistedQueries === 'safelist' && { persistedQueries: false as const }),
    ...(introspection && { landingPage: explorerLandingPage<RouterContext>() }),
    // request.ip is the socket's address, or with TRUST_PROXY the client's from X-Forwarded-For.
    context: async (request) => ({ authorization: request.headers.authorization, requestId: request.id, clientIp: request.ip }),
    readiness: async () => {
      const checks = await Promise.all(
        subgraphsOf(supergraph.current).map(async ({ name, url }) => [name, await subgraphAnswers(url, settings().ROUTER_SECRET)] as const),
      );
      return { supergraph: true, ...Object.fromEntries(checks) };
    },
    onClose: async () => {
      await events?.close();
      await entityCache?.close();
    },
  });
  subscriptions.attach(service.app);
  if (introspection) await serveExplorerAssets(service.app);
  return Object.assign(service, { subscriptions, entityCache });
}
