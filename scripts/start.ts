import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildStorefrontServer } from '../storefront/server/server.js';
import { DEMO_CUSTOMER } from '../subgraphs/users/src/seed.js';
import { SERVICE_NAMES, SERVICES, portVariable, type ServiceName } from '@shop/service/services';
import { buildExplorer } from './build-explorer.js';
import { seedDemoOrders } from './demo-orders.js';
import { listening, startStack } from './stack.js';

/**
 * `npm start`: the whole shop as four processes on the embedded database (or PostgreSQL where
 * `<NAME>_DATABASE_URL` is set), with a demo catalogue, a demo customer with a few orders and a demo admin, and the
 * storefront.
 */
const storefrontPort = Number(process.env.STOREFRONT_PORT ?? 3000);
const env = {
  // The storefront's page calls the router from its own origin, by either name of this machine.
  CORS_ORIGINS: process.env.CORS_ORIGINS ?? `http://localhost:${storefrontPort},http://127.0.0.1:${storefrontPort}`,
  SEED_DEMO: process.env.SEED_DEMO ?? 'true',
  ADMIN_EMAIL: process.env.ADMIN_EMAIL ?? 'admin@shop.test',
  ADMIN_PASSWORD: process.env.ADMIN_PASSWORD ?? 'admin-password',
  APOLLO_TELEMETRY_DISABLED: '1',
};
const portsOf = (kind: 'port' | 'opsPort') =>
  Object.fromEntries(SERVICE_NAMES.map((name) => [name, Number(process.env[portVariable(name, kind)] ?? SERVICES[name][kind])])) as Record<
    ServiceName,
    number
  >;
const ports = portsOf('port');

// Like the services' ports: a stranger on the storefront's port stops the start, before anything is built.
if (await listening(storefrontPort)) {
  console.error(
    `Port ${storefrontPort} (STOREFRONT_PORT of the storefront) is already in use by another process: stop it, or set STOREFRONT_PORT.`,
  );
  process.exit(1);
}

console.log('Building the storefront...');
execFileSync('npm', ['run', 'build', '-w', 'storefront'], { stdio: 'inherit' });
console.log("Building the router's explorer...");
await buildExplorer();

console.log('Starting users, products, orders and the router (the first start creates the databases)...');
const stack = await startStack(env, ports, true, portsOf('opsPort')).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
const storefront = await buildStorefrontServer({
  distDir: fileURLToPath(new URL('../storefront/dist', import.meta.url)),
  routerUrl: `http://localhost:${ports.router}/graphql`,
});
await storefront.listen({ port: storefrontPort, host: process.env.HOST ?? '0.0.0.0' }).catch(async (error: NodeJS.ErrnoException) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `Port ${storefrontPort} (STOREFRONT_PORT of the storefront) is already in use by another process: stop it, or set STOREFRONT_PORT.`
      : `The storefront did not start: ${error.message}`,
  );
  await Promise.all(Object.values(stack).map((service) => service.stop('SIGTERM')));
  process.exit(1);
});

if (env.SEED_DEMO === 'true') {
  await seedDemoOrders(`${stack.router.url}/graphql`, { email: DEMO_CUSTOMER.email, password: DEMO_CUSTOMER.password }).catch(
    (error: Error) => console.error(`Demo orders not placed: ${error.message}`),
  );
}

console.log(`
The shop is up. Open http://localhost:${storefrontPort} for the storefront, and
http://localhost:${ports.router}/graphql for the API explorer (GraphiQL, offline; it links to Apollo Sandbox).

  customer: ${DEMO_CUSTOMER.email} / ${DEMO_CUSTOMER.password}
  admin:    ${env.ADMIN_EMAIL} / ${env.ADMIN_PASSWORD}

Press Ctrl-C to stop.
`);

let stopping = false;
const stopAll = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping...');
  await Promise.all([storefront.close(), ...Object.values(stack).map((service) => service.stop('SIGTERM'))]);
  process.exit(0);
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
for (const service of Object.values(stack)) {
  service.child?.once('exit', (code) => {
    if (stopping) return;
    console.error(`${service.name} exited with ${code}; stopping the others.`);
    void stopAll();
  });
}
