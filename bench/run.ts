/**
 * `npm run bench`: our router against a stock @apollo/gateway and Hive Gateway, on the same three subgraphs
 * and the same seeded PostgreSQL data, in one run (issue 7).
 *
 *   npm run bench                          every workload, about 10 s each per gateway, 32 connections
 *   npm run bench -- --quick               a short smoke run (3 s per workload, fewer logins)
 *   npm run bench -- --only OrderHistory   one workload (or a comma-separated list)
 *   npm run bench -- --duration 30 --connections 64
 *   npm run bench -- --rounds 5            split each gateway's time into 5 interleaved rounds (default 3)
 *   npm run bench -- --baseline bench/results/<file>.json   compare whole-stack CPU per request with that run
 *   npm run bench -- --gateways ours,hiveRust   only these gateways (ours always runs): quicker A/B runs
 *   npm run bench -- --soak                100k OrderHistory requests through our router; RSS must not grow >15%
 *   npm run bench -- --subscriptions       10,000 subscriptions through one router: RSS per 1,000, fan-out p50/p99
 *                                          (bench/subscriptions.ts; --clients, --changes)
 *   npm run bench -- --only Catalogue --cpu-prof   also a V8 CPU profile of each gateway and subgraph over the timed
 *                                                  workloads, under bench/results/profiles/ (git-ignored)
 *
 * BENCH_DATABASE_URL names the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres); the
 * databases shop_bench_users|products|orders are dropped and created afresh on every run, and left in place
 * afterwards for inspection. Results go to stdout and to bench/results/<start time>.json.
 *
 * Each timed run sends a fixed number of requests, sized from its warm-up's rate to last about --duration
 * seconds, so that no request is cut off mid-flight and the per-request counts (SQL statements, subgraph
 * fetches, gateway CPU) divide exact totals by exact counts.
 */
import { execSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { parse, print, type OperationDefinitionNode } from 'graphql';
import { freePort, ServiceProcess, sumMetric } from '../scripts/stack.js';
import { ensurePeersInstalled, HIVE_GATEWAY_VERSION, HIVE_ROUTER_RUNTIME_VERSION, PeerProcess } from './peers/index.js';
import {
  baselineWorkload,
  computeRatios,
  formatReport,
  stackCpuMsPerRequest,
  GATEWAY_LABELS,
  writeResults,
  type BenchResults,
  type GatewayName,
  type Measurement,
  type Verification,
  type WorkloadResult,
} from './report.js';
import { BENCH_PASSWORD, createDatabases, DEFAULT_SIZE, seed, SUBGRAPHS, type Dataset, type Subgraph } from './seed.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const READ_WORKLOADS = ['OrderHistory', 'OrderHistoryFewUsers', 'CatalogueIdentical', 'Catalogue', 'ProductPage', 'OrderDetail'] as const;
const WORKLOADS = [...READ_WORKLOADS, 'PlaceOrder'] as const;
type ReadWorkload = (typeof READ_WORKLOADS)[number];
/** The reads that run alongside PlaceOrder, one of each kind. */
const MIXED_READS = ['OrderHistory', 'Catalogue', 'ProductPage', 'OrderDetail'] as const satisfies readonly ReadWorkload[];
/** Workloads that are one products fetch: their limit is the products subgraph asked the same directly. */
const PRODUCTS_ONLY: readonly ReadWorkload[] = ['CatalogueIdentical', 'Catalogue', 'ProductPage'];
/** Customers of OrderHistoryFewUsers: each has about four requests in flight at 32 connections. */
const FEW_USERS = 8;
const DEFAULT_BASELINE = 'bench/results/2026-11-27T15-38-53-496Z.json';

// ---------- options ----------

// The subscriptions bench is a run of its own (its own stack on PGlite, no peers): bench/subscriptions.ts.
if (process.argv.includes('--subscriptions')) {
  const { benchSubscriptions } = await import('./subscriptions.js');
  process.exit(await benchSubscriptions(process.argv.slice(2)));
}

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string' },
    connections: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    soak: { type: 'boolean', default: false },
    'soak-requests': { type: 'string' },
    'place-order-rate': { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    baseline: { type: 'string' },
    gateways: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(
    readFileSync(fileURLToPath(import.meta.url), 'utf8')
      .split('*/')[0]!
      .replace(/^\/\*\*|^ \* ?/gm, ''),
  );
  process.exit(0);
}
const quick = args.quick!;
const options = {
  durationSeconds: Number(args.duration ?? (quick ? 3 : 10)),
  warmupSeconds: quick ? 1 : 3,
  /**
   * Each read workload runs in this many rounds, the gateways taking turns within each, and --duration is split
   * between them. This machine's speed drifts by tens of percent over minutes (other tenants), so one long run
   * per gateway compares different machines; interleaved rounds compare the gateways.
   */
  rounds: Number(args.rounds ?? (quick ? 1 : 3)),
  connections: Number(args.connections ?? 32),
  /** Customers whose tokens rotate through the reads; each is one Login (an argon2 verify) at start-up. */
  readers: quick ? 40 : 200,
  /** Customers who only place orders, so the reads' answers never shift under the verification. */
  buyers: quick ? 5 : 20,
  placeOrderRate: Number(args['place-order-rate'] ?? 20),
  /** Enough that the rate holds even at a second or two of latency. */
  placeOrderConnections: 16,
  /** Sequential PlaceOrders per gateway, to count the statements and fetches of one PlaceOrder exactly. */
  placeOrderProbe: quick ? 5 : 20,
  soakRequests: Number(args['soak-requests'] ?? (quick ? 5_000 : 100_000)),
  only: args.only ? args.only.split(',').map((w) => w.trim()) : [...WORKLOADS],
  soak: args.soak!,
  cpuProfile: args['cpu-prof']!,
  /** An earlier result file whose whole-stack CPU per request the report compares with. */
  baseline: args.baseline ?? DEFAULT_BASELINE,
  /** The peers to run besides our router (all by default); `--gateways ours` runs ours alone, for A/B runs of our own changes. */
  peers: (args.gateways ? args.gateways.split(',').map((g) => g.trim()) : ['apollo', 'hive', 'hiveRust']).filter((g) => g !== 'ours'),
  quick,
  databaseServer: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};
for (const g of options.peers) {
  if (!['apollo', 'hive', 'hiveRust'].includes(g)) throw new Error(`--gateways: unknown gateway ${g}; ours, apollo, hive or hiveRust`);
}
for (const w of options.only) {
  if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--only: unknown workload ${w}; one of ${WORKLOADS.join(', ')}`);
}
for (const [name, value] of Object.entries({
  duration: options.durationSeconds,
  connections: options.connections,
  'soak-requests': options.soakRequests,
  rounds: options.rounds,
})) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
}

// ---------- the client contract ----------

const contract = parse(readFileSync(`${ROOT}schema/operations/storefront.graphql`, 'utf8'));
const operations = new Map(
  contract.definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition').map((d) => [d.name!.value, print(d)]),
);
function body(operationName: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query: operations.get(operationName)!, operationName, variables });
}

interface GraphQLBody {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(url: string, payload: string, token?: string): Promise<GraphQLBody & { status: number }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: payload,
  });
  return { ...((await response.json()) as GraphQLBody), status: response.status };
}

// ---------- processes: CPU, memory, counters ----------

const CLOCK_TICKS = (() => {
  try {
    return Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process and its descendants: a router that forks one worker per core is measured whole. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** A process's command name and CPU time so far in clock ticks (/proc/<pid>/stat: comm, utime + stime), or undefined once it has gone. */
function processCpu(pid: number | string): { command: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of the whole line, after pid, (comm) and state.
    return { command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** CPU time of the process tree, in milliseconds. */
function cpuMs(pid: number): number {
  const ticks = processTree(pid).reduce((sum, p) => sum + (processCpu(p)?.ticks ?? 0), 0);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** CPU milliseconds of every process whose command is `command` (the PostgreSQL server's backends). */
function cpuMsOfCommand(command: string): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cpu = processCpu(entry);
    if (cpu?.command === command) ticks += cpu.ticks;
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/** The whole machine's busy and total CPU milliseconds so far (/proc/stat), all cores together. */
function machineCpuMs(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: ((total - idle) * 1000) / CLOCK_TICKS, total: (total * 1000) / CLOCK_TICKS };
}

/** CPU milliseconds so far of the subgraphs, PostgreSQL and this process (autocannon runs here). */
function otherCpu(subgraphs: Record<Subgraph, ServiceProcess>): Record<Subgraph | 'postgres' | 'client', number> {
  const usage = process.cpuUsage();
  return {
    ...(Object.fromEntries(SUBGRAPHS.map((s) => [s, cpuMs(subgraphs[s].child!.pid!)])) as Record<Subgraph, number>),
    postgres: cpuMsOfCommand('postgres'),
    client: (usage.user + usage.system) / 1000,
  };
}

/**
 * CPU milliseconds so far of the PostgreSQL backends serving the bench's databases: their pids from
 * pg_stat_activity, their CPU from /proc (the server runs on this machine). A backend that has gone since the
 * last look is missing from the sum, so the pools' connections, which stay open, are what this counts.
 */
async function postgresBackendsCpu(admin: postgres.Sql): Promise<Map<number, number>> {
  const rows = await admin<{ pid: number }[]>`select pid from pg_stat_activity where datname like 'shop_bench_%'`;
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const used = processCpu(pid);
    if (used) cpu.set(pid, (used.ticks * 1000) / CLOCK_TICKS);
  }
  return cpu;
}

/** The backends' CPU between two looks; a backend that appeared in between counts from zero. */
function backendsCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

/** Resident memory of the process tree, in MiB. */
function rssMiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    try {
      const match = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kib += Number(match?.[1] ?? 0);
    } catch {
      // Gone.
    }
  }
  return kib / 1024;
}

interface Counters {
  sql: Record<Subgraph, number>;
  fetches: Record<Subgraph, number>;
  /** `outbox_relay_lag_seconds` of every subgraph together: cumulative count per bucket bound. */
  relayLag: Map<number, number>;
}

/** Each subgraph's own counters: SQL statements run for requests (background sweeps excluded) and operations served. */
async function readCounters(subgraphs: Record<Subgraph, ServiceProcess>): Promise<Counters> {
  const texts = await Promise.all(SUBGRAPHS.map(async (s) => (await fetch(`${subgraphs[s].opsUrl}/metrics`)).text()));
  const sql = {} as Record<Subgraph, number>;
  const fetches = {} as Record<Subgraph, number>;
  const relayLag = new Map<number, number>();
  SUBGRAPHS.forEach((s, i) => {
    sql[s] = sumMetric(texts[i]!, 'db_queries_total', { origin: 'request' });
    fetches[s] = sumMetric(texts[i]!, 'graphql_requests_total');
    for (const [, le, count] of texts[i]!.matchAll(/^outbox_relay_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm)) {
      const bound = le === '+Inf' ? Infinity : Number(le);
      relayLag.set(bound, (relayLag.get(bound) ?? 0) + Number(count));
    }
  });
  return { sql, fetches, relayLag };
}

/**
 * The outbox relay's lag (commit to publication) over a window, from the difference of two histogram scrapes:
 * p50 and p99 interpolated within their buckets, and the share published within 200 ms.
 */
function relayLagBetween(before: Counters, after: Counters): NonNullable<Measurement['relayLag']> | undefined {
  const bounds = [...after.relayLag.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((b) => (after.relayLag.get(b) ?? 0) - (before.relayLag.get(b) ?? 0));
  const events = cumulative.at(-1) ?? 0;
  if (events === 0) return undefined;
  const quantile = (q: number) => {
    const rank = q * events;
    const i = cumulative.findIndex((c) => c >= rank);
    const upper = bounds[i]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    if (!Number.isFinite(upper)) return lower * 1000;
    return (lower + ((upper - lower) * (rank - below)) / (cumulative[i]! - below)) * 1000;
  };
  const within200 = cumulative[bounds.indexOf(0.2)] ?? NaN;
  return { events, p50: quantile(0.5), p99: quantile(0.99), within200ms: within200 / events };
}

function perRequest(before: Counters, after: Counters, requests: number) {
  const per = (key: 'sql' | 'fetches', s: Subgraph) => (requests ? (after[key][s] - before[key][s]) / requests : NaN);
  const fetches = Object.fromEntries(SUBGRAPHS.map((s) => [s, per('fetches', s)])) as Record<Subgraph, number>;
  return {
    sqlPerRequest: Object.fromEntries(SUBGRAPHS.map((s) => [s, per('sql', s)])) as Record<Subgraph, number>,
    fetchesPerRequest: { ...fetches, total: SUBGRAPHS.reduce((sum, s) => sum + fetches[s], 0) },
  };
}

// ---------- load ----------

interface Request {
  body: string;
  headers: Record<string, string>;
}

interface LoadOutcome {
  /** Responses received. */
  requests: number;
  /** Requests written to the gateway: every one of them runs to the end there, answered or not. */
  sent: number;
  durationSeconds: number;
  p50: number;
  p99: number;
  errors: Measurement['errors'];
}

const GRAPHQL_ERRORS = /"errors"\s*:/;

/**
 * One autocannon run. Requests rotate through `next()` (tokens, ids, categories...). Every response body is
 * checked for GraphQL errors, which arrive with HTTP 200 and which autocannon alone would count as successes.
 */
async function load(
  url: string,
  next: () => Request,
  run: { connections: number; duration?: number; amount?: number; overallRate?: number },
): Promise<LoadOutcome> {
  let graphqlErrors = 0;
  const samples = new Set<string>();
  const started = process.hrtime.bigint();
  const result = await autocannon({
    url: `${url}/graphql`,
    method: 'POST',
    connections: run.connections,
    ...(run.amount ? { amount: run.amount } : { duration: run.duration }),
    ...(run.overallRate && { overallRate: run.overallRate }),
    timeout: 30,
    requests: [
      {
        setupRequest: (request) => {
          const { body: payload, headers } = next();
          return { ...request, method: 'POST', body: payload, headers: { ...request.headers, ...headers } };
        },
        onResponse: (status, responseBody) => {
          if (status >= 200 && status < 300 && GRAPHQL_ERRORS.test(responseBody)) {
            graphqlErrors++;
            if (samples.size < 3) samples.add(responseBody.slice(0, 300));
          } else if ((status < 200 || status >= 300) && samples.size < 3) {
            samples.add(`HTTP ${status}: ${responseBody.slice(0, 300)}`);
          }
        },
      },
    ],
  });
  const durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const requests = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  const transport = result.errors;
  return {
    requests,
    // autocannon's own `sent` over-counts rate-limited runs; a sized run sends exactly its amount.
    sent: run.amount ?? result.requests.sent,
    durationSeconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: {
      non2xx: result.non2xx,
      transport,
      graphql: graphqlErrors,
      total: result.non2xx + transport + graphqlErrors,
      samples: [...samples],
    },
  };
}

/** Cycles through a list, shared by all connections of a run. */
function rotation<T>(items: T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length]!;
}

// ---------- the run ----------

interface Gateway {
  name: GatewayName;
  url: string;
  pid: number;
  /** Our router's /metrics, for its sharing and entity cache counters. */
  opsUrl?: string;
  stop(): Promise<unknown>;
}

const cleanups: (() => Promise<unknown>)[] = [];
/** A connection to the PostgreSQL server, for pg_stat_activity. */
let admin: postgres.Sql | undefined;
async function cleanup() {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
}
process.once('SIGINT', () => {
  console.log('\ninterrupted: stopping the services');
  void cleanup().finally(() => process.exit(130));
});

function step(message: string) {
  console.log(`\n== ${message}`);
}

async function main() {
  const startedAt = new Date();
  const peersInstalled: { hiveGateway?: string; hiveRouterRuntime?: string } = options.soak ? {} : ensurePeersInstalled();

  step(`databases on ${options.databaseServer.replace(/\/\/[^@/]*@/, '//***@')}`);
  const urls = await createDatabases(options.databaseServer);
  admin = postgres(options.databaseServer, { max: 1, onnotice: () => {} });
  cleanups.push(() => admin!.end());
  console.log(`  created ${SUBGRAPHS.map((s) => `shop_bench_${s}`).join(', ')}`);

  const dataDir = mkdtempSync(path.join(tmpdir(), 'shop-bench-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const ports = { users: await freePort(), products: await freePort(), orders: await freePort(), router: await freePort() };
  const subgraphUrls = {
    USERS_URL: `http://127.0.0.1:${ports.users}/graphql`,
    PRODUCTS_URL: `http://127.0.0.1:${ports.products}/graphql`,
    ORDERS_URL: `http://127.0.0.1:${ports.orders}/graphql`,
  };
  const routerSecret = randomBytes(24).toString('base64url');
  // Production settings, as deployed: real secrets, no dev key files, no landing-page introspection, quiet logs.
  const env: NodeJS.ProcessEnv = {
    ...subgraphUrls,
    USERS_DATABASE_URL: urls.users,
    PRODUCTS_DATABASE_URL: urls.products,
    ORDERS_DATABASE_URL: urls.orders,
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(48).toString('base64url'),
    ROUTER_SECRET: routerSecret,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DATA_DIR: dataDir,
    SEED_DEMO: 'false',
    ADMIN_EMAIL: '',
    ADMIN_PASSWORD: '',
    // Seeded PENDING orders are up to a year old: the recovery sweep must not cancel them in the middle of a run.
    ORDER_HOLD_MINUTES: String(10 * 365 * 24 * 60),
    // BENCH_NATS_URL: the subgraphs publish their events to NATS and our router follows them, which turns its
    // entity cache of products and catalogue queries on (router/src/entity-cache.ts); without it events stay in
    // each process and the cache is off.
    ...(process.env.BENCH_NATS_URL && { NATS_URL: process.env.BENCH_NATS_URL }),
    // Tracing and usage reporting would measure the exporters, not the gateways.
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    APOLLO_KEY: '',
    APOLLO_TELEMETRY_DISABLED: '1',
  };

  // --cpu-prof: each gateway and subgraph loads bench/cpu-profile.mjs, which profiles between two SIGUSR2s (see there).
  const profiles = path.join(fileURLToPath(new URL('./results/profiles/', import.meta.url)), fileStamp(startedAt));
  const profileOf = (name: string) => path.join(profiles, `${name}.cpuprofile`);
  const profiledEnv = (name: string): NodeJS.ProcessEnv =>
    options.cpuProfile
      ? {
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${fileURLToPath(new URL('./cpu-profile.mjs', import.meta.url))}`.trim(),
          BENCH_CPU_PROFILE: profileOf(name),
        }
      : {};
  const gatewayEnv = profiledEnv;

  step('subgraphs (migrations apply on start)');
  const subgraphs = {
    users: new ServiceProcess('users', ports.users, { ...env, ...profiledEnv('users') }),
    products: new ServiceProcess('products', ports.products, { ...env, ...profiledEnv('products') }),
    orders: new ServiceProcess('orders', ports.orders, { ...env, ...profiledEnv('orders') }),
  } satisfies Record<Subgraph, ServiceProcess>;
  for (const s of SUBGRAPHS) cleanups.push(() => subgraphs[s].stop());
  await Promise.all(SUBGRAPHS.map((s) => subgraphs[s].start()));
  console.log(`  ${SUBGRAPHS.map((s) => `${s} :${ports[s]}`).join(', ')}`);

  step(`seeding ${DEFAULT_SIZE.products} products, ${DEFAULT_SIZE.customers} customers, ${DEFAULT_SIZE.orders} orders`);
  const seedStarted = Date.now();
  const dataset = await seed(urls);
  console.log(`  ${dataset.orderLines.toLocaleString('en')} order lines; seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

  step('gateways');
  const router = new ServiceProcess('router', ports.router, { ...env, ...gatewayEnv('ours') });
  cleanups.push(() => router.stop());
  await router.start();
  const gateways: Gateway[] = [
    { name: 'ours', url: router.url, pid: router.child!.pid!, opsUrl: router.opsUrl, stop: () => router.stop() },
  ];
  console.log(`  ${GATEWAY_LABELS.ours} :${ports.router} (router/src/index.ts)`);
  if (!options.soak) {
    // The peers get the same supergraph, pointing at this run's subgraph ports.
    const supergraphFile = path.join(dataDir, 'supergraph.graphql');
    let supergraph = readFileSync(`${ROOT}schema/supergraph.graphql`, 'utf8');
    for (const s of SUBGRAPHS) {
      supergraph = supergraph.replace(
        new RegExp(`(@join__graph\\(name: "${s}", url: ")[^"]*`),
        `$1${subgraphUrls[`${s.toUpperCase()}_URL` as keyof typeof subgraphUrls]}`,
      );
    }
    writeFileSync(supergraphFile, supergraph);
    for (const name of (['apollo', 'hive', 'hiveRust'] as const).filter((peer) => options.peers.includes(peer))) {
      const peer = new PeerProcess(name, await freePort(), { ...env, ...gatewayEnv(name), SUPERGRAPH_FILE: supergraphFile });
      cleanups.push(() => peer.stop());
      await peer.start();
      gateways.push({ name, url: peer.url, pid: peer.child!.pid!, stop: () => peer.stop() });
      console.log(`  ${GATEWAY_LABELS[name]} :${peer.port}`);
    }
  }

  step(`logging ${options.readers + options.buyers} customers in through our router`);
  const tokens = await logIn(router.url, dataset, options.readers + options.buyers);
  const buyerTokens = tokens.slice(0, options.buyers);
  const readerTokens = tokens.slice(options.buyers);
  const readerIndexes = new Map(readerTokens.map((t, i) => [t.customerIndex, i]));

  // ---- request rotations ----
  const authorized = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });
  const anonymous = { 'content-type': 'application/json' };
  const SORTS = ['PRICE_ASC', 'PRICE_DESC', 'NAME', 'NEWEST'];
  const sample = <T>(items: T[], count: number) =>
    items.filter((_, i) => i % Math.max(1, Math.floor(items.length / count)) === 0).slice(0, count);
  const readOrders = dataset.orders.filter((o) => readerIndexes.has(o.buyerIndex));
  const reads: Record<ReadWorkload, Request[]> = {
    OrderHistory: readerTokens.map((t) => ({ body: body('OrderHistory', { first: 20 }), headers: authorized(t.token) })),
    OrderHistoryFewUsers: readerTokens
      .slice(0, FEW_USERS)
      .map((t) => ({ body: body('OrderHistory', { first: 20 }), headers: authorized(t.token) })),
    CatalogueIdentical: [
      {
        body: body('Catalogue', { first: 20, filter: { category: dataset.categories[0], inStock: true }, sort: 'PRICE_ASC' }),
        headers: anonymous,
      },
    ],
    Catalogue: dataset.categories.flatMap((category) =>
      SORTS.map((sort) => ({ body: body('Catalogue', { first: 20, filter: { category, inStock: true }, sort }), headers: anonymous })),
    ),
    ProductPage: sample(dataset.products, 1_000).map((p) => ({ body: body('ProductPage', { id: p.id }), headers: anonymous })),
    OrderDetail: sample(readOrders, 1_000).map((o) => ({
      body: body('OrderDetail', { id: o.id }),
      headers: authorized(readerTokens[readerIndexes.get(o.buyerIndex)!]!.token),
    })),
  };
  const inStock = dataset.products.filter((p) => p.inStock);
  /**
   * Carts of 1 to 3 lines, the same sequence for every gateway: a reservation costs a statement per line, so
   * random carts would make the gateways' SQL counts differ by luck. Every order gets a fresh idempotency key.
   */
  const placeOrders = () => {
    let k = 0;
    return (): Request => {
      const n = k++;
      const items = Array.from({ length: 1 + (n % 3) }, (_, j) => ({
        productId: inStock[(n * 37 + j * 101) % inStock.length]!.id,
        quantity: 1,
      }));
      return {
        body: body('PlaceOrder', { input: { items, idempotencyKey: randomUUID() } }),
        headers: authorized(buyerTokens[n % buyerTokens.length]!.token),
      };
    };
  };

  if (options.soak) return soak(gateways[0]!, reads.OrderHistory, startedAt);

  // The limit of the one-fetch workloads: the products subgraph asked the client's operation itself, as the router would.
  const direct: Gateway = {
    name: 'direct' as GatewayName,
    url: `http://127.0.0.1:${ports.products}`,
    pid: subgraphs.products.child!.pid!,
    stop: async () => {},
  };
  const directly = (requests: Request[]) => requests.map((r) => ({ ...r, headers: { ...r.headers, 'x-router-secret': routerSecret } }));

  step(`checking that the ${gateways.length} gateways give identical answers`);
  const verification = await verify(gateways, reads, placeOrders());
  verification.push(...(await verifyDirect(gateways[0]!, direct, reads, directly)));
  for (const v of verification)
    console.log(
      `  ${v.identical ? 'ok  ' : 'DIFF'} ${v.workload} (${v.checked} requests)${v.identical ? '' : `\n    ${v.problems.join('\n    ')}`}`,
    );

  const workloads: WorkloadResult[] = [];
  const selected = WORKLOADS.filter((w) => options.only.includes(w));
  const profiled = [
    ...gateways.map((g) => ({ name: g.name as string, pid: g.pid })),
    ...SUBGRAPHS.map((s) => ({ name: s as string, pid: subgraphs[s].child!.pid! })),
  ];
  if (options.cpuProfile) for (const p of profiled) process.kill(p.pid, 'SIGUSR2');
  for (const [index, workload] of selected.entries()) {
    // Gateways take turns going first, so slow drift on a shared machine does not always hit the same one.
    const order = gateways.map((_, i) => gateways[(i + index) % gateways.length]!);
    if (workload === 'PlaceOrder') {
      workloads.push(...(await placeOrderPhase(order, subgraphs, reads, placeOrders)));
      continue;
    }
    step(
      `${workload}: ${options.connections} connections, ${options.durationSeconds} s per gateway in ${options.rounds} round(s), each after a warm-up (${options.warmupSeconds} s in the first)`,
    );
    const result: WorkloadResult = { workload, description: DESCRIPTIONS[workload], measurements: {} };
    const rounds = new Map<GatewayName, Measurement[]>(gateways.map((g) => [g.name, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < order.length; i++) {
        // Within a round too, a different gateway goes first each time.
        const turn = order[(i + round) % order.length]!;
        const m = await measure(turn, subgraphs, reads[workload], round === 0 ? options.warmupSeconds : 1);
        rounds.get(turn.name)!.push(m);
        const others = Object.entries(m.otherCpuMsPerRequest ?? {}).map(([k, v]) => `${k} ${v.toFixed(2)}`);
        console.log(
          `  ${`${turn.name} ${round + 1}/${options.rounds}`.padEnd(11)} ${m.rps.toFixed(1).padStart(7)} rps  p50 ${m.p50} ms  p99 ${m.p99} ms  errors ${m.errors.total}  cpu ${m.cpuMsPerRequest.toFixed(2)} ms/req` +
            `\n              others' cpu ms/req: ${others.join(', ')}; machine ${((m.machineBusy ?? 0) * 100).toFixed(0)}% busy`,
        );
      }
    }
    for (const gateway of gateways) result.measurements[gateway.name] = combineRounds(rounds.get(gateway.name)!);
    if (PRODUCTS_ONLY.includes(workload)) {
      const m = await measure(direct, subgraphs, directly(reads[workload]), options.warmupSeconds);
      result.limit = { how: 'direct', rps: m.rps, measurement: m };
      console.log(
        `  ${'direct'.padEnd(11)} ${m.rps.toFixed(1).padStart(7)} rps  p50 ${m.p50} ms  p99 ${m.p99} ms  errors ${m.errors.total} (products subgraph asked directly)`,
      );
    } else {
      const ours = result.measurements.ours;
      const rest = ours ? stackCpuMsPerRequest(ours) - ours.cpuMsPerRequest : NaN;
      if (Number.isFinite(rest) && rest > 0) result.limit = { how: 'computed', rps: (cpus().length * 1000) / rest };
    }
    workloads.push(result);
  }

  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git: gitAtStart,
    machine: {
      node: process.version,
      cpus: cpus().length,
      platform: `${process.platform} ${process.arch}`,
      loadAverageAtStart: loadAverageAtStart,
    },
    options: { ...options, databaseServer: options.databaseServer.replace(/\/\/[^@/]*@/, '//***@') },
    peers: {
      '@apollo/gateway': packageVersion('@apollo/gateway'),
      '@apollo/server': packageVersion('@apollo/server'),
      '@graphql-hive/gateway': peersInstalled.hiveGateway ?? HIVE_GATEWAY_VERSION,
      '@graphql-hive/router-runtime': peersInstalled.hiveRouterRuntime ?? HIVE_ROUTER_RUNTIME_VERSION,
    },
    dataset: {
      products: dataset.products.length,
      customers: dataset.customers.length,
      orders: dataset.orders.length,
      orderLines: dataset.orderLines,
    },
    verification,
    ratios: computeRatios(workloads),
    workloads,
    baseline: readBaseline(options.baseline),
  };
  step('results');
  console.log(formatReport(results));
  const file = writeResults(fileStamp(startedAt), results);
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
  if (options.cpuProfile) {
    for (const p of profiled) process.kill(p.pid, 'SIGUSR2');
    const deadline = Date.now() + 30_000;
    while (!profiled.every((p) => existsSync(profileOf(p.name))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    console.log(
      `CPU profiles over the timed workloads: ${path.relative(process.cwd(), profiles)}/{${profiled.map((p) => p.name).join(',')}}.cpuprofile`,
    );
  }
  return 0;
}

const DESCRIPTIONS: Record<(typeof WORKLOADS)[number] | 'Reads+PlaceOrder', string> = {
  OrderHistory: 'me { orders(first: 20) { items { product } } }: three subgraphs, rotating customers (distinct requests in flight)',
  OrderHistoryFewUsers: `OrderHistory for ${FEW_USERS} customers over all connections: identical requests in flight`,
  CatalogueIdentical: 'one Catalogue page, the same for every request: identical requests in flight',
  Catalogue: 'products(first: 20, filter: { category, inStock: true }, sort), anonymous, rotating categories and sorts',
  ProductPage: 'product(id), anonymous, rotating products',
  OrderDetail: 'order(id) with buyer and items, rotating orders read by their buyers',
  PlaceOrder: 'placeOrder at a fixed rate, alongside the four reads; SQL and fetches counted by a sequential probe',
  'Reads+PlaceOrder': 'the four reads in rotation while PlaceOrder runs; per-request figures over reads and writes together',
};

const loadAverageAtStart = loadavg();
/** The code the services were started from: read at start, since a long run may outlast a commit or two. */
const gitAtStart = gitState();

/**
 * Waits until the gateway and the subgraphs are idle: no subgraph counter moves and the gateway burns no CPU.
 * A duration-bound run (the warm-ups) closes its sockets with requests still in flight, and the gateway finishes
 * those after the client has gone; they must not land in the next window's counts.
 */
async function settle(gateway: Gateway, subgraphs: Record<Subgraph, ServiceProcess>): Promise<void> {
  const deadline = Date.now() + 60_000;
  let quiet = 0;
  let last = JSON.stringify(await readCounters(subgraphs));
  let lastCpu = cpuMs(gateway.pid);
  while (quiet < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = JSON.stringify(await readCounters(subgraphs));
    const cpu = cpuMs(gateway.pid);
    // One clock tick of CPU is timers and GC, not a request; with --cpu-prof the sampling profiler adds a few.
    quiet = now === last && cpu - lastCpu <= ((options.cpuProfile ? 5 : 1) * 1000) / CLOCK_TICKS ? quiet + 1 : 0;
    last = now;
    lastCpu = cpu;
  }
  if (quiet < 2) console.log(`  (warning: ${gateway.name} did not go idle within 60 s; its counts include leftovers)`);
}

/** How many requests fill `seconds` at the rate a warm-up reached; a sized run never cuts a request off. */
function sized(warmup: LoadOutcome, seconds: number, connections: number): number {
  const rate = warmup.requests / warmup.durationSeconds;
  return Math.max(connections * 2, Math.ceil(rate * seconds));
}

/**
 * Warm-up, then a timed run sized to --duration, with the gateway's CPU time and the subgraphs' counters read
 * around it (after the warm-up's leftovers have drained) and divided by the requests sent.
 */
async function measure(
  gateway: Gateway,
  subgraphs: Record<Subgraph, ServiceProcess>,
  requests: Request[],
  warmupSeconds: number,
): Promise<Measurement> {
  const next = rotation(requests);
  const warmup = await load(gateway.url, next, { connections: options.connections, duration: warmupSeconds });
  const amount = sized(warmup, options.durationSeconds / options.rounds, options.connections);
  return timed(gateway, subgraphs, () => load(gateway.url, next, { connections: options.connections, amount }));
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * One gateway's rounds as one measurement: requests over the summed time, per-request figures weighted by each
 * round's requests, latency percentiles as the median of the rounds' (the rounds keep their own figures).
 */
function combineRounds(rounds: Measurement[]): Measurement {
  if (rounds.length === 1) return rounds[0]!;
  const requests = rounds.reduce((sum, m) => sum + m.requests, 0);
  const durationSeconds = rounds.reduce((sum, m) => sum + m.durationSeconds, 0);
  const weighted = (pick: (m: Measurement) => number) => rounds.reduce((sum, m) => sum + pick(m) * m.requests, 0) / requests;
  const perKey = <K extends string>(pick: (m: Measurement) => Record<K, number> | undefined) => {
    const keys = Object.keys(pick(rounds[0]!) ?? {}) as K[];
    return Object.fromEntries(keys.map((key) => [key, weighted((m) => pick(m)?.[key] ?? NaN)])) as Record<K, number>;
  };
  const errors = rounds.map((m) => m.errors);
  return {
    gateway: rounds[0]!.gateway,
    requests,
    durationSeconds,
    rps: requests / durationSeconds,
    p50: median(rounds.map((m) => m.p50)),
    p99: median(rounds.map((m) => m.p99)),
    errors: {
      non2xx: errors.reduce((sum, e) => sum + e.non2xx, 0),
      transport: errors.reduce((sum, e) => sum + e.transport, 0),
      graphql: errors.reduce((sum, e) => sum + e.graphql, 0),
      total: errors.reduce((sum, e) => sum + e.total, 0),
      samples: [...new Set(errors.flatMap((e) => e.samples))].slice(0, 3),
    },
    cpuMsPerRequest: weighted((m) => m.cpuMsPerRequest),
    otherCpuMsPerRequest: perKey((m) => m.otherCpuMsPerRequest),
    postgresBackendsCpuMsPerRequest: weighted((m) => m.postgresBackendsCpuMsPerRequest ?? NaN),
    ...(rounds[0]!.router && {
      router: {
        sharedFetchesPerRequest: weighted((m) => m.router?.sharedFetchesPerRequest ?? NaN),
        entityCacheHits: rounds.reduce((sum, m) => sum + (m.router?.entityCacheHits ?? 0), 0),
        entityCacheMisses: rounds.reduce((sum, m) => sum + (m.router?.entityCacheMisses ?? 0), 0),
        rootCacheHits: rounds.reduce((sum, m) => sum + (m.router?.rootCacheHits ?? 0), 0),
        rootCacheMisses: rounds.reduce((sum, m) => sum + (m.router?.rootCacheMisses ?? 0), 0),
      },
    }),
    machineBusy: weighted((m) => m.machineBusy ?? NaN),
    countedBy: 'load',
    sqlPerRequest: perKey((m) => m.sqlPerRequest),
    fetchesPerRequest: perKey((m) => m.fetchesPerRequest),
    rounds: rounds.map(({ rps, p50, p99, cpuMsPerRequest }) => ({ rps, p50, p99, cpuMsPerRequest })),
  };
}

/**
 * Our router's own counters: subgraph fetches answered by an identical one in flight, and the entity cache's
 * lookups of product entities and of root queries (the catalogue).
 */
async function routerCounters(
  gateway: Gateway,
): Promise<{ shared: number; hits: number; misses: number; rootHits: number; rootMisses: number } | undefined> {
  if (!gateway.opsUrl) return undefined;
  const text = await (await fetch(`${gateway.opsUrl}/metrics`)).text();
  const lookups = (kind: string, result: string) => sumMetric(text, 'router_entity_cache_lookups_total', { kind, result });
  return {
    shared: sumMetric(text, 'router_subgraph_fetches_shared_total'),
    hits: lookups('entity', 'hit'),
    misses: lookups('entity', 'miss'),
    rootHits: lookups('root', 'hit'),
    rootMisses: lookups('root', 'miss'),
  };
}

async function timed(gateway: Gateway, subgraphs: Record<Subgraph, ServiceProcess>, run: () => Promise<LoadOutcome>): Promise<Measurement> {
  await settle(gateway, subgraphs);
  const before = await readCounters(subgraphs);
  const routerBefore = await routerCounters(gateway);
  const cpuBefore = cpuMs(gateway.pid);
  const backendsBefore = await postgresBackendsCpu(admin!);
  const othersBefore = otherCpu(subgraphs);
  const machineBefore = machineCpuMs();
  const outcome = await run();
  const machineAfter = machineCpuMs();
  const othersAfter = otherCpu(subgraphs);
  const backendsAfter = await postgresBackendsCpu(admin!);
  await settle(gateway, subgraphs);
  const cpuAfter = cpuMs(gateway.pid);
  const after = await readCounters(subgraphs);
  const routerAfter = await routerCounters(gateway);
  const otherCpuMsPerRequest = Object.fromEntries(
    Object.entries(othersAfter).map(([k, v]) => [k, (v - othersBefore[k as keyof typeof othersBefore]) / outcome.sent]),
  ) as Measurement['otherCpuMsPerRequest'];
  return {
    gateway: gateway.name,
    requests: outcome.requests,
    durationSeconds: outcome.durationSeconds,
    rps: outcome.requests / outcome.durationSeconds,
    p50: outcome.p50,
    p99: outcome.p99,
    errors: outcome.errors,
    cpuMsPerRequest: (cpuAfter - cpuBefore) / outcome.sent,
    otherCpuMsPerRequest,
    postgresBackendsCpuMsPerRequest: backendsCpuBetween(backendsBefore, backendsAfter) / outcome.sent,
    ...(routerBefore &&
      routerAfter && {
        router: {
          sharedFetchesPerRequest: (routerAfter.shared - routerBefore.shared) / outcome.sent,
          entityCacheHits: routerAfter.hits - routerBefore.hits,
          entityCacheMisses: routerAfter.misses - routerBefore.misses,
          rootCacheHits: routerAfter.rootHits - routerBefore.rootHits,
          rootCacheMisses: routerAfter.rootMisses - routerBefore.rootMisses,
        },
      }),
    machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
    countedBy: 'load',
    ...perRequest(before, after, outcome.sent),
  };
}

/**
 * PlaceOrder at a modest fixed rate (a second autocannon) alongside the four reads at full concurrency. A
 * PlaceOrder's own statements and fetches cannot be told apart from the reads' in that mix, so they are
 * counted first by a short sequential probe through the same gateway.
 */
async function placeOrderPhase(
  gateways: Gateway[],
  subgraphs: Record<Subgraph, ServiceProcess>,
  reads: Record<ReadWorkload, Request[]>,
  placeOrders: () => () => Request,
): Promise<WorkloadResult[]> {
  step(
    `PlaceOrder: ${options.placeOrderRate}/s over ${options.placeOrderConnections} connections, alongside the reads on ${options.connections}, ${options.durationSeconds} s per gateway`,
  );
  const writes: WorkloadResult = { workload: 'PlaceOrder', description: DESCRIPTIONS.PlaceOrder, measurements: {} };
  const mixed: WorkloadResult = { workload: 'Reads+PlaceOrder', description: DESCRIPTIONS['Reads+PlaceOrder'], measurements: {} };
  // Round-robin over the four reads, so every connection sends a mix.
  const mix: Request[] = [];
  const longest = Math.max(...MIXED_READS.map((w) => reads[w].length));
  for (let i = 0; i < longest; i++) for (const w of MIXED_READS) mix.push(reads[w][i % reads[w].length]!);

  for (const gateway of gateways) {
    const placeOrder = placeOrders();
    // The probe: one PlaceOrder at a time, nothing else running.
    const probe = await timed(gateway, subgraphs, async () => {
      const started = process.hrtime.bigint();
      const errors: Measurement['errors'] = { non2xx: 0, transport: 0, graphql: 0, total: 0, samples: [] };
      for (let i = 0; i < options.placeOrderProbe; i++) {
        const request = placeOrder();
        const response = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: request.headers, body: request.body });
        const text = await response.text();
        if (!response.ok) errors.non2xx++;
        else if (GRAPHQL_ERRORS.test(text)) errors.graphql++;
        if ((!response.ok || GRAPHQL_ERRORS.test(text)) && errors.samples.length < 3) errors.samples.push(text.slice(0, 300));
      }
      errors.total = errors.non2xx + errors.graphql;
      const sent = options.placeOrderProbe;
      return { requests: sent, sent, durationSeconds: Number(process.hrtime.bigint() - started) / 1e9, p50: NaN, p99: NaN, errors };
    });

    const nextRead = rotation(mix);
    const warmup = await load(gateway.url, nextRead, { connections: options.connections, duration: options.warmupSeconds });
    const readAmount = sized(warmup, options.durationSeconds, options.connections);
    const writeAmount = Math.max(options.placeOrderConnections, Math.round(options.placeOrderRate * options.durationSeconds));
    await settle(gateway, subgraphs);
    const before = await readCounters(subgraphs);
    const cpuBefore = cpuMs(gateway.pid);
    const [readOutcome, writeOutcome] = await Promise.all([
      load(gateway.url, nextRead, { connections: options.connections, amount: readAmount }),
      load(gateway.url, placeOrder, {
        connections: options.placeOrderConnections,
        amount: writeAmount,
        overallRate: options.placeOrderRate,
      }),
    ]);
    await settle(gateway, subgraphs);
    const cpuAfter = cpuMs(gateway.pid);
    const after = await readCounters(subgraphs);
    const all = readOutcome.sent + writeOutcome.sent;

    writes.measurements[gateway.name] = {
      gateway: gateway.name,
      requests: writeOutcome.requests,
      durationSeconds: writeOutcome.durationSeconds,
      rps: writeOutcome.requests / writeOutcome.durationSeconds,
      p50: writeOutcome.p50,
      p99: writeOutcome.p99,
      errors: {
        ...writeOutcome.errors,
        total: writeOutcome.errors.total + probe.errors.total,
        graphql: writeOutcome.errors.graphql + probe.errors.graphql,
        non2xx: writeOutcome.errors.non2xx + probe.errors.non2xx,
        samples: [...probe.errors.samples, ...writeOutcome.errors.samples].slice(0, 3),
      },
      cpuMsPerRequest: probe.cpuMsPerRequest,
      countedBy: 'probe',
      sqlPerRequest: probe.sqlPerRequest,
      fetchesPerRequest: probe.fetchesPerRequest,
      relayLag: relayLagBetween(before, after),
    };
    mixed.measurements[gateway.name] = {
      gateway: gateway.name,
      requests: readOutcome.requests,
      durationSeconds: readOutcome.durationSeconds,
      rps: readOutcome.requests / readOutcome.durationSeconds,
      p50: readOutcome.p50,
      p99: readOutcome.p99,
      errors: readOutcome.errors,
      cpuMsPerRequest: (cpuAfter - cpuBefore) / all,
      countedBy: 'load',
      ...perRequest(before, after, all),
    };
    const w = writes.measurements[gateway.name]!;
    const r = mixed.measurements[gateway.name]!;
    const lag = w.relayLag;
    console.log(
      `  ${gateway.name.padEnd(6)} PlaceOrder ${w.rps.toFixed(1)}/s p50 ${w.p50} ms p99 ${w.p99} ms errors ${w.errors.total}; reads ${r.rps.toFixed(1)} rps p99 ${r.p99} ms errors ${r.errors.total}` +
        (lag ? `; outbox relay lag p50 ${lag.p50.toFixed(0)} ms p99 ${lag.p99.toFixed(0)} ms over ${lag.events} events` : ''),
    );
  }
  return [writes, mixed];
}

