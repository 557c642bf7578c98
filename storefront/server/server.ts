import { readFile } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import compress from '@fastify/compress';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyServerOptions } from 'fastify';

export interface StorefrontServerOptions {
  /** The Vite build: index.html and the hashed files under assets/. */
  distDir: string;
  /** The router's GraphQL URL as browsers reach it. */
  routerUrl: string;
  logger?: FastifyServerOptions['logger'];
}

const ROUTER_URL_TAG = /<meta name="router-url" content="[^"]*" \/>/;

/**
 * Serves the built storefront: hashed assets cached for good, index.html revalidated on every visit and given the
 * router's URL, and index.html again for every other page path so that client-side routes survive a reload.
 */
export async function buildStorefrontServer({ distDir, routerUrl, logger = false }: StorefrontServerOptions) {
  const template = await readFile(join(distDir, 'index.html'), 'utf8');
  if (!ROUTER_URL_TAG.test(template)) throw new Error(`${distDir}/index.html has no router-url meta tag: is it a storefront build?`);
  const page = template.replace(ROUTER_URL_TAG, `<meta name="router-url" content="${escapeAttribute(routerUrl)}" />`);
  const router = new URL(routerUrl);
  const assetsDir = join(distDir, 'assets') + sep;

  const app = Fastify({ logger });
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // The page talks to the router only: over HTTP, and over WebSocket for subscriptions.
        connectSrc: ["'self'", router.origin, `${router.protocol === 'https:' ? 'wss:' : 'ws:'}//${router.host}`],
        // Plain-HTTP deployments (npm start, docker-compose) must not have their router requests rewritten to https.
        upgradeInsecureRequests: null,
      },
    },
  });
  await app.register(compress);
  await app.register(fastifyStatic, {
    root: distDir,
    // Files are found once at start (the build does not change under a running server); no directory listings.
    wildcard: false,
    index: false,
    list: false,
    // index.html only ever goes out with the router's URL in it.
    allowedPath: (path) => path !== '/index.html',
    setHeaders(reply, path) {
      // Vite names every file under assets/ by its content hash, so a name never changes meaning.
      reply.header('cache-control', path.startsWith(assetsDir) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  app.get('/health', async () => ({ status: 'ok' }));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // A page path (no file extension) is a client-side route; a missing file stays a 404, never a page of HTML.
    const pagePath = path === '/index.html' || (!extname(path) && !/^\/assets(\/|$)/.test(path));
    if ((request.method === 'GET' || request.method === 'HEAD') && pagePath) {
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page);
    }
    return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
  });
  return app;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
