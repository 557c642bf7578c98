import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  type DocumentNode,
  type StoreObject,
} from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation, relayStylePagination } from '@apollo/client/utilities';
import type { Client } from 'graphql-ws';
import { ROUTER_URL } from './config';
import { session } from './session/session';

/** Sends the signed-in shopper's token with every operation. */
const authorization = new SetContextLink(({ headers }) => {
  const { token } = session.get();
  return token ? { headers: { ...headers, authorization: `Bearer ${token}` } } : {};
});

/** A token the router no longer accepts (expired, or signed with a rotated key) ends the session. */
const endRefusedSession = new ErrorLink(({ error }) => {
  const refused = CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
  if (refused && session.get().token) session.set({ ended: true });
});

/**
 * Each operation's id in the persisted-query manifest (trusted documents), found by its name. @apollo/persisted-query-lists
 * does the same, but it ships as CommonJS and so brings all of graphql-js into the bundle.
 */
async function manifestId(document: DocumentNode): Promise<string> {
  const name = document.definitions.find((definition) => definition.kind === 'OperationDefinition')?.name?.value;
  return manifestIdByName(name);
}

async function manifestIdByName(name: string | undefined): Promise<string> {
  const { operations } = await import('../../schema/persisted-query-manifest.json');
  const id = operations.find((operation) => operation.name === name)?.id;
  if (!id) throw new Error(`The operation ${name} is not in the persisted-query manifest: run npm run codegen -w storefront`);
  return id;
}

/**
 * Sends each operation as its manifest id, never as text. A router that does not know the id yet answers
 * PERSISTED_QUERY_NOT_FOUND and the link sends the document once with it: the id is the sha256 of exactly the text
 * Apollo Client sends, so it doubles as an automatic persisted query.
 */
const persistedQueries = new PersistedQueryLink({ generateHash: manifestId });

/**
 * Subscriptions (StockUpdates, OrderUpdates) go over graphql-ws to the router's same /graphql URL, opened when the
 * first one starts. The token travels in connection_init; signing in or out reconnects with the new one. Each
 * subscribe carries the manifest id and an empty query (graphql-ws wants a string), so no document text goes
 * out here either.
 */
let socket: Promise<Client> | undefined;
/** The graphql-ws client, loaded (a chunk of its own) and made when the first subscription starts. */
function openSocket(): Promise<Client> {
  socket ??= import('graphql-ws').then(({ createClient }) => {
    const client = createClient({
      url: () => {
        const url = new URL(ROUTER_URL, window.location.href);
        url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
        return url.href;
      },
      connectionParams: () => {
        const { token } = session.get();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      retryAttempts: Infinity,
    });
    // Signing in or out reconnects, so connection_init carries the new token.
    let token = session.get().token;
    session.subscribe(() => {
      if (session.get().token === token) return;
      token = session.get().token;
      client.terminate();
    });
    return client;
  });
  return socket;
}

const byManifestId: Pick<Client, 'subscribe'> = {
  subscribe(payload, sink) {
    let dispose: () => void = () => (cancelled = true);
    let cancelled = false;
    Promise.all([manifestIdByName(payload.operationName ?? undefined), openSocket()]).then(
      ([id, socket]) => {
        if (cancelled) return;
        const { operationName, variables } = payload;
        dispose = socket.subscribe(
          { operationName, variables, query: '', extensions: { persistedQuery: { version: 1, sha256Hash: id } } },
          sink,
        );
      },
      (error: Error) => sink.error(error),
    );
    return () => dispose();
  },
};

const http = ApolloLink.from([persistedQueries, new HttpLink({ uri: ROUTER_URL })]);
const subscriptions = new GraphQLWsLink(byManifestId as Client);

export const client = new ApolloClient({
  link: ApolloLink.from([
    endRefusedSession,
    authorization,
    ApolloLink.split(({ query }) => isSubscriptionOperation(query), subscriptions, http),
  ]),
  cache: new InMemoryCache({
    typePolicies: {
      // Pages of a list merge into one list per filter and sort, so "Show more" appends.
      Query: { fields: { products: relayStylePagination(['filter', 'sort']) } },
      User: { fields: { orders: relayStylePagination() } },
      Order: {
        fields: {
          // An order's status only moves forward (PENDING, then PAID or CANCELLED, for good): a subscription's
          // snapshot read just before a payment made on this page must not take it back.
          status: {
            merge: (existing: string | undefined, incoming: string) =>
              existing === 'PAID' || existing === 'CANCELLED' ? existing : incoming,
          },
          // Lines have no id, so each operation's selection of them (OrderDetail's, OrderUpdates') is merged line by
          // line instead of replacing the others' fields, which would leave the order page's query incomplete.
          items: {
            merge: (existing: StoreObject[] | undefined, incoming: StoreObject[], { mergeObjects }) =>
              existing && existing.length === incoming.length
                ? incoming.map((line, index) => mergeObjects(existing[index]!, line))
                : incoming,
          },
        },
      },
      Money: { merge: true },
    },
  }),
});
