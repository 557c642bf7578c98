/**
 * The deployment artifacts, checked without a Docker engine or a cluster: docker-compose.yml and the
 * Dockerfiles it builds, the Prometheus and Grafana provisioning, and the kustomize base under deploy/k8s.
 * Everything is compared with the code itself (ports, env vars, subgraph names), so a renamed variable or a
 * moved port fails here instead of in a container that never gets healthy.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type z } from '@shop/service/config';
import { SERVICE_NAMES, SERVICES, portVariable, type ServiceName } from '@shop/service/services';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { routerSettings } from '../../router/src/config.js';
import { trustProxySetting } from '../../router/src/trust-proxy.js';
import { ordersSettings } from '../../subgraphs/orders/src/config.js';
import { productsSettings } from '../../subgraphs/products/src/config.js';
import { usersSettings } from '../../subgraphs/users/src/config.js';

type ZodObject = z.ZodObject;
type ZodType = z.ZodType;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Parsed YAML or JSON, walked structurally: the assertions are the type checks. */
type Doc = Record<string, any>;

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const exists = (file: string) => existsSync(path.join(ROOT, file));

// ---- what the code says ---------------------------------------------------------------------------------

/** Each service's settings: every variable it reads is declared there, and checked as it starts. */
const SETTINGS: Record<ServiceName, ZodObject> = {
  router: routerSettings,
  users: usersSettings,
  products: productsSettings,
  orders: ordersSettings,
};

interface App {
  /** Compose service, Kubernetes Deployment and Prometheus job name. */
  name: ServiceName;
  dir: string;
  /** `USERS_PORT`, `USERS_OPS_PORT`. */
  portEnv: string;
  opsPortEnv: string;
  defaultPort: number;
  defaultOpsPort: number;
  /** Every variable its settings declare. */
  reads: Set<string>;
  /** Databases it opens: `<NAME>_DATABASE_URL` among its settings. */
  databases: string[];
  /** Variables naming another service's URL (`PRODUCTS_URL`), which default to localhost. */
  serviceUrls: string[];
  /** Secrets that must be set in production. */
  requiredSecrets: string[];
}

function app(name: ServiceName): App {
  const shape = SETTINGS[name].shape as Record<string, ZodType>;
  const reads = new Set(Object.keys(shape));
  const meta = (variable: string) => (shape[variable]!.meta() ?? {}) as { requiredInProduction?: boolean };
  return {
    name,
    dir: SERVICES[name].dir,
    portEnv: portVariable(name),
    opsPortEnv: portVariable(name, 'opsPort'),
    defaultPort: SERVICES[name].port,
    defaultOpsPort: SERVICES[name].opsPort,
    reads,
    databases: [...reads].filter((v) => v.endsWith('_DATABASE_URL')).map((v) => v.replace(/_DATABASE_URL$/, '').toLowerCase()),
    serviceUrls: [...reads].filter((v) => SERVICE_NAMES.some((other) => v === `${other.toUpperCase()}_URL`)),
    requiredSecrets: [...reads].filter((v) => meta(v).requiredInProduction),
  };
}

const APPS = SERVICE_NAMES.map(app);

