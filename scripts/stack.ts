import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SERVICE_NAMES, SERVICES, SUBGRAPH_NAMES, portVariable, type ServiceName } from '@shop/service/services';

export { SERVICE_NAMES, SERVICES, type ServiceName };

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One service as a child process of its own, as it runs in production. */
export class ServiceProcess {
  child?: ChildProcess;
  output = '';

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly echo = false,
    /** The package directory to run; another checkout of the same service, for example. */
    readonly directory = `${ROOT}/${SERVICES[name].dir}`,
    /** Where /health, /ready and /metrics listen: a free port, chosen at the first start, unless given. */
    private opsPortChoice?: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get opsPort(): number {
    if (this.opsPortChoice === undefined) throw new Error(`${this.name} has no ops port until it starts`);
    return this.opsPortChoice;
  }

  /** /health, /ready and /metrics. */
  get opsUrl(): string {
    return `http://127.0.0.1:${this.opsPort}`;
  }

  /**
   * Starts the process and resolves once it is ready (GET /ready says 200). Refuses to start when something
   * already answers on one of its ports, and counts as ready only when /health answers with its own pid, so an
   * old process left on the port is never taken for this one.
   */
  async start(timeoutMs = 120_000): Promise<void> {
    this.opsPortChoice ??= await freePort();
    for (const [port, variable] of [
      [this.port, portVariable(this.name)],
      [this.opsPort, portVariable(this.name, 'opsPort')],
    ] as const) {
      if (await listening(port)) {
        throw new Error(`Port ${port} (${variable} of ${this.name}) is already in use by another process: stop it, or set ${variable}.`);
      }
    }
    this.output = '';
    // tsx's ESM hooks only: our sources are ES modules, and its CommonJS hook would run on every require() a
    // dependency makes at run time (Apollo's createHash requires 'crypto' on each call), which compiled code,
    // as the images run, does not pay.
    const child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/index.ts'], {
      cwd: this.directory,
      env: {
        ...process.env,
        ...this.env,
        [portVariable(this.name)]: String(this.port),
        [portVariable(this.name, 'opsPort')]: String(this.opsPort),
        INIT_CWD: ROOT,
      },
      // The IPC channel lets the service notice when this process dies and stop too (see @shop/service's listen).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
      if (this.echo) process.stdout.write(chunk);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`${this.name} exited with ${code} before it was ready:\n${this.output}`))),
    );
    const deadline = Date.now() + timeoutMs;
    const ready = (async () => {
      while (Date.now() < deadline) {
        if (await this.answersAsItself()) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.output}`);
    })();
    await Promise.race([ready, exited]);
    child.removeAllListeners('exit');
  }

  private async answersAsItself(): Promise<boolean> {
    const json = (path: string) =>
      fetch(`${this.opsUrl}${path}`).then(
        async (response) => ({ ok: response.ok, body: (await response.json()) as { pid?: number } }),
        () => ({ ok: false, body: {} as { pid?: number } }),
      );
    const health = await json('/health');
    if (!health.ok || health.body.pid !== this.child?.pid) return false;
    return (await json('/ready')).ok;
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exit;
  }
}

/**
 * Starts the three subgraphs, then the router, with the given environment and ports; ops ports are free ones
 * unless given.
 */
export async function startStack(
  env: NodeJS.ProcessEnv,
  ports: Record<ServiceName, number>,
  echo = false,
  opsPorts?: Record<ServiceName, number>,
) {
  const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [`${name.toUpperCase()}_URL`, `http://127.0.0.1:${ports[name]}/graphql`]));
  const services = Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, new ServiceProcess(name, ports[name], { ...urls, ...env }, echo, undefined, opsPorts?.[name])]),
  ) as Record<ServiceName, ServiceProcess>;
  // The dev key under DATA_DIR is created by whichever service comes first; subgraphs start together. If one
  // cannot start, the others are stopped: a failed start leaves no process behind.
  const stopAll = () => Promise.all(SERVICE_NAMES.map((name) => services[name].stop('SIGTERM')));
  const subgraphs = await Promise.allSettled(SUBGRAPH_NAMES.map((name) => services[name].start()));
  const failed = subgraphs.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  await services.router.start().catch(async (error: unknown) => {
    await stopAll();
    throw error;
  });
  return services;
}

/** Whether something accepts connections on a local port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A port nothing listens on now, so that stacks started side by side never collide. */
/**
 * A port no one listens on, from below the kernel's ephemeral range (32768 and up on Linux): a port picked there
 * could be taken by an outgoing connection (to PostgreSQL, NATS, another service) before the service listens.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** One free port per service. */
export async function freePorts(): Promise<Record<ServiceName, number>> {
  const ports: Partial<Record<ServiceName, number>> = {};
  for (const name of SERVICE_NAMES) ports[name] = await freePort();
  return ports as Record<ServiceName, number>;
}

/** A metric in Prometheus text (a service's /metrics), summed over the series whose labels match `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
