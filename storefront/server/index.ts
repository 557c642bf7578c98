import { fileURLToPath } from 'node:url';
import { buildStorefrontServer } from './server.js';

/** `npm start -w storefront` and the storefront image: serves storefront/dist (`npm run build -w storefront`). */
function config() {
  const port = Number(process.env.STOREFRONT_PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('STOREFRONT_PORT must be a port number');
  const routerUrl = process.env.PUBLIC_ROUTER_URL ?? 'http://localhost:4000/graphql';
  if (!URL.canParse(routerUrl) || !/^https?:$/.test(new URL(routerUrl).protocol)) {
    fail('PUBLIC_ROUTER_URL must be the http(s) URL at which browsers reach the router, for example http://localhost:4000/graphql');
  }
  return { port, routerUrl, host: process.env.HOST ?? '0.0.0.0' };
}

function fail(message: string): never {
  console.error(`storefront: ${message}`);
  process.exit(1);
}

const { port, routerUrl, host } = config();
const app = await buildStorefrontServer({
  distDir: fileURLToPath(new URL('../dist', import.meta.url)),
  routerUrl,
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
});
await app.listen({ port, host });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down');
    void app.close().then(() => process.exit(0));
  });
}