/** The subgraph names the committed supergraph composes (the router's `<NAME>_URL` overrides). */
const SUPERGRAPH_SUBGRAPHS = [...read('schema/supergraph.graphql').matchAll(/@join__graph\(name: "([^"]+)"/g)].map((m) => m[1]!);
const SUBGRAPHS = APPS.filter((a) => a.databases.length > 0);

/** Env vars given to an app that its settings do not declare. */
function unreadEnv(target: App, given: string[]): string[] {
  return given.filter((name) => !target.reads.has(name));
}

/**
 * Set in production: NODE_ENV; the secrets its settings require in production (JWT_SECRET for a subgraph, which
 * verifies tokens itself); its PostgreSQL URL (else it would run on embedded PGlite); the URLs of the services it
 * calls, which default to localhost.
 */
function requiredEnv(target: App): string[] {
  return ['NODE_ENV', ...target.serviceUrls, ...target.requiredSecrets, ...target.databases.map((d) => `${d.toUpperCase()}_DATABASE_URL`)];
}

function listenPort(target: App, env: Record<string, string>): number {
  return Number(env[target.portEnv] || env.PORT || target.defaultPort);
}

function opsPort(target: App, env: Record<string, string>): number {
  return Number(env[target.opsPortEnv] || env.OPS_PORT || target.defaultOpsPort);
}

/** A service's settings accept its production environment: every value valid, no secret shipped in the repo. */
function acceptsInProduction(target: App, env: Record<string, string>): string | true {
  try {
    loadConfig(SETTINGS[target.name], { ...env, NODE_ENV: 'production' });
    return true;
  } catch (error) {
    return (error as Error).message;
  }
}

// ---- docker-compose.yml -----------------------------------------------------------------------------------

/**
 * Compose interpolation: `${X:-default}` is X or its default, `${X}` is X or empty, and `${X:?message}` is X, which
 * the operator must set (compose refuses to start without it). `operator` holds what the operator sets.
 */
function interpolate(value: unknown, operator: Record<string, string> = {}): string {
  return String(value ?? '').replace(
    /\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g,
    (_, name: string, kind?: string, fallback?: string) => operator[name] ?? (kind === '-' ? (fallback ?? '') : ''),
  );
}

/** The variables compose requires the operator to set (`${X:?…}`): the secrets. */
const OPERATOR_SET = [...new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!))];

/** What an operator puts in `.env`: a real, random value for each variable compose requires. */
const OPERATOR_ENV = Object.fromEntries(OPERATOR_SET.map((name) => [name, randomBytes(32).toString('base64url')]));

function composeEnv(service: Doc, operator = OPERATOR_ENV): Record<string, string> {
  const environment = service.environment ?? {};
  const entries: [string, unknown][] = Array.isArray(environment)
    ? environment.map((line: string) => [line.split('=')[0]!, line.split('=').slice(1).join('=')])
    : Object.entries(environment);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v, operator)]));
}

function dependsOn(service: Doc): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d: string) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, (v as Doc)?.condition ?? 'service_started']));
}

/** Bind mounts in short syntax: `./host/path:/container/path[:ro]`. */
function bindMounts(service: Doc): { source: string; target: string }[] {
  return (service.volumes ?? [])
    .map((v: unknown) => (typeof v === 'string' ? v : `${(v as Doc).source}:${(v as Doc).target}`))
    .filter((v: string) => v.startsWith('./') || v.startsWith('../'))
    .map((v: string) => {
      const [source, target] = v.split(':');
      return { source: path.posix.normalize(source!), target: target! };
    });
}

const compose = parse(read('docker-compose.yml')) as Doc;
const services = compose.services as Record<string, Doc>;

function buildOf(service: Doc): { context: string; dockerfile: string } | undefined {
  if (!service.build) return undefined;
  if (typeof service.build === 'string') return { context: service.build, dockerfile: 'Dockerfile' };
  return { context: service.build.context ?? '.', dockerfile: service.build.dockerfile ?? 'Dockerfile' };
}