/** Logs customers in through our router, a few at a time (each login is an argon2 verify on the users subgraph). */
async function logIn(routerUrl: string, dataset: Dataset, count: number) {
  const tokens: { customerIndex: number; token: string }[] = [];
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < Math.min(count, dataset.customers.length)) {
      const customerIndex = nextIndex++;
      const { email } = dataset.customers[customerIndex]!;
      const response = await post(routerUrl, body('Login', { input: { email, password: BENCH_PASSWORD } }));
      const token = (response.data as { login?: { token: string } } | undefined)?.login?.token;
      if (!token) throw new Error(`login of ${email} failed: HTTP ${response.status} ${JSON.stringify(response.errors)}`);
      tokens.push({ customerIndex, token });
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  tokens.sort((a, b) => a.customerIndex - b.customerIndex);
  console.log(`  ${tokens.length} tokens`);
  return tokens;
}

/** Keys in a fixed order, so two answers compare by content; the raw strings are compared too, for field order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** The first place two JSON values differ, as a path, for the report. */
function firstDifference(a: unknown, b: unknown, at = '$'): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
      if (found) return found;
    }
  }
  return `${at}: ${JSON.stringify(a)?.slice(0, 120)} vs ${JSON.stringify(b)?.slice(0, 120)}`;
}

