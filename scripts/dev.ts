import { watch } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_FILE, subgraphSdlFile } from '../schema/subgraphs.js';
import { SERVICE_NAMES, SERVICES, SUBGRAPH_NAMES, portVariable, type ServiceName } from '@shop/service/services';
import { buildExplorer } from './build-explorer.js';
import { startStack } from './stack.js';

/**
 * `npm run dev`: `npm start`, and when a subgraph's schema.graphql changes, that subgraph restarts and the
 * supergraph is recomposed into schema/supergraph.graphql, which the running router picks up by itself.
 * A change that does not compose is reported and the router keeps the last good supergraph.
 */
const portsOf = (kind: 'port' | 'opsPort') =>
  Object.fromEntries(SERVICE_NAMES.map((name) => [name, Number(process.env[portVariable(name, kind)] ?? SERVICES[name][kind])])) as Record<
    ServiceName,
    number
  >;
const ports = portsOf('port');
await buildExplorer();
const stack = await startStack(
  {
    SEED_DEMO: process.env.SEED_DEMO ?? 'true',
    ADMIN_EMAIL: process.env.ADMIN_EMAIL ?? 'admin@shop.test',
    ADMIN_PASSWORD: process.env.ADMIN_PASSWORD ?? 'admin-password',
  },
  ports,
  true,
  portsOf('opsPort'),
);
console.log(`\nDev mode: router at http://localhost:${ports.router}/graphql; editing a subgraph's schema.graphql recomposes.\n`);

const pending = new Map<ServiceName, NodeJS.Timeout>();
for (const name of SUBGRAPH_NAMES) {
  watch(subgraphSdlFile(name), () => {
    clearTimeout(pending.get(name));
    pending.set(
      name,
      setTimeout(() => void recompose(name), 200),
    );
  });
}

async function recompose(name: ServiceName) {
  const result = composeSupergraph();
  if (result.errors) {
    console.error(`\n${name}/schema.graphql does not compose; the router keeps the last good supergraph:`);
    for (const message of result.errors) console.error(`  - ${message}`);
    return;
  }
  console.log(`\n${name}/schema.graphql changed: restarting ${name}, then recomposing.`);
  await stack[name].stop('SIGTERM');
  await stack[name].start();
  writeFileSync(SUPERGRAPH_FILE, result.supergraphSdl);
  console.log('schema/supergraph.graphql recomposed.');
}

const stopAll = async () => {
  await Promise.all(Object.values(stack).map((service) => service.stop('SIGTERM')));
  process.exit(0);
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
