import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { natsAnswers, StreamReader, TEST_NATS_URL } from '../stream.js';

/**
 * The broker path in-process: products with NATS_URL publishes to the stream SHOP, and its subscriptions are fed
 * from the stream, not by its own relay. Needs NATS (CI starts it); elsewhere it is skipped when none answers.
 */
const available = await natsAnswers();
if (!available && process.env.CI) throw new Error(`NATS does not answer at ${TEST_NATS_URL}`);

type ProductsServer = Awaited<ReturnType<typeof import('../../subgraphs/products/src/server.js').buildServer>>;
let products: ProductsServer;
let dataDir: string;
let reader: StreamReader;
let url: string;
let admin: string;

describe.skipIf(!available)('events through NATS JetStream', () => {
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'events-nats-'));
    Object.assign(process.env, { DATA_DIR: dataDir, NATS_URL: TEST_NATS_URL, LOG_LEVEL: 'fatal' });
    delete process.env.PRODUCTS_DATABASE_URL;
    delete process.env.ROUTER_SECRET;
    reader = await StreamReader.open();
    const { signToken } = await import('@shop/subgraph');
    admin = await signToken({ id: randomUUID(), role: 'ADMIN' });
    products = await (await import('../../subgraphs/products/src/server.js')).buildServer();
    await products.app.listen({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${(products.app.server.address() as { port: number }).port}/graphql`;
  }, 60_000);

  afterAll(async () => {
    await products?.app.close();
    await reader?.close();
    delete process.env.NATS_URL;
    await rm(dataDir, { recursive: true, force: true });
  });

  async function graphql(query: string, variables: Record<string, unknown>) {
    const response = await products.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      payload: { query, variables },
    });
    return response.json() as { data?: any };
  }

  it('publishes each event once with its id as Nats-Msg-Id, and feeds subscriptions from the stream', async () => {
    expect(products.events?.broker?.ready()).toBe(true);
    const startSeq = await reader.lastSequence();
    const created = await graphql(
      `
        mutation ($input: CreateProductInput!) {
          createProduct(input: $input) {
            product {
              id
            }
          }
        }
      `,
      {
        input: {
          sku: `NATS-${randomUUID()}`,
          name: 'Broker socks',
          description: '',
          category: 'socks',
          price: { amount: 100, currency: 'USD' },
          stock: 1,
        },
      },
    );
    const id = created.data.createProduct.product.id as string;

    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    const seen: FormattedExecutionResult<any>[] = [];
    client.subscribe(
      { query: `subscription($ids: [ID!]!) { productUpdated(ids: $ids) { id stock } }`, variables: { ids: [id] } },
      { next: (result) => void seen.push(result as FormattedExecutionResult<any>), error: () => {}, complete: () => {} },
    );
    await expect.poll(() => products.feed.subjects).toBe(1);
    await graphql(
      `
        mutation ($id: ID!) {
          restockProduct(id: $id, quantity: 4) {
            product {
              id
            }
          }
        }
      `,
      { id },
    );
    await expect.poll(() => seen.map((result) => result.data?.productUpdated.stock)).toEqual([5]);
    await client.dispose();

    const mine = (await reader.eventsAfter(startSeq)).filter((message) => message.event.subject === id);
    expect(mine.map((message) => [message.subject, message.event.data])).toEqual([
      ['shop.product.created', expect.objectContaining({ productId: id, stock: 1 })],
      ['shop.product.stock_changed', { productId: id, stock: 5, delta: 4 }],
    ]);
    for (const message of mine) expect(message.msgId).toBe(message.event.id);

    // A relay that publishes the same rows again (after a crash before its commit) adds nothing to the stream.
    const { Broker } = await import('@shop/subgraph');
    const again = await Broker.connect(TEST_NATS_URL, 'republish', products.logger);
    await again.publish(mine.map((message) => message.event as never));
    await again.close();
    expect((await reader.eventsAfter(startSeq)).filter((message) => message.event.subject === id)).toHaveLength(2);
  });
});