/**
 * Before anything is timed: the same requests through all three gateways must give the same data and no errors.
 * PlaceOrder creates a new order each time, so its answers are compared with the order's id and time masked.
 */
async function verify(gateways: Gateway[], reads: Record<ReadWorkload, Request[]>, placeOrder: () => Request): Promise<Verification[]> {
  const results: Verification[] = [];
  const send = async (gateway: Gateway, request: Request) => {
    const response = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: request.headers, body: request.body });
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as GraphQLBody };
  };
  const compare = (
    workload: string,
    answers: { gateway: Gateway; status: number; text: string; json: GraphQLBody }[],
    problems: string[],
  ) => {
    const [reference, ...others] = answers;
    for (const answer of answers) {
      if (answer.status !== 200 || answer.json.errors) {
        problems.push(`${answer.gateway.name}: HTTP ${answer.status} ${JSON.stringify(answer.json.errors ?? answer.text).slice(0, 200)}`);
      }
      if (answer.json.data === null || answer.json.data === undefined) problems.push(`${answer.gateway.name}: no data`);
    }
    for (const other of others) {
      const difference = firstDifference(canonical(reference!.json.data), canonical(other.json.data));
      if (difference) problems.push(`${reference!.gateway.name} vs ${other.gateway.name}: ${difference}`);
      else if (JSON.stringify(reference!.json.data) !== JSON.stringify(other.json.data)) {
        problems.push(`${reference!.gateway.name} vs ${other.gateway.name}: same data, different field order`);
      }
    }
    void workload;
  };
  for (const workload of READ_WORKLOADS) {
    const problems: string[] = [];
    const items = reads[workload];
    const picks = [0, 1, 2, 3, 4].map((k) => items[Math.floor((k * items.length) / 5)]!);
    for (const request of picks) {
      const answers = [];
      for (const gateway of gateways) answers.push({ gateway, ...(await send(gateway, request)) });
      compare(workload, answers, problems);
    }
    results.push({ workload, checked: picks.length * gateways.length, identical: problems.length === 0, problems: problems.slice(0, 10) });
  }
  if (options.only.includes('PlaceOrder')) {
    // One cart, three orders: identical but for the order's own id and time.
    const template = placeOrder();
    const problems: string[] = [];
    const answers = [];
    for (const gateway of gateways) {
      const request = { ...template, body: template.body.replace(/"idempotencyKey":"[^"]+"/, `"idempotencyKey":"${randomUUID()}"`) };
      const answer = await send(gateway, request);
      const order = (answer.json.data as { placeOrder?: { order?: Record<string, unknown> } } | undefined)?.placeOrder?.order;
      if (order) {
        if (order.status !== 'PENDING') problems.push(`${gateway.name}: order status ${String(order.status)}`);
        order.id = '<id>';
        order.createdAt = '<createdAt>';
        answer.text = JSON.stringify(answer.json);
      }
      answers.push({ gateway, ...answer });
    }
    compare('PlaceOrder', answers, problems);
    results.push({ workload: 'PlaceOrder', checked: gateways.length, identical: problems.length === 0, problems });
  }
  return results;
}

