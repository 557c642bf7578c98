import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Subgraph } from './seed.js';

export const GATEWAYS = ['ours', 'apollo', 'hive', 'hiveRust'] as const;
export type GatewayName = (typeof GATEWAYS)[number];
export const GATEWAY_LABELS: Record<GatewayName, string> = {
  ours: 'our router',
  apollo: 'stock @apollo/gateway',
  hive: 'Hive Gateway',
  hiveRust: 'Hive Gateway + Rust planner',
};
/** The peers our router is compared with, and the key of each one's ratios. */
export const PEERS = { vsApollo: 'apollo', vsHive: 'hive', vsHiveRust: 'hiveRust' } as const satisfies Record<string, GatewayName>;
type PeerKey = keyof typeof PEERS;

export interface Measurement {
  gateway: GatewayName;
  /** Completed requests in the timed window (warm-up excluded). */
  requests: number;
  durationSeconds: number;
  rps: number;
  /** Latencies of 2xx responses, in milliseconds. */
  p50: number;
  p99: number;
  errors: {
    /** HTTP status outside 2xx. */
    non2xx: number;
    /** Socket errors and timeouts. */
    transport: number;
    /** 2xx responses whose body carries `errors`. */
    graphql: number;
    total: number;
    /** A few distinct error bodies, cut short, to see what went wrong. */
    samples: string[];
  };
  /** Gateway process CPU time (user + system, all its processes) per completed request. */
  cpuMsPerRequest: number;
  /**
   * Everyone else's CPU per request in the same window: each subgraph process, the PostgreSQL server (all its
   * processes) and the load generator. On two cores these share the machine with the gateway, so they bound rps.
   */
  otherCpuMsPerRequest?: Record<Subgraph | 'postgres' | 'client', number>;
  /**
   * CPU per request of the PostgreSQL backends serving the bench's own databases (their pids from
   * pg_stat_activity), unlike `otherCpuMsPerRequest.postgres`, which counts every postgres process on the machine.
   */
  postgresBackendsCpuMsPerRequest?: number;
  /**
   * PlaceOrder only: the outbox relay's lag from commit to publication over the timed window (every subgraph's
   * `outbox_relay_lag_seconds`), quantiles interpolated within the histogram's buckets.
   */
  relayLag?: { events: number; p50: number; p99: number; within200ms: number };
  /**
   * Our router only: subgraph fetches answered by an identical one in flight, and its entity cache's lookups of
   * product entities and of root queries (absent from results taken before root queries were cached).
   */
  router?: {
    sharedFetchesPerRequest: number;
    entityCacheHits: number;
    entityCacheMisses: number;
    rootCacheHits?: number;
    rootCacheMisses?: number;
  };
  /** Share of the whole machine's CPU (every core, every process, the kernel) busy during the timed run. */
  machineBusy?: number;
  /** With --rounds above 1: each round's own figures, which the others combine. */
  rounds?: Pick<Measurement, 'rps' | 'p50' | 'p99' | 'cpuMsPerRequest'>[];
  /** Where the per-request counters come from: the timed load itself, or a sequential probe of this operation alone. */
  countedBy: 'load' | 'probe';
  /** `db_queries_total{origin="request"}` per request, per subgraph database. */
  sqlPerRequest: Record<Subgraph, number>;
  /** `graphql_requests_total` per request, per subgraph: what the gateway fetched (and orders -> products calls). */
  fetchesPerRequest: Record<Subgraph | 'total', number>;
}

export interface WorkloadResult {
  workload: string;
  description: string;
  measurements: Partial<Record<GatewayName, Measurement>>;
  /**
   * What no gateway can beat on this machine: `direct`, the subgraph asked the same thing directly (one-fetch
   * workloads), else `computed`, the two cores divided by the CPU per request of everything but the gateway
   * (subgraphs and PostgreSQL, as measured under our router): the rps of a gateway that cost nothing.
   */
  limit?: { how: 'direct' | 'computed'; rps: number; measurement?: Measurement };
}

