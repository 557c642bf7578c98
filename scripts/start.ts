import { DEMO_CUSTOMER } from '../subgraphs/users/src/seed.js';
import { SERVICE_NAMES, SERVICES, portVariable, type ServiceName } from '@shop/service/services';
import { seedDemoOrders } from './demo-orders.js';
import { startStack } from './stack.js';

/**
 * `npm start`: the whole shop as four processes on the embedded database (or PostgreSQL where
 * `<NAME>_DATABASE_URL` is set), with a demo catalogue, a demo customer with a few orders, and a demo admin.
 */
const env = {
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

console.log('Starting users, products, orders and the router (the first start creates the databases)...');
const stack = await startStack(env, ports, true, portsOf('opsPort')).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});

if (env.SEED_DEMO === 'true') {
  await seedDemoOrders(`${stack.router.url}/graphql`, { email: DEMO_CUSTOMER.email, password: DEMO_CUSTOMER.password }).catch(
    (error: Error) => console.error(`Demo orders not placed: ${error.message}`),
  );
}

console.log(`
The shop is up. Open http://localhost:${ports.router}/graphql in a browser for Apollo Sandbox.

  customer: ${DEMO_CUSTOMER.email} / ${DEMO_CUSTOMER.password}
  admin:    ${env.ADMIN_EMAIL} / ${env.ADMIN_PASSWORD}

Press Ctrl-C to stop.
`);

let stopping = false;
const stopAll = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping...');
  await Promise.all(Object.values(stack).map((service) => service.stop('SIGTERM')));
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