/** The products subgraph asked directly must answer what our router answers, or its rps is no limit of the same work. */
async function verifyDirect(
  ours: Gateway,
  direct: Gateway,
  reads: Record<ReadWorkload, Request[]>,
  directly: (requests: Request[]) => Request[],
): Promise<Verification[]> {
  const results: Verification[] = [];
  for (const workload of READ_WORKLOADS.filter((w) => options.only.includes(w) && PRODUCTS_ONLY.includes(w))) {
    const problems: string[] = [];
    const picks = [0, 1, 2].map((k) => reads[workload][Math.floor((k * reads[workload].length) / 3)]!);
    for (const request of picks) {
      const answers = await Promise.all(
        [
          [ours, request],
          [direct, directly([request])[0]!],
        ].map(async ([gateway, r]) => {
          const response = await fetch(`${(gateway as Gateway).url}/graphql`, {
            method: 'POST',
            headers: (r as Request).headers,
            body: (r as Request).body,
          });
          return (await response.json()) as GraphQLBody;
        }),
      );
      if (answers.some((a) => a.errors || !a.data)) problems.push(`errors: ${JSON.stringify(answers.map((a) => a.errors)).slice(0, 300)}`);
      const difference = firstDifference(canonical(answers[0]!.data), canonical(answers[1]!.data));
      if (difference) problems.push(`ours vs products directly: ${difference}`);
    }
    results.push({ workload: `${workload} (direct)`, checked: picks.length * 2, identical: problems.length === 0, problems });
  }
  return results;
}