export interface Verification {
  workload: string;
  checked: number;
  identical: boolean;
  problems: string[];
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  git: { commit: string; dirty: boolean };
  machine: { node: string; cpus: number; platform: string; loadAverageAtStart: number[] };
  options: Record<string, unknown>;
  peers: Record<string, string>;
  dataset: Record<string, number>;
  verification: Verification[];
  /** ours ÷ peer, per workload: rps (higher is better), p99 and CPU per request (lower is better). */
  ratios: Record<string, Record<PeerKey, { rps: number | null; p99: number | null; cpuMsPerRequest: number | null }>>;
  workloads: WorkloadResult[];
  /** Whole-stack CPU per request under our router in an earlier result file, by workload, to compare with. */
  baseline?: {
    file: string;
    commit: string;
    cpuMsPerRequest: Record<string, { router: number; users: number; products: number; orders: number; postgres: number; total: number }>;
  };
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : a / b;

export function computeRatios(workloads: WorkloadResult[]): BenchResults['ratios'] {
  const ratios: BenchResults['ratios'] = {};
  for (const { workload, measurements: m } of workloads) {
    const against = (peer: GatewayName) => ({
      rps: ratio(m.ours?.rps, m[peer]?.rps),
      p99: ratio(m.ours?.p99, m[peer]?.p99),
      cpuMsPerRequest: ratio(m.ours?.cpuMsPerRequest, m[peer]?.cpuMsPerRequest),
    });
    ratios[workload] = Object.fromEntries(Object.entries(PEERS).map(([key, peer]) => [key, against(peer)])) as Record<
      PeerKey,
      ReturnType<typeof against>
    >;
  }
  return ratios;
}

function table(header: string[], rows: string[][], rightAligned = (i: number) => i > 0): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const num = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
const times = (value: number | null | undefined) => (value === null || value === undefined ? '-' : `${value.toFixed(2)}x`);

/** The ratios table first (what the issue's targets are about), then every measurement in full. */
export function formatReport(results: BenchResults): string {
  const out: string[] = [];
  const { machine } = results;
  out.push(
    `node ${machine.node}, ${machine.cpus} CPUs, load average ${machine.loadAverageAtStart.map((l) => l.toFixed(1)).join(' ')} at start; commit ${results.git.commit.slice(0, 9)}${results.git.dirty ? ' (with local changes)' : ''}`,
  );
  out.push('');
  out.push('Ratios, our router / peer (rps: higher is better; p99 and CPU per request: lower is better)');
  out.push(
    table(
      [
        'workload',
        'rps',
        'rps/apollo',
        'rps/hive',
        'rps/hive-rust',
        'limit rps',
        'p50 ms',
        'p99 ms',
        'p99/hive-rust',
        'cpu ms/req',
        'cpu/apollo',
        'cpu/hive',
        'cpu/hive-rust',
        'errors',
      ],
      results.workloads.map(({ workload, measurements, limit }) => {
        const ours = measurements.ours;
        const r = results.ratios[workload]!;
        return [
          workload,
          num(ours?.rps),
          times(r.vsApollo.rps),
          times(r.vsHive.rps),
          times(r.vsHiveRust?.rps),
          limit ? `${num(limit.rps, 0)} ${limit.how}` : '-',
          num(ours?.p50, 0),
          num(ours?.p99, 0),
          times(r.vsHiveRust?.p99),
          num(ours?.cpuMsPerRequest, 2),
          times(r.vsApollo.cpuMsPerRequest),
          times(r.vsHive.cpuMsPerRequest),
          times(r.vsHiveRust?.cpuMsPerRequest),
          ours ? String(ours.errors.total) : '-',
        ];
      }),
    ),
  );
  const placeOrder = results.workloads.find((w) => w.workload === 'PlaceOrder');
  if (placeOrder) {
    out.push(
      `PlaceOrder is offered at a fixed ${String(results.options.placeOrderRate)}/s: its rps says whether a gateway kept up, not what it could do.`,
    );
    for (const m of Object.values(placeOrder.measurements)) {
      if (!m?.relayLag) continue;
      const lag = m.relayLag;
      out.push(
        `Outbox relay lag while PlaceOrder ran through ${GATEWAY_LABELS[m.gateway]}: p50 ${num(lag.p50, 0)} ms, p99 ${num(lag.p99, 0)} ms, ${num(100 * lag.within200ms, 1)}% of ${lag.events} events published within 200 ms.`,
      );
    }
  }
  out.push('');
  out.push('Per gateway (SQL = statements per request in each database; fetches = subgraph requests per request)');
  const rows: string[][] = [];
  for (const { workload, measurements } of results.workloads) {
    for (const gateway of GATEWAYS) {
      const m = measurements[gateway];
      if (!m) continue;
      rows.push([
        workload,
        gateway,
        num(m.rps),
        num(m.p50, 0),
        num(m.p99, 0),
        `${m.errors.total}${m.errors.total ? ` (${[m.errors.non2xx && `${m.errors.non2xx} http`, m.errors.transport && `${m.errors.transport} net`, m.errors.graphql && `${m.errors.graphql} gql`].filter(Boolean).join(', ')})` : ''}`,
        num(m.cpuMsPerRequest, 2),
        cpuBreakdown(m),
        num(stackCpuMsPerRequest(m), 2),
        `${num(m.sqlPerRequest.users, 2)}/${num(m.sqlPerRequest.products, 2)}/${num(m.sqlPerRequest.orders, 2)}`,
        `${num(m.fetchesPerRequest.users, 2)}/${num(m.fetchesPerRequest.products, 2)}/${num(m.fetchesPerRequest.orders, 2)} = ${num(m.fetchesPerRequest.total, 2)}`,
        m.countedBy,
      ]);
    }
  }
  out.push(
    table(
      [
        'workload',
        'gateway',
        'rps',
        'p50 ms',
        'p99 ms',
        'errors',
        'cpu ms/req',
        'cpu u/p/o/pg',
        'stack cpu',
        'SQL u/p/o',
        'fetches u/p/o',
        'counted by',
      ],
      rows,
      (i) => i > 1 && i !== 5 && i !== 7 && i !== 11,
    ),
  );
  const samples = results.workloads.flatMap(({ workload, measurements }) =>
    Object.values(measurements).flatMap((m) => m!.errors.samples.map((s) => `  ${workload} / ${m!.gateway}: ${s}`)),
  );
  out.push(
    '',
    'cpu ms/req: the gateway process; cpu u/p/o/pg: users, products, orders, and the PostgreSQL backends of the bench databases;',
    'stack cpu: all of them together. The limit is the products subgraph asked directly (direct) or 2 cores over the CPU per',
    'request of subgraphs and PostgreSQL under our router (computed).',
  );
  const hitRate = (hits: number, misses: number) =>
    hits + misses ? `hit rate ${num((100 * hits) / (hits + misses), 1)}% of ${hits + misses} lookups` : 'not used';
  const sharing = results.workloads.flatMap(({ workload, measurements }) => {
    const r = measurements.ours?.router;
    if (!r) return [];
    const roots = r.rootCacheHits === undefined ? '' : `; root queries ${hitRate(r.rootCacheHits, r.rootCacheMisses ?? 0)}`;
    return [
      `  ${workload}: ${num(r.sharedFetchesPerRequest, 2)} fetches shared per request; entity cache ${hitRate(r.entityCacheHits, r.entityCacheMisses)}${roots}`,
    ];
  });
  if (sharing.length) out.push('', 'Our router: in-flight sharing and the entity cache (on only with BENCH_NATS_URL)', ...sharing);
  const baseline = results.baseline;
  if (baseline) {
    out.push('', `Whole-stack CPU per request under our router against ${baseline.file} (commit ${baseline.commit.slice(0, 9)}):`);
    for (const { workload, measurements } of results.workloads) {
      const before = baseline.cpuMsPerRequest[baselineWorkload(workload)];
      const now = measurements.ours;
      if (!before || !now) continue;
      const stack = stackCpuMsPerRequest(now);
      out.push(
        `  ${workload}: ${num(stack, 2)} ms now (router ${num(now.cpuMsPerRequest, 2)}, ${cpuBreakdown(now)}) vs ${num(before.total, 2)} ms then (router ${num(before.router, 2)}, ${num(before.users, 2)}/${num(before.products, 2)}/${num(before.orders, 2)}/${num(before.postgres, 2)}): ${times(stack / before.total)}`,
      );
    }
    out.push("  (the baseline counted every postgres process on the machine, this run only the bench databases' backends)");
  }
  if (samples.length) out.push('', 'Error samples:', ...samples);
  const bad = results.verification.filter((v) => !v.identical);
  out.push(
    '',
    bad.length
      ? 'ANSWERS DIFFER between gateways:'
      : `Answers identical across the gateways (${results.verification.map((v) => `${v.workload} x${v.checked}`).join(', ')}).`,
  );
  for (const v of bad) out.push(...v.problems.map((p) => `  ${v.workload}: ${p}`));
  return out.join('\n');
}

/** CPU per request of the subgraphs and PostgreSQL backends, as `u/p/o/pg`. */
function cpuBreakdown(m: Measurement): string {
  const o = m.otherCpuMsPerRequest;
  if (!o) return '-';
  return `${num(o.users, 2)}/${num(o.products, 2)}/${num(o.orders, 2)}/${num(m.postgresBackendsCpuMsPerRequest ?? o.postgres, 2)}`;
}

/** The gateway, the subgraphs and the PostgreSQL backends together, per request. */
export function stackCpuMsPerRequest(m: Measurement): number {
  const o = m.otherCpuMsPerRequest;
  if (!o) return NaN;
  return m.cpuMsPerRequest + o.users + o.products + o.orders + (m.postgresBackendsCpuMsPerRequest ?? o.postgres);
}

/**
 * The workload of a baseline file that did the same work: the same name. The older files have no few-users
 * OrderHistory and no identical Catalogue, whose sharing would make a comparison with their distinct requests unfair.
 */
export function baselineWorkload(workload: string): string {
  return workload;
}

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

/** Writes a result file under bench/results/, named by the run's start time; returns its path. */
export function writeResults(name: string, results: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
