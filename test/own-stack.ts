import { freePorts, startStack, type ServiceName, type ServiceProcess } from '../scripts/stack.js';
import { contractOperation, post } from './client.js';
import { TEST_ADMIN } from './fixtures.js';
import { freshStorage } from './storage.js';

/**
 * A stack of a test file's own: the three subgraphs and the router on fresh storage, with settings the shared
 * stack does not have (NATS, short timers, a router secret). Registering is not rate-limited; `admin` is a
 * logged-in ADMIN; `stop` ends the processes and removes the storage.
 */
export async function startOwnStack(label: string, settings: Record<string, string>) {
  const storage = await freshStorage(label);
  const env: Record<string, string> = {
    ...storage.env,
    LOG_LEVEL: 'warn',
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    RATE_LIMIT_REGISTER_PER_IP: '100000',
    ...settings,
  };
  const stack: Record<ServiceName, ServiceProcess> = await startStack(env, await freePorts());
  const stop = async () => {
    await Promise.all(Object.values(stack).map((service) => service.stop('SIGTERM')));
    await storage.remove();
  };
  const routerUrl = `${stack.router.url}/graphql`;
  const login = await post(
    { query: contractOperation('Login'), operationName: 'Login', variables: { input: TEST_ADMIN } },
    undefined,
    routerUrl,
  );
  return { stack, env, routerUrl, admin: login.data.login.token as string, stop };
}