/** Our router's whole-stack CPU per request in an earlier result file, for the report to compare with. */
function readBaseline(file: string): BenchResults['baseline'] {
  const resolved = path.resolve(ROOT, file);
  if (!existsSync(resolved)) return undefined;
  const earlier = JSON.parse(readFileSync(resolved, 'utf8')) as BenchResults;
  const cpuMsPerRequest: NonNullable<BenchResults['baseline']>['cpuMsPerRequest'] = {};
  for (const { workload, measurements } of earlier.workloads) {
    const ours = measurements.ours;
    const o = ours?.otherCpuMsPerRequest;
    if (!ours || !o || workload !== baselineWorkload(workload)) continue;
    cpuMsPerRequest[workload] = {
      router: ours.cpuMsPerRequest,
      users: o.users,
      products: o.products,
      orders: o.orders,
      postgres: o.postgres,
      total: ours.cpuMsPerRequest + o.users + o.products + o.orders + o.postgres,
    };
  }
  return { file: path.relative(ROOT, resolved), commit: earlier.git.commit, cpuMsPerRequest };
}

/**
 * 100k OrderHistory requests through our router: its RSS at the end must sit within 15% of its RSS after
 * warm-up. The warm-up is a tenth of the soak, not a few seconds: V8 grows its heap for a while before it
 * settles, and that growth is no leak. Only growth fails; RSS falling after a collection is no failure.
 */