/** Where a URL points, for comparison with a service name and port. */
function hostPort(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port}`;
}

describe('docker-compose.yml', () => {
  it('builds each of our services from the one Dockerfile, named by its SERVICE build argument', () => {
    for (const target of APPS) {
      const build = services[target.name]?.build;
      expect(build, `compose service ${target.name}`).toMatchObject({ context: '.', args: { SERVICE: target.name } });
      expect(build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    }
    for (const [name, service] of Object.entries(services)) {
      const build = buildOf(service);
      if (!build) continue;
      expect(exists(build.context), `${name}: build context ${build.context}`).toBe(true);
      expect(exists(path.posix.join(build.context, build.dockerfile)), `${name}: ${build.dockerfile} in ${build.context}`).toBe(true);
    }
  });

  it('gives every service a healthcheck', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} has a healthcheck`).toBeTruthy();
      expect(service.healthcheck?.disable, `${name} healthcheck disabled`).not.toBe(true);
    }
  });

  it('checks each service on its ops port, and exposes the ports its code listens on', () => {
    for (const target of APPS) {
      const service = services[target.name]!;
      const env = composeEnv(service);
      const test = [service.healthcheck.test].flat().join(' ');
      expect(test, `${target.name} healthcheck`).toMatch(
        new RegExp(`(127\\.0\\.0\\.1|localhost):${opsPort(target, env)}/(health|ready)\\b`),
      );
      const published = [...(service.expose ?? []), ...(service.ports ?? [])].map((p: unknown) => String(p).split(':').at(-1));
      expect(published, `${target.name} exposes ${listenPort(target, env)}`).toContain(String(listenPort(target, env)));
      expect(published, `${target.name} exposes its ops port to Prometheus`).toContain(String(opsPort(target, env)));
    }
  });

  it('gives each service only env vars its code reads, and every one it needs in production', () => {
    const unread: Record<string, string[]> = {};
    const missing: Record<string, string[]> = {};
    for (const target of APPS) {
      const env = composeEnv(services[target.name]!);
      unread[target.name] = unreadEnv(target, Object.keys(env));
      missing[target.name] = requiredEnv(target).filter((name) => !env[name]);
    }
    const none = Object.fromEntries(APPS.map((a) => [a.name, []]));
    expect(unread, 'env vars given to a service whose code never reads them').toEqual(none);
    expect(missing, 'env vars a service needs in production and is not given').toEqual(none);
    for (const target of APPS) {
      const env = composeEnv(services[target.name]!);
      expect(env.NODE_ENV, `${target.name} NODE_ENV`).toBe('production');
      expect(acceptsInProduction(target, env), `${target.name} starts with the operator's secrets`).toBe(true);
    }
  });

  it('ships no secret: compose refuses to start until the operator sets each one, and the services refuse placeholders', () => {
    for (const secret of ['JWT_SECRET', 'ROUTER_SECRET', 'POSTGRES_PASSWORD', 'ADMIN_PASSWORD']) expect(OPERATOR_SET).toContain(secret);
    const example = parse(
      read('.env.example')
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => line.replace('=', ': '))
        .join('\n'),
    ) as Record<string, string>;
    expect(Object.keys(example).sort(), '.env.example names what compose requires').toEqual([...OPERATOR_SET].sort());
    // The example's values are placeholders: a service given them in production refuses to start, naming them.
    for (const target of APPS) {
      const env = composeEnv(services[target.name]!, Object.fromEntries(Object.entries(example).map(([k, v]) => [k, String(v)])));
      const given = Object.keys(env).filter((name) =>
        OPERATOR_SET.some((secret) => String(services[target.name]!.environment[name]).includes(secret)),
      );
      if (given.length === 0) continue;
      const verdict = acceptsInProduction(target, env);
      for (const name of given) expect(verdict, `${target.name} refuses the example's ${name}`).toContain(name);
    }
  });

  it('points every service URL at the compose service that serves it, on its port', () => {
    const ports = Object.fromEntries(APPS.map((a) => [a.name, listenPort(a, composeEnv(services[a.name]!))]));
    for (const target of APPS) {
      const env = composeEnv(services[target.name]!);
      for (const name of target.serviceUrls) {
        const callee = name.replace(/_URL$/, '').toLowerCase();
        expect(hostPort(env[name]!), `${target.name} ${name}`).toBe(`${callee}:${ports[callee]}`);
      }
    }
  });

  it('starts subgraphs on a healthy database that has their databases, and the router on healthy subgraphs', () => {
    for (const target of SUBGRAPHS) {
      const env = composeEnv(services[target.name]!);
      for (const database of target.databases) {
        const url = new URL(env[`${database.toUpperCase()}_DATABASE_URL`]!);
        const server = services[url.hostname];
        expect(server, `${target.name}: database host ${url.hostname} is a compose service`).toBeDefined();
        expect([server!.healthcheck.test].flat().join(' '), `${url.hostname} healthcheck`).toContain('pg_isready');
        expect(dependsOn(services[target.name]!)[url.hostname], `${target.name} waits for ${url.hostname}`).toBe('service_healthy');
        // The database named in the URL is created by an init script the server mounts.
        const initScripts = bindMounts(server!)
          .filter((m) => m.target.startsWith('/docker-entrypoint-initdb.d'))
          .map((m) => read(m.source))
          .join('\n');
        expect(initScripts, `${url.hostname} creates ${url.pathname.slice(1)}`).toMatch(
          new RegExp(`create database\\s+"?${url.pathname.slice(1)}\\b`, 'i'),
        );
      }
    }
    for (const subgraph of SUPERGRAPH_SUBGRAPHS) {
      expect(dependsOn(services.router!)[subgraph], `router waits for ${subgraph}`).toBe('service_healthy');
    }
  });

  it('mounts only files that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const mount of bindMounts(service)) expect(exists(mount.source), `${name} mounts ${mount.source}`).toBe(true);
    }
  });

  it('has Prometheus scrape exactly our four services on their ports', () => {
    const [name, prometheus] = Object.entries(services).find(([, s]) => String(s.image).startsWith('prom/prometheus'))!;
    const config = bindMounts(prometheus).find((m) => m.target === '/etc/prometheus/prometheus.yml');
    expect(config, `${name} mounts its configuration`).toBeDefined();
    const scrape = parse(read(config!.source)) as Doc;
    const targets = (scrape.scrape_configs as Doc[]).flatMap((job) => {
      expect(job.metrics_path ?? '/metrics').toBe('/metrics');
      return (job.static_configs as Doc[]).flatMap((c) => c.targets as string[]);
    });
    const expected = APPS.map((a) => `${a.name}:${opsPort(a, composeEnv(services[a.name]!))}`);
    expect(targets.sort()).toEqual(expected.sort());
  });

  it('provisions Grafana with the Prometheus datasource and the shop dashboard', () => {
    const grafana = Object.values(services).find((s) => String(s.image).startsWith('grafana/'))!;
    const mounts = bindMounts(grafana);
    const provisioning = mounts.find((m) => m.target === '/etc/grafana/provisioning')!.source;
    const datasources = parse(read(`${provisioning}/datasources/prometheus.yml`)) as Doc;
    const datasource = (datasources.datasources as Doc[]).find((d) => d.type === 'prometheus')!;
    expect(hostPort(datasource.url)).toBe('prometheus:9090');

    const provider = (parse(read(`${provisioning}/dashboards/shop.yml`)) as Doc).providers[0] as Doc;
    const dashboards = mounts.find((m) => m.target === provider.options.path);
    expect(dashboards, 'the dashboard folder is mounted where the provider looks').toBeDefined();
    const dashboard = JSON.parse(read(`${dashboards!.source}/shop.json`)) as Doc;
    const panels = (dashboard.panels as Doc[]).filter((p) => p.type !== 'row');
    for (const panel of panels) expect(panel.datasource.uid, panel.title).toBe(datasource.uid);
    const queries = panels.flatMap((p) => (p.targets as Doc[]).map((t) => t.expr as string)).join('\n');
    for (const metric of [
      'graphql_requests_total',
      'graphql_request_duration_seconds_bucket',
      'graphql_errors_total',
      'router_subgraph_fetch_duration_seconds_bucket',
      'db_query_duration_seconds',
      'db_queries_total',
    ]) {
      expect(queries, `the dashboard charts ${metric}`).toContain(metric);
    }
    for (const quantile of ['0.5', '0.95', '0.99'])
      expect(queries).toContain(`histogram_quantile(${quantile}, sum by (le, job, operation_name)`);
  });
});

