import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Pinned, so that two runs compare against the same peer. 2.15.1 declares `node >= 20` and runs on Node 20.
 * It is installed into bench/.peers (git-ignored), never into the shop's package.json or lock file: `npm start`
 * and `npm test` must not pay for the bench's peers.
 */
export const HIVE_GATEWAY_VERSION = '2.15.1';
/**
 * Hive's Rust query planner and executor for the gateway above (`--hive-router-runtime`). Its planner is a
 * native addon shipped prebuilt inside the npm package (linux x64/arm64 gnu, darwin); it declares node >= 20.
 */
export const HIVE_ROUTER_RUNTIME_VERSION = '1.4.23';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
export const PEERS_DIR = `${BENCH}.peers`;

function installedVersion(name: string): string | undefined {
  const file = `${PEERS_DIR}/node_modules/${name}/package.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
}

/** Installs the peers' own dependencies into bench/.peers unless the pinned versions are there already. */
export function ensurePeersInstalled(): { hiveGateway: string; hiveRouterRuntime: string } {
  if (
    installedVersion('@graphql-hive/gateway') !== HIVE_GATEWAY_VERSION ||
    installedVersion('@graphql-hive/router-runtime') !== HIVE_ROUTER_RUNTIME_VERSION
  ) {
    console.log(
      `Installing @graphql-hive/gateway@${HIVE_GATEWAY_VERSION} and @graphql-hive/router-runtime@${HIVE_ROUTER_RUNTIME_VERSION} into bench/.peers (first run only, about a minute)...`,
    );
    const result = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        PEERS_DIR,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `@graphql-hive/gateway@${HIVE_GATEWAY_VERSION}`,
        `@graphql-hive/router-runtime@${HIVE_ROUTER_RUNTIME_VERSION}`,
      ],
      { stdio: 'inherit' },
    );
    if (result.status !== 0) throw new Error(`npm install of the bench peers failed (exit ${result.status})`);
  }
  return { hiveGateway: installedVersion('@graphql-hive/gateway')!, hiveRouterRuntime: installedVersion('@graphql-hive/router-runtime')! };
}

/** A peer gateway (bench/peers/<name>.ts) as a process of its own, like our router. */
export class PeerProcess {
  child?: ChildProcess;
  output = '';

  constructor(
    readonly name: 'apollo' | 'hive' | 'hiveRust',
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the peer and resolves once it answers `{ __typename }`. */
  async start(timeoutMs = 120_000): Promise<void> {
    // As scripts/stack.ts starts our services: tsx's ESM hooks only, so that no gateway pays its require() hook.
    // hiveRust is the Hive peer with its Rust planner switched on.
    const script = this.name === 'hiveRust' ? 'hive' : this.name;
    const child = spawn(process.execPath, ['--import', 'tsx/esm', `${BENCH}peers/${script}.ts`], {
      cwd: BENCH,
      env: { ...process.env, ...this.env, PORT: String(this.port), ...(this.name === 'hiveRust' && { HIVE_ROUTER_RUNTIME: '1' }) },
      // The IPC channel lets the peer notice when the bench dies and stop too.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`peer ${this.name} exited with ${code} before it was ready:\n${this.output}`))),
    );
    const deadline = Date.now() + timeoutMs;
    const ready = (async () => {
      while (Date.now() < deadline) {
        const ok = await fetch(`${this.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __typename }' }),
        }).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`peer ${this.name} was not ready within ${timeoutMs} ms:\n${this.output}`);
    })();
    await Promise.race([ready, exited]);
    child.removeAllListeners('exit');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
