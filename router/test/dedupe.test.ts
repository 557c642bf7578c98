import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InFlightDedupe, inFlightFetches, operationDedupePlugin } from '../src/dedupe.js';
import type { RouterContext } from '../src/gateway.js';
import { createGateway } from '../src/gateway.js';
import { graphql } from './shaping/graphql.js';

// In-flight deduplication through the router's real gateway, against two real HTTP subgraphs served here: each
// counts what it is sent, and answers after a delay the query asks for, so that requests overlap.

const federation = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';
const SDL = {
  products: `${federation}
    type Query {
      products(category: String!, delay: Int = 100): [Product!]!
      whoAmI(delay: Int = 100): String
    }
    type Mutation { touch(delay: Int = 100): Int! }
    type Product @key(fields: "id") { id: ID! name: String! }`,
  reviews: `${federation}
    type Product @key(fields: "id") { id: ID! rating: Int! }`,
};

interface Sent {
  subgraph: string;
  authorization?: string;
  body: { query: string; variables?: Record<string, unknown> };
}

const sent: Sent[] = [];
let touches = 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const resolvers = {
  products: {
    Query: {
      products: async (_: unknown, { category, delay }: { category: string; delay: number }) => {
        // Read as the request arrives, as a database read would be, and answered after the delay.
        const seen = touches;
        await sleep(delay);
        if (category === 'broken') throw new Error('the broken category fails');
        return [1, 2].map((n) => ({ id: `${category}-${n}`, name: `${category} ${n} after ${seen} touches` }));
      },
      whoAmI: async (_: unknown, { delay }: { delay: number }, context: { authorization?: string }) => {
        await sleep(delay);
        return context.authorization ?? null;
      },
    },
    Mutation: {
      touch: async (_: unknown, { delay }: { delay: number }) => {
        await sleep(delay);
        return ++touches;
      },
    },
  },
  reviews: {
    Product: {
      __resolveReference: async ({ id }: { id: string }) => {
        await sleep(100);
        return { id, rating: id.length };
      },
    },
  },
};

