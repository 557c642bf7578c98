import { portSettings, readSettings, redisUrlSetting, serviceSettings, setting, z } from '@shop/service/config';
import { SUBGRAPH_NAMES } from '@shop/service/services';

/** `<NAME>_URL` for each subgraph: where the router fetches from, instead of the URL composed into the supergraph. */
const subgraphUrls = Object.fromEntries(
  SUBGRAPH_NAMES.map((name) => [`${name.toUpperCase()}_URL`, setting.url(['http', 'https'])]),
) as Record<`${Uppercase<(typeof SUBGRAPH_NAMES)[number]>}_URL`, ReturnType<typeof setting.url>>;

/** Every variable the router reads, checked as it starts. */
export const routerSettings = serviceSettings
  .extend(portSettings('router').shape)
  .extend(subgraphUrls)
  .extend({
    /** The supergraph to serve, watched for changes: schema/supergraph.graphql unless set. */
    SUPERGRAPH_PATH: setting.text(undefined),
    /** Browser origins allowed besides Apollo Sandbox, comma-separated, each like https://shop.example. */
    CORS_ORIGINS: setting
      .list()
      .refine(
        (origins) => origins.every((origin) => URL.canParse(origin) && new URL(origin).origin === origin),
        'must be origins such as https://shop.example, comma-separated',
      ),
    /** Which proxies may name the client in X-Forwarded-For: false, true, a hop count, or addresses/CIDRs. */
    TRUST_PROXY: setting.text(undefined),
    /** Deadline of one subgraph fetch, headers and body. */
    SUBGRAPH_TIMEOUT_MS: setting.integer(5_000, { min: 1 }),
    /** How long queries are retried while a subgraph that said it was shutting down cannot be reached (a redeploy). */
    SUBGRAPH_RETRY_BUDGET_MS: setting.integer(10_000, { min: 0 }),
    /** In-flight deduplication of identical subgraph queries (router/src/dedupe.ts); false turns it off everywhere. */
    DEDUPE_SUBGRAPHS: setting.boolean(true),
    /** Subgraphs whose queries are never deduplicated, comma-separated (for example products). */
    DEDUPE_DISABLED_SUBGRAPHS: setting
      .list()
      .refine(
        (names) => names.every((name) => (SUBGRAPH_NAMES as readonly string[]).includes(name)),
        `must name subgraphs, comma-separated: ${SUBGRAPH_NAMES.join(', ')}`,
      ),
    /** Inbound deduplication: identical client queries in flight at once share one execution. */
    DEDUPE_OPERATIONS: setting.boolean(false),
    /** NATS, for the products events that keep the entity cache current; without it the cache is off. */
    NATS_URL: setting.url(['nats', 'tls']),
    /** Product fields cached by entity key, and catalogue queries by text (router/src/entity-cache.ts), when NATS_URL is set. */
    ENTITY_CACHE: setting.boolean(true),
    /** How long a cached product entity is kept at most, should an event be lost. */
    ENTITY_CACHE_TTL_MS: setting.integer(60_000, { min: 1 }),
    /** Products kept at most in memory; the least recently read go first. Not used with REDIS_URL. */
    ENTITY_CACHE_MAX_PRODUCTS: setting.integer(10_000, { min: 1 }),
    /** Answers of root queries (catalogue pages, a product by id or sku) kept at most in memory, as above. */
    ENTITY_CACHE_MAX_ROOT_QUERIES: setting.integer(1_000, { min: 1 }),
    /** Redis where every router replica keeps and reads the entity cache; unset: each process caches alone. */
    REDIS_URL: redisUrlSetting(),
    /**
     * How long a subgraph may refuse connections, without having said it was shutting down, before its circuit
     * breaker opens and requests for it fail at once. Keep it well below SUBGRAPH_TIMEOUT_MS.
     */
    SUBGRAPH_BREAKER_WINDOW_MS: setting.integer(2_000, { min: 0 }),
    /** While a subgraph's breaker is open, how often one request is let through to see whether it is back. */
    SUBGRAPH_BREAKER_PROBE_MS: setting.integer(1_000, { min: 1 }),
    MAX_QUERY_DEPTH: setting.integer(10, { min: 1 }),
    MAX_QUERY_ALIASES: setting.integer(15, { min: 0 }),
    MAX_ROOT_FIELDS: setting.integer(10, { min: 1 }),
    MAX_QUERY_TOKENS: setting.integer(1_000, { min: 1 }),
    MAX_QUERY_DIRECTIVES: setting.integer(50, { min: 0 }),
    MAX_QUERY_COST: setting.integer(5_000, { min: 1 }),
    COST_LIST_SIZE: setting.integer(10, { min: 0 }),
    /** Subscriptions one graphql-ws connection may hold open at once (router/src/subscriptions). */
    SUBSCRIPTIONS_PER_CONNECTION: setting.integer(25, { min: 1 }),
    /** Subscriptions one client address may hold open at once, over all its connections and both transports. */
    SUBSCRIPTIONS_PER_CLIENT: setting.integer(100, { min: 1 }),
    /** Subscriptions the router holds open at once, all clients together. */
    SUBSCRIPTIONS_MAX: setting.integer(20_000, { min: 1 }),
    /** A graphql-ws connection with no subscription for this long is closed. */
    SUBSCRIPTION_IDLE_CLOSE_MS: setting.integer(60_000, { min: 1_000 }),
    /** Keep-alive period on both legs: WebSocket pings to clients, graphql-ws pings to subgraphs, multipart heartbeats. */
    SUBSCRIPTION_KEEPALIVE_MS: setting.integer(10_000, { min: 100 }),
    /** How long the router keeps re-subscribing to a subgraph that dropped the connection, before the stream ends with SERVICE_UNAVAILABLE. */
    SUBSCRIPTION_RESUBSCRIBE_BUDGET_MS: setting.integer(15_000, { min: 0 }),
    /**
     * Trusted documents: `allow` runs manifest ids, full documents and APQ; `safelist` runs only the operations in
     * the persisted-query manifest, by id or text (docs/security.md). Production deployments set safelist.
     */
    PERSISTED_QUERIES: setting.oneOf(['allow', 'safelist'], 'allow'),
    /** The persisted-query manifest (Apollo's format): schema/persisted-query-manifest.json unless set. */
    PERSISTED_QUERIES_MANIFEST: setting.text(undefined),
    /** @apollo/gateway reports usage to Apollo unless this is 1; the router sets it itself. */
    APOLLO_TELEMETRY_DISABLED: setting.text(undefined),
  });

export type RouterSettings = z.output<typeof routerSettings>;

export const settings = (): RouterSettings => readSettings(routerSettings);