// ---- Dockerfiles ------------------------------------------------------------------------------------------

/** Instructions with line continuations joined and comments dropped. */
function instructions(dockerfile: string): { op: string; args: string }[] {
  return read(dockerfile)
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

describe('the Dockerfile', () => {
  const steps = instructions('Dockerfile');
  const stages = steps.filter((s) => s.op === 'FROM');
  const finalStage = steps.slice(steps.lastIndexOf(stages.at(-1)!));

  it('is multi-stage on a supported Node LTS, installs with npm ci, and runs as a non-root user', () => {
    expect(stages.length, 'FROM instructions').toBeGreaterThanOrEqual(2);
    const image = steps.find((s) => s.op === 'ARG' && s.args.startsWith('NODE_IMAGE='))?.args;
    expect(image, 'the Node image').toMatch(/^NODE_IMAGE=node:(22|24)(-|$)/);
    for (const stage of stages) expect(stage.args).toMatch(/NODE_IMAGE|^base\b|^manifests\b/);
    const runs = steps.filter((s) => s.op === 'RUN').map((s) => s.args);
    const install = runs.find((r) => /\bnpm ci\b/.test(r) && r.includes('--omit=dev'));
    expect(install, 'an npm ci --omit=dev').toBeDefined();
    expect(
      runs.some((r) => /\bnpm (install|i)\b/.test(r)),
      'npm install instead of npm ci',
    ).toBe(false);
    const user = finalStage.filter((s) => s.op === 'USER').at(-1)?.args;
    expect(user, 'USER in the final stage').toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('builds every service by its SERVICE argument, and runs its compiled JavaScript without tsx', () => {
    const cases = steps.find((s) => s.op === 'RUN' && s.args.includes('case "$SERVICE"'))!.args;
    for (const target of APPS) {
      expect(cases, `SERVICE=${target.name}`).toContain(target.dir.startsWith('subgraphs/') ? 'subgraphs/$SERVICE' : target.dir);
      expect(cases).toContain(target.name);
    }
    expect(finalStage.find((s) => s.op === 'CMD')?.args).toBe('["node", "dist/index.js"]');
    expect(finalStage.some((s) => /\btsx\b/.test(s.args))).toBe(false);
  });

  it("health-checks /health, exposes the services' ports, and copies only paths that exist", () => {
    const healthcheck = finalStage.find((s) => s.op === 'HEALTHCHECK')?.args;
    expect(healthcheck).toContain('/health');
    const exposed = finalStage.filter((s) => s.op === 'EXPOSE').flatMap((s) => s.args.split(/\s+/));
    for (const target of APPS) expect(exposed).toEqual(expect.arrayContaining([String(target.defaultPort), String(target.defaultOpsPort)]));
    for (const copy of steps.filter((s) => s.op === 'COPY' && !s.args.includes('--from='))) {
      const sources = copy.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1);
      for (const source of sources) expect(exists(source), `Dockerfile: COPY ${source}`).toBe(true);
    }
  });

  it('.dockerignore keeps local state out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim());
    for (const entry of ['.git', '**/node_modules', '**/.data', 'bench/results']) expect(ignored).toContain(entry);
  });
});

// ---- the storefront ---------------------------------------------------------------------------------------

describe('the storefront in docker-compose', () => {
  const storefront = services.storefront!;
  const env = composeEnv(storefront);
  const [hostPort, containerPort] = String(storefront.ports[0]).split(':');
  const server = read('storefront/server/index.ts');

  it('is built from storefront/Dockerfile and health-checked on the port its server listens on', () => {
    expect(buildOf(storefront)).toEqual({ context: '.', dockerfile: 'storefront/Dockerfile' });
    const defaultPort = /process\.env\.STOREFRONT_PORT \?\? (\d+)/.exec(server)![1];
    expect(containerPort).toBe(env.STOREFRONT_PORT || defaultPort);
    expect([storefront.healthcheck.test].flat().join(' ')).toContain(`127.0.0.1:${containerPort}/health`);
  });

  it('sends browsers to the published port of the router, which allows the published origin of the storefront', () => {
    for (const name of Object.keys(env))
      expect(name === 'NODE_ENV' || server.includes(`process.env.${name}`), `storefront reads ${name}`).toBe(true);
    const routerHostPort = String(services.router!.ports[0]).split(':')[0];
    expect(new URL(env.PUBLIC_ROUTER_URL!)).toMatchObject({ hostname: 'localhost', port: routerHostPort, pathname: '/graphql' });
    expect(composeEnv(services.router!).CORS_ORIGINS!.split(',')).toContain(`http://localhost:${hostPort}`);
  });

  it("both Dockerfiles copy every workspace's package.json before npm ci, which refuses a lockfile it cannot match", () => {
    const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
    for (const dockerfile of ['Dockerfile', 'storefront/Dockerfile']) {
      const copied = instructions(dockerfile)
        .filter((s) => s.op === 'COPY' && s.args.includes('package.json'))
        .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
      for (const workspace of workspaces)
        expect(copied, `${dockerfile} copies ${workspace}/package.json`).toContain(`${workspace}/package.json`);
    }
  });

  it('storefront/Dockerfile is multi-stage, runs as a non-root user, and copies only paths that exist', () => {
    const steps = instructions('storefront/Dockerfile');
    expect(steps.filter((s) => s.op === 'FROM').length).toBeGreaterThanOrEqual(2);
    const install = steps.find((s) => s.op === 'RUN' && /\bnpm ci\b/.test(s.args) && s.args.includes('--omit=dev'));
    expect(install?.args).toContain('--workspace=storefront');
    expect(steps.filter((s) => s.op === 'USER').at(-1)?.args).toBe('node');
    expect(steps.filter((s) => s.op === 'EXPOSE').map((s) => s.args)).toEqual([containerPort]);
    for (const copy of steps.filter((s) => s.op === 'COPY' && !s.args.includes('--from='))) {
      for (const source of copy.args.split(/\s+/).slice(0, -1)) expect(exists(source), `COPY ${source}`).toBe(true);
    }
  });
});

// ---- Kubernetes -------------------------------------------------------------------------------------------

const K8S = 'deploy/k8s/base';

describe('Kubernetes kustomize base', () => {
  const kustomization = parse(read(`${K8S}/kustomization.yaml`)) as Doc;
  const resources = (kustomization.resources as string[]).map((r) => path.posix.join(K8S, r));
  const manifests = resources.filter(exists).flatMap((file) =>
    parseAllDocuments(read(file))
      .map((d) => d.toJS() as Doc | null)
      .filter((d): d is Doc => d !== null),
  );
  const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata?.name === name);

  it('lists only resources that exist', () => {
    for (const resource of resources) expect(exists(resource), resource).toBe(true);
  });

  for (const target of APPS) {
    describe(target.name, () => {
      const deployment = find('Deployment', target.name);
      const pod = deployment?.spec?.template as Doc | undefined;
      const container = (pod?.spec?.containers as Doc[] | undefined)?.[0];
      const env = Object.fromEntries(((container?.env ?? []) as Doc[]).map((e) => [e.name as string, e]));
      const values = Object.fromEntries(Object.entries(env).map(([k, e]) => [k, String(e.value ?? '')]));
      /** A probe or Service port, given as a number or as the container port's name. */
      const containerPort = (port: unknown): number | undefined =>
        typeof port === 'number' ? port : (container?.ports as Doc[]).find((p) => p.name === port)?.containerPort;
      const port = listenPort(target, values);
      const ops = opsPort(target, values);

      it('has a Deployment whose probes are /ready and /health on the ops port, scraped there too', () => {
        expect(deployment, `Deployment ${target.name}`).toBeDefined();
        expect((container!.ports as Doc[]).map((p) => p.containerPort)).toEqual(expect.arrayContaining([port, ops]));
        expect(container!.readinessProbe.httpGet.path).toBe('/ready');
        expect(containerPort(container!.readinessProbe.httpGet.port)).toBe(ops);
        expect(container!.livenessProbe.httpGet.path).toBe('/health');
        expect(containerPort(container!.livenessProbe.httpGet.port)).toBe(ops);
        expect(containerPort(container!.startupProbe.httpGet.port)).toBe(ops);
        expect(pod!.metadata.annotations['prometheus.io/port']).toBe(String(ops));
        expect(container!.resources?.requests?.cpu, 'a CPU request, which the HPA scales on').toBeDefined();
        expect(container!.resources?.limits?.memory).toBeDefined();
        expect(container!.securityContext?.runAsNonRoot ?? pod!.spec.securityContext?.runAsNonRoot).toBe(true);
        const selector = deployment!.spec.selector.matchLabels as Record<string, string>;
        expect(pod!.metadata.labels).toMatchObject(selector);
      });

      it('has a Service that selects its pods and serves only the GraphQL port', () => {
        const service = find('Service', target.name);
        expect(service, `Service ${target.name}`).toBeDefined();
        expect(pod!.metadata.labels).toMatchObject(service!.spec.selector);
        const ports = (service!.spec.ports as Doc[]).map((p) => containerPort(p.targetPort ?? p.port));
        expect(ports).toEqual([port]);
      });

      it('has a HorizontalPodAutoscaler on its Deployment', () => {
        const hpa = manifests.find((m) => m.kind === 'HorizontalPodAutoscaler' && m.spec?.scaleTargetRef?.name === target.name);
        expect(hpa, `HorizontalPodAutoscaler for ${target.name}`).toBeDefined();
        expect(hpa!.apiVersion).toBe('autoscaling/v2');
        expect(hpa!.spec.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
        expect(hpa!.spec.minReplicas).toBeLessThanOrEqual(hpa!.spec.maxReplicas);
        expect(deployment!.spec.replicas, 'replicas left to the HPA').toBeUndefined();
      });

      it('is given only env vars its code reads, every one it needs, secrets from keys the Secret has', () => {
        expect(unreadEnv(target, Object.keys(env)), 'env vars the code never reads').toEqual([]);
        expect(
          requiredEnv(target).filter((name) => !env[name]),
          'missing env vars',
        ).toEqual([]);
        expect(values.NODE_ENV).toBe('production');
        for (const [name, entry] of Object.entries(env)) {
          const ref = entry.valueFrom?.secretKeyRef as Doc | undefined;
          if (!ref) continue;
          const secret = find('Secret', ref.name);
          expect(secret, `${name}: Secret ${ref.name}`).toBeDefined();
          expect(Object.keys({ ...secret!.data, ...secret!.stringData }), `${name}: key in Secret ${ref.name}`).toContain(ref.key);
        }
        const secrets: string[] = [];
        for (const name of [
          'JWT_SECRET',
          'ROUTER_SECRET',
          'ADMIN_PASSWORD',
          'REDIS_URL',
          ...target.databases.map((d) => `${d.toUpperCase()}_DATABASE_URL`),
        ]) {
          if (!env[name]) continue;
          expect(env[name].valueFrom?.secretKeyRef, `${name} comes from a Secret`).toBeDefined();
          secrets.push(name);
        }
        // The Secret's placeholders are refused: a pod started with them stops at once, naming each one.
        const withPlaceholders = { ...values };
        for (const name of secrets) {
          const ref = env[name]!.valueFrom.secretKeyRef as Doc;
          const secret = find('Secret', ref.name)!;
          withPlaceholders[name] = String({ ...secret.data, ...secret.stringData }[ref.key]);
        }
        const verdict = acceptsInProduction(target, withPlaceholders);
        for (const name of secrets) expect(verdict, `${target.name} refuses the placeholder ${name}`).toContain(name);
        for (const name of target.serviceUrls) {
          const callee = name.replace(/_URL$/, '').toLowerCase();
          const service = find('Service', callee);
          expect(service, `${name}: Service ${callee}`).toBeDefined();
          expect((service!.spec.ports as Doc[]).map((p) => `${callee}:${p.port}`)).toContain(hostPort(values[name]!));
        }
      });
    });
  }
});

// ---- the client's address and the shared rate limits -------------------------------------------------------

describe('who names the client, and where the replicas share state', () => {
  const k8sEnv = (name: string) => {
    const deployment = parseAllDocuments(read(`${K8S}/${name}.yaml`))
      .map((d) => d.toJS() as Doc)
      .find((d) => d?.kind === 'Deployment')!;
    const env = deployment.spec.template.spec.containers[0].env as Doc[];
    return Object.fromEntries(env.map((e) => [e.name as string, e]));
  };

  it('compose: clients reach the router directly, so it believes no X-Forwarded-For unless the operator names a proxy', () => {
    const router = services.router!;
    expect(router.ports.map(String)).toContain('4000:4000');
    expect(composeEnv(router).TRUST_PROXY).toBe('');
    expect(trustProxySetting(composeEnv(router).TRUST_PROXY || undefined)).toBe(false);
  });

  it('k8s: the router trusts X-Forwarded-For only from the ingress in the pod network, never from everyone', () => {
    const value = String(k8sEnv('router').TRUST_PROXY?.value ?? '');
    const trusted = trustProxySetting(value);
    expect(Array.isArray(trusted), `TRUST_PROXY=${value} is a list of networks`).toBe(true);
    for (const network of trusted as string[]) expect(network).toMatch(/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.)[\d.]+\/\d+$/);
  });

  it('both: every users replica counts in one Redis', () => {
    expect(composeEnv(services.users!).REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
    expect(dependsOn(services.users!).redis).toBe('service_healthy');
    expect(k8sEnv('users').REDIS_URL?.valueFrom?.secretKeyRef).toMatchObject({ name: 'shop-secrets', key: 'REDIS_URL' });
  });

  it('k8s: the router replicas share one entity cache in that Redis (compose runs one router, which caches alone)', () => {
    expect(k8sEnv('router').REDIS_URL?.valueFrom?.secretKeyRef).toMatchObject({ name: 'shop-secrets', key: 'REDIS_URL' });
    expect(composeEnv(services.router!).REDIS_URL).toBeUndefined();
  });
});
