/**
 * Peer 1: a stock @apollo/gateway, set up the way its documentation shows (a supergraph SDL, a
 * RemoteGraphQLDataSource whose willSendRequest forwards the caller's token, Apollo Server's standalone
 * server), with nothing of our router's tuning. The bench starts it as a process of its own:
 *   PORT, SUPERGRAPH_FILE (the supergraph with this run's subgraph URLs), ROUTER_SECRET (optional).
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

process.env.APOLLO_TELEMETRY_DISABLED ??= '1';

interface Context {
  authorization?: string;
}

const routerSecret = process.env.ROUTER_SECRET;

class AuthenticatedDataSource extends RemoteGraphQLDataSource<Context> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Context>) {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
    // The same header forwarding as our router: with ROUTER_SECRET set, subgraphs answer only its holders.
    if (routerSecret) request.http?.headers.set('x-router-secret', routerSecret);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(process.env.SUPERGRAPH_FILE!, 'utf8'),
  buildService: ({ url }) => new AuthenticatedDataSource({ url }),
});

const server = new ApolloServer<Context>({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT), host: '127.0.0.1' },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(`stock @apollo/gateway ready at ${url}`);

// Started over IPC by the bench: when it goes away, so do we.
process.once('disconnect', () => process.exit(0));
process.once('SIGTERM', () => void server.stop().finally(() => process.exit(0)));
