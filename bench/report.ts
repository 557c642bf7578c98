import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Subgraph } from './seed.js';

export const GATEWAYS = ['ours', 'apollo', 'hive'] as const;
export type GatewayName = (typeof GATEWAYS)[number];
export const GATEWAY_LABELS: Record<GatewayName, string> = {
  ours: 'our router',
  apollo: 'stock @apollo/gateway',
  hive: 'Hive Gateway',
};

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
  ratios: Record<string, Record<'vsApollo' | 'vsHive', { rps: number | null; p99: number | null; cpuMsPerRequest: number | null }>>;
  workloads: WorkloadResult[];
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
    ratios[workload] = { vsApollo: against('apollo'), vsHive: against('hive') };
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
      ['workload', 'rps', 'rps/apollo', 'rps/hive', 'p99 ms', 'p99/apollo', 'p99/hive', 'cpu ms/req', 'cpu/apollo', 'cpu/hive', 'errors'],
      results.workloads.map(({ workload, measurements }) => {
        const ours = measurements.ours;
        const r = results.ratios[workload]!;
        return [
          workload,
          num(ours?.rps),
          times(r.vsApollo.rps),
          times(r.vsHive.rps),
          num(ours?.p99, 0),
          times(r.vsApollo.p99),
          times(r.vsHive.p99),
          num(ours?.cpuMsPerRequest, 2),
          times(r.vsApollo.cpuMsPerRequest),
          times(r.vsHive.cpuMsPerRequest),
          ours ? String(ours.errors.total) : '-',
        ];
      }),
    ),
  );
  if (results.workloads.some((w) => w.workload === 'PlaceOrder')) {
    out.push(
      `PlaceOrder is offered at a fixed ${String(results.options.placeOrderRate)}/s: its rps says whether a gateway kept up, not what it could do.`,
    );
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
        `${num(m.sqlPerRequest.users, 2)}/${num(m.sqlPerRequest.products, 2)}/${num(m.sqlPerRequest.orders, 2)}`,
        `${num(m.fetchesPerRequest.users, 2)}/${num(m.fetchesPerRequest.products, 2)}/${num(m.fetchesPerRequest.orders, 2)} = ${num(m.fetchesPerRequest.total, 2)}`,
        m.countedBy,
      ]);
    }
  }
  out.push(
    table(
      ['workload', 'gateway', 'rps', 'p50 ms', 'p99 ms', 'errors', 'cpu ms/req', 'SQL u/p/o', 'fetches u/p/o', 'counted by'],
      rows,
      (i) => i > 1 && i !== 5 && i !== 9,
    ),
  );
  const samples = results.workloads.flatMap(({ workload, measurements }) =>
    Object.values(measurements).flatMap((m) => m!.errors.samples.map((s) => `  ${workload} / ${m!.gateway}: ${s}`)),
  );
  if (samples.length) out.push('', 'Error samples:', ...samples);
  const bad = results.verification.filter((v) => !v.identical);
  out.push(
    '',
    bad.length
      ? 'ANSWERS DIFFER between gateways:'
      : `Answers identical across the three gateways (${results.verification.map((v) => `${v.workload} x${v.checked}`).join(', ')}).`,
  );
  for (const v of bad) out.push(...v.problems.map((p) => `  ${v.workload}: ${p}`));
  return out.join('\n');
}

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

/** Writes a result file under bench/results/, named by the run's start time; returns its path. */
export function writeResults(name: string, results: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${name}.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