async function soak(router: Gateway, requests: Request[], startedAt: Date) {
  const total = options.soakRequests;
  const warmupRequests = Math.max(options.connections * 10, Math.round(total / 10));
  step(
    `soak: ${total.toLocaleString('en')} OrderHistory requests through our router, ${options.connections} connections, after ${warmupRequests.toLocaleString('en')} to warm up`,
  );
  const next = rotation(requests);
  await load(router.url, next, { connections: options.connections, amount: warmupRequests });
  const warm = rssMiB(router.pid);
  console.log(`  RSS after warm-up: ${warm.toFixed(1)} MiB`);
  const samples: { atSeconds: number; rssMiB: number }[] = [{ atSeconds: 0, rssMiB: warm }];
  const began = Date.now();
  const sampler = setInterval(() => {
    const rss = rssMiB(router.pid);
    samples.push({ atSeconds: (Date.now() - began) / 1000, rssMiB: rss });
    if (process.stdout.isTTY) process.stdout.write(`\r  ${((Date.now() - began) / 1000).toFixed(0)} s, RSS ${rss.toFixed(1)} MiB   `);
  }, 2_000);
  const outcome = await load(router.url, next, { connections: options.connections, amount: total }).finally(() => clearInterval(sampler));
  if (process.stdout.isTTY) process.stdout.write('\n');
  const end = rssMiB(router.pid);
  samples.push({ atSeconds: (Date.now() - began) / 1000, rssMiB: end });
  const growth = (end - warm) / warm;
  const pass = growth <= 0.15;
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git: gitAtStart,
    mode: 'soak',
    warmupRequests,
    requests: outcome.requests,
    rps: outcome.requests / outcome.durationSeconds,
    p50: outcome.p50,
    p99: outcome.p99,
    errors: outcome.errors,
    rssAfterWarmupMiB: warm,
    rssAtEndMiB: end,
    growth,
    limit: 0.15,
    pass,
    samples,
  };
  // The trend in ten steps: a leak keeps climbing, a heap finding its size flattens out.
  const trend = Array.from({ length: 11 }, (_, i) => samples[Math.round((i * (samples.length - 1)) / 10)]!.rssMiB.toFixed(0)).join(' ');
  console.log(
    `  ${outcome.requests.toLocaleString('en')} requests at ${report.rps.toFixed(1)} rps, p50 ${outcome.p50} ms, p99 ${outcome.p99} ms, errors ${outcome.errors.total}` +
      `\n  RSS trend (MiB): ${trend}` +
      `\n  RSS ${warm.toFixed(1)} MiB after warm-up -> ${end.toFixed(1)} MiB at the end (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%, limit +15%): ${pass ? 'PASS' : 'FAIL'}`,
  );
  for (const s of outcome.errors.samples) console.log(`  error sample: ${s}`);
  const file = writeResults(`${fileStamp(startedAt)}-soak`, report);
  console.log(`  written to ${path.relative(process.cwd(), file)}`);
  return pass ? 0 : 1;
}

function gitState() {
  try {
    const commit = execSync('git rev-parse HEAD', { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { cwd: ROOT, encoding: 'utf8' }).trim().length > 0;
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

function packageVersion(name: string): string {
  const file = `${ROOT}node_modules/${name}/package.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'unknown';
}

const fileStamp = (date: Date) => date.toISOString().replace(/[:.]/g, '-');

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  console.error(error);
} finally {
  await cleanup();
}
process.exit(exitCode);