/** A subgraph over node:http; `down` makes it answer HTTP 500 to everything (a broken deploy). */
async function subgraphServer(name: keyof typeof SDL): Promise<{ server: Server; url: string; down: boolean }> {
  const schema = buildSubgraphSchema({ typeDefs: graphql.parse(SDL[name]), resolvers: resolvers[name] as never });
  const state = { down: false } as { server: Server; url: string; down: boolean };
  state.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Sent['body'];
        const authorization = request.headers.authorization;
        sent.push({ subgraph: name, authorization, body });
        if (state.down) {
          await sleep(100);
          response.writeHead(500, { 'content-type': 'text/plain' }).end('down');
          return;
        }
        const result = await graphql.execute({
          schema,
          document: graphql.parse(body.query),
          variableValues: body.variables,
          contextValue: { authorization },
        });
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
      })();
    });
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/graphql`;
  return state;
}

let products: Awaited<ReturnType<typeof subgraphServer>>;
let reviews: Awaited<ReturnType<typeof subgraphServer>>;
let supergraphSdl: string;

async function router(plugins: ApolloServerPlugin<RouterContext>[] = []): Promise<ApolloServer<RouterContext>> {
  const server = new ApolloServer<RouterContext>({ gateway: createGateway(supergraphSdl), plugins });
  await server.start();
  return server;
}

let requestIds = 0;
async function ask(server: ApolloServer<RouterContext>, query: string, variables: Record<string, unknown> = {}, authorization?: string) {
  const response = await server.executeOperation(
    { query, variables },
    { contextValue: { authorization, requestId: `r${++requestIds}`, clientIp: `10.0.0.${requestIds % 250}` } },
  );
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  return JSON.parse(JSON.stringify(response.body.singleResult)) as { data?: Record<string, unknown>; errors?: { message: string }[] };
}

const CATALOGUE = 'query Catalogue($category: String!, $delay: Int) { products(category: $category, delay: $delay) { id name rating } }';
const WHO = '{ whoAmI }';
const sentTo = (subgraph: string) => sent.filter((s) => s.subgraph === subgraph);

beforeAll(async () => {
  [products, reviews] = await Promise.all([subgraphServer('products'), subgraphServer('reviews')]);
  const composed = composeServices(
    (['products', 'reviews'] as const).map((name) => ({
      name,
      typeDefs: graphql.parse(SDL[name]),
      url: name === 'products' ? products.url : reviews.url,
    })),
  );
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  supergraphSdl = composed.supergraphSdl;
});

afterAll(async () => {
  products.server.close();
  reviews.server.close();
  products.server.closeAllConnections();
  reviews.server.closeAllConnections();
});

afterEach(() => {
  sent.length = 0;
  products.down = false;
  delete process.env.DEDUPE_SUBGRAPHS;
  delete process.env.DEDUPE_DISABLED_SUBGRAPHS;
});

describe('in-flight deduplication of subgraph fetches', () => {
  it('sends one request per subgraph for N identical queries in flight at once, and every caller gets the whole answer', async () => {
    const server = await router();
    const answers = await Promise.all(Array.from({ length: 20 }, () => ask(server, CATALOGUE, { category: 'socks' })));
    expect(sentTo('products')).toHaveLength(1);
    expect(sentTo('reviews')).toHaveLength(1);
    expect(answers[0]!.errors).toBeUndefined();
    expect(answers[0]!.data!.products).toEqual([
      { id: 'socks-1', name: 'socks 1 after 0 touches', rating: 7 },
      { id: 'socks-2', name: 'socks 2 after 0 touches', rating: 7 },
    ]);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    // Each caller has objects of its own: the gateway completes them in place.
    expect(answers[0]!.data!.products).not.toBe(answers[1]!.data!.products);
    expect(inFlightFetches.size).toBe(0);
    await server.stop();
  });

  it('shares nothing between different variables, or between callers with different tokens', async () => {
    const server = await router();
    const [a, b] = await Promise.all([ask(server, CATALOGUE, { category: 'socks' }), ask(server, CATALOGUE, { category: 'hats' })]);
    expect(sentTo('products')).toHaveLength(2);
    expect(a.data!.products).not.toEqual(b.data!.products);

    sent.length = 0;
    const tokens = ['Bearer alice', 'Bearer bob', undefined, 'Bearer alice', 'Bearer bob', undefined];
    const answers = await Promise.all(tokens.map((token) => ask(server, WHO, {}, token)));
    expect(answers.map((answer) => answer.data!.whoAmI)).toEqual(tokens.map((token) => token ?? null));
    // Three identities, three requests; each sent with its own caller's token.
    expect(
      sentTo('products')
        .map((s) => s.authorization ?? '-')
        .sort(),
    ).toEqual(['-', 'Bearer alice', 'Bearer bob']);
    expect(inFlightFetches.size).toBe(0);
    await server.stop();
  });

  it('shares an error only with the callers that asked the same thing', async () => {
    const server = await router();
    // A GraphQL error in the subgraph's answer.
    const answers = await Promise.all([
      ask(server, CATALOGUE, { category: 'broken' }),
      ask(server, CATALOGUE, { category: 'broken' }),
      ask(server, CATALOGUE, { category: 'socks' }),
    ]);
    expect(sentTo('products')).toHaveLength(2);
    expect(answers[0]!.errors?.[0]?.message).toMatch(/broken category fails/);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]!.errors).toBeUndefined();
    expect(answers[2]!.data!.products).toHaveLength(2);

    // A subgraph that answers no GraphQL at all: every caller of that fetch gets SERVICE_UNAVAILABLE, once sent.
    sent.length = 0;
    products.down = true;
    const failed = await Promise.all([ask(server, CATALOGUE, { category: 'hats' }), ask(server, CATALOGUE, { category: 'hats' })]);
    expect(sentTo('products')).toHaveLength(1);
    for (const answer of failed) expect(JSON.stringify(answer.errors)).toMatch(/SERVICE_UNAVAILABLE/);
    products.down = false;
    // Nothing of the failure is kept: the next identical query is sent afresh and answered.
    sent.length = 0;
    const after = await ask(server, CATALOGUE, { category: 'hats' });
    expect(after.errors).toBeUndefined();
    expect(sentTo('products')).toHaveLength(1);
    expect(inFlightFetches.size).toBe(0);
    await server.stop();
  });

  it('never shares mutations, and no query answered after a mutation joins a fetch sent before it', async () => {
    const server = await router();
    const touched = await Promise.all([ask(server, 'mutation { touch }'), ask(server, 'mutation { touch }')]);
    expect(sentTo('products')).toHaveLength(2);
    expect(touched.map((t) => t.data!.touch).sort()).toEqual([touches - 1, touches]);

    sent.length = 0;
    // A slow read is in flight; a mutation is answered; a read sent after that must see the mutation.
    const before = ask(server, CATALOGUE, { category: 'socks', delay: 400 });
    await sleep(50);
    await ask(server, 'mutation { touch(delay: 10) }');
    const after = await ask(server, CATALOGUE, { category: 'socks', delay: 400 });
    expect(sentTo('products').filter((s) => s.body.query.includes('products'))).toHaveLength(2);
    expect(JSON.stringify(after.data)).toContain(`after ${touches} touches`);
    expect(JSON.stringify((await before).data)).toContain(`after ${touches - 1} touches`);
    expect(inFlightFetches.size).toBe(0);
    await server.stop();
  });

  it('is switched off for a subgraph by DEDUPE_DISABLED_SUBGRAPHS, and everywhere by DEDUPE_SUBGRAPHS=false', async () => {
    process.env.DEDUPE_DISABLED_SUBGRAPHS = 'products';
    let server = await router();
    await Promise.all(Array.from({ length: 5 }, () => ask(server, CATALOGUE, { category: 'socks' })));
    expect(sentTo('products')).toHaveLength(5);
    expect(sentTo('reviews')).toHaveLength(1);
    await server.stop();

    sent.length = 0;
    delete process.env.DEDUPE_DISABLED_SUBGRAPHS;
    process.env.DEDUPE_SUBGRAPHS = 'false';
    server = await router();
    await Promise.all(Array.from({ length: 5 }, () => ask(server, CATALOGUE, { category: 'socks' })));
    expect(sentTo('products')).toHaveLength(5);
    expect(sentTo('reviews')).toHaveLength(5);
    await server.stop();
  });
});

describe('inbound deduplication of client operations (DEDUPE_OPERATIONS)', () => {
  it('runs N identical queries in flight at once once, and never shares across tokens or mutations', async () => {
    // Outbound sharing off, so that one fetch per subgraph can only mean one execution.
    process.env.DEDUPE_SUBGRAPHS = 'false';
    const executions = new InFlightDedupe<never>();
    const server = await router([operationDedupePlugin(executions as never)]);
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(server, CATALOGUE, { category: 'socks' })));
    expect(sentTo('products')).toHaveLength(1);
    expect(sentTo('reviews')).toHaveLength(1);
    expect(executions.shared).toBe(9);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]!.data!.products).toHaveLength(2);

    sent.length = 0;
    const tokens = ['Bearer alice', 'Bearer bob', 'Bearer alice', 'Bearer bob'];
    const who = await Promise.all(tokens.map((token) => ask(server, WHO, {}, token)));
    expect(who.map((answer) => answer.data!.whoAmI)).toEqual(tokens);
    expect(sentTo('products')).toHaveLength(2);

    sent.length = 0;
    await Promise.all([ask(server, 'mutation { touch }'), ask(server, 'mutation { touch }')]);
    expect(sentTo('products')).toHaveLength(2);
    expect(executions.size).toBe(0);
    await server.stop();
  });
});

describe('InFlightDedupe', () => {
  it('keeps a key only while its fetch is in flight', async () => {
    const dedupe = new InFlightDedupe<string>();
    let calls = 0;
    const send = async () => {
      calls++;
      await sleep(20);
      return 'answer';
    };
    const results = await Promise.all([dedupe.run('k', send), dedupe.run('k', send), dedupe.run('other', send)]);
    expect(results).toEqual(['answer', 'answer', 'answer']);
    expect(calls).toBe(2);
    expect(dedupe.shared).toBe(1);
    expect(dedupe.size).toBe(0);
    const failing = dedupe.run('k', () => Promise.reject(new Error('no')));
    expect(dedupe.size).toBe(1);
    await expect(failing).rejects.toThrow('no');
    expect(dedupe.size).toBe(0);
  });
});
