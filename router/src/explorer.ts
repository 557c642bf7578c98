import { existsSync, readFileSync } from 'node:fs';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The router's landing page: an explorer that works offline. Apollo's own landing page loads from its CDN and is
 * blank without the internet; this one is GraphiQL (with its docs explorer, and subscriptions over graphql-ws at the
 * same /graphql), bundled from npm at build time by scripts/build-explorer.ts into router/explorer/dist/ and served
 * by the router: the page at GET /graphql (a browser, Accept text/html) and its files under /explorer/. A link
 * opens Apollo Sandbox for those online; Sandbox calls /graphql from its origin as before.
 */
export const EXPLORER_DIR = new URL('../explorer/dist/', import.meta.url).pathname;
const ASSETS = '/explorer/';

const SANDBOX = 'https://studio.apollographql.com/sandbox/explorer';

/** The page: GraphiQL fills #explorer; the bar above it names the endpoint and links to Sandbox. */
export const EXPLORER_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Shop GraphQL explorer</title>
    <!-- No favicon request: the router serves nothing at /favicon.ico. -->
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${ASSETS}explorer.css" />
  </head>
  <body>
    <header class="router-bar">
      <strong>Shop supergraph</strong>
      <span>GraphiQL, served by the router: works offline</span>
      <a id="sandbox" href="${SANDBOX}" target="_blank" rel="noopener">Open in Apollo Sandbox (online)</a>
    </header>
    <main id="explorer"></main>
    <script type="module" src="${ASSETS}explorer.js"></script>
  </body>
</html>
`;

/** Shown instead when the explorer was never built (a router started straight from its sources). */
const NOT_BUILT = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Shop supergraph</title></head>
  <body style="font-family: system-ui, sans-serif; margin: 2rem">
    <h1>Shop supergraph</h1>
    <p>This is the GraphQL endpoint. Its explorer is not built here: run <code>npm run build</code> (or <code>npm start</code>).</p>
    <p><a href="${SANDBOX}">Open Apollo Sandbox</a> (online).</p>
  </body>
</html>
`;

/** Whether the bundle is there. */
export const explorerBuilt = (dir = EXPLORER_DIR) => existsSync(`${dir}index.html`) && existsSync(`${dir}explorer.js`);

/** Apollo Server's landing-page hook, answering with the explorer's page. */
export function explorerLandingPage<TContext extends BaseContext>(dir = EXPLORER_DIR): ApolloServerPlugin<TContext> {
  return {
    async serverWillStart() {
      const html = explorerBuilt(dir) ? readFileSync(`${dir}index.html`, 'utf8') : NOT_BUILT;
      return {
        async renderLandingPage() {
          return { html };
        },
      };
    },
  };
}

/** Serves the explorer's bundle under /explorer/ (nothing when it was not built). */
export async function serveExplorerAssets(app: FastifyInstance, dir = EXPLORER_DIR): Promise<void> {
  if (!explorerBuilt(dir)) return;
  await app.register(fastifyStatic, { root: dir, prefix: ASSETS, index: false, wildcard: false, decorateReply: false });
}
