/**
 * Peers 2 and 3: Hive Gateway, through its programmatic runtime (`createGatewayRuntime`) served by node:http, as its
 * Node.js deployment guide shows, with the supergraph file and the same header forwarding as our router.
 * @graphql-hive/gateway is no dependency of the shop: the bench installs it into bench/.peers on first use
 * (see peers/index.ts), and it is loaded from there by path.
 *   PORT, SUPERGRAPH_FILE (the supergraph with this run's subgraph URLs), ROUTER_SECRET (optional),
 *   HIVE_ROUTER_RUNTIME=1: Hive's Rust query planner and executor (@graphql-hive/router-runtime), exactly what
 *   `hive-gateway supergraph <file> --hive-router-runtime` sets up: its `unifiedGraphHandler` in the config.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const peersDir = fileURLToPath(new URL('../.peers/', import.meta.url));
const require = createRequire(`${peersDir}noop.js`);
// Typed by hand: the package's own types live outside the shop's install, where tsc does not look.
interface HiveGatewayRuntime {
  (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse): void;
  graphqlEndpoint: string;
  dispose(): Promise<void>;
}
const { createGatewayRuntime } = require('@graphql-hive/gateway') as {
  createGatewayRuntime(config: {
    supergraph: string;
    unifiedGraphHandler?: unknown;
    logging?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | boolean;
    propagateHeaders?: {
      fromClientToSubgraphs?: (payload: { request: Request; subgraphName: string }) => Record<string, string | null | undefined>;
    };
  }): HiveGatewayRuntime;
};

const routerSecret = process.env.ROUTER_SECRET;
const rustPlanner = process.env.HIVE_ROUTER_RUNTIME === '1';
// The CLI imports the package by name; here it is loaded from bench/.peers as the gateway is.
const unifiedGraphHandler = rustPlanner
  ? ((await import(require.resolve('@graphql-hive/router-runtime'))) as { unifiedGraphHandler: unknown }).unifiedGraphHandler
  : undefined;

const gateway = createGatewayRuntime({
  supergraph: process.env.SUPERGRAPH_FILE!,
  ...(unifiedGraphHandler !== undefined && { unifiedGraphHandler }),
  // Our router and the stock gateway run with LOG_LEVEL=warn; so does this one.
  logging: 'warn',
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({
      authorization: request.headers.get('authorization'),
      ...(routerSecret && { 'x-router-secret': routerSecret }),
    }),
  },
});

const server = createServer(gateway);
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log(
    `Hive Gateway${rustPlanner ? ' (Rust query planner)' : ''} ready at http://127.0.0.1:${process.env.PORT}${gateway.graphqlEndpoint}`,
  );
});

// Started over IPC by the bench: when it goes away, so do we.
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => {
  server.close();
  void gateway.dispose().finally(() => process.exit(0));
});
