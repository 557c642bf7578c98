import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, type DocumentNode } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
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
  const { operations } = await import('../../schema/persisted-query-manifest.json');
  const name = document.definitions.find((definition) => definition.kind === 'OperationDefinition')?.name?.value;
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

export const client = new ApolloClient({
  link: ApolloLink.from([endRefusedSession, authorization, persistedQueries, new HttpLink({ uri: ROUTER_URL })]),
  cache: new InMemoryCache({
    typePolicies: {
      // Pages of a list merge into one list per filter and sort, so "Show more" appends.
      Query: { fields: { products: relayStylePagination(['filter', 'sort']) } },
      User: { fields: { orders: relayStylePagination() } },
    },
  }),
});
