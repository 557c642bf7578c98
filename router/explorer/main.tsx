import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';
import './explorer.css';

/**
 * The router's explorer: GraphiQL with its docs explorer and history, bundled from npm at build time
 * (scripts/build-explorer.ts), so it works with no network beyond the router. Queries and mutations go over
 * HTTP, subscriptions over graphql-ws, both to this page's own /graphql.
 */
const url = new URL('/graphql', window.location.href);
const socketUrl = new URL(url);
socketUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: socketUrl.href });

const sandbox = document.querySelector<HTMLAnchorElement>('#sandbox');
if (sandbox) sandbox.href = `https://studio.apollographql.com/sandbox/explorer?endpoint=${encodeURIComponent(url.href)}`;

const defaultQuery = `# The shop's supergraph. Open the docs (the book icon) to browse the schema.
# Signed-in operations need a header: {"authorization": "Bearer <token from login>"}

query Catalogue {
  products(first: 5) {
    edges {
      node {
        id
        name
        price {
          amount
          currency
        }
        inStock
      }
    }
  }
}
`;

createRoot(document.getElementById('explorer')!).render(<GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />);
