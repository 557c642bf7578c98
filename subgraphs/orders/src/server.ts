import { EventFeed, buildSubgraphServer, runInBackground } from '@shop/subgraph';
import { Checkout } from './checkout.js';
import { settings } from './config.js';
import { createContext, createSubscriptionContext } from './context.js';
import * as tables from './db/schema.js';
import { SandboxPaymentProvider } from './payments/sandbox-provider.js';
import { ProductsClient } from './products-client.js';
import { resolvers } from './resolvers/index.js';

/**
 * Builds the orders subgraph without opening a port. Recovery of unfinished checkouts starts with it and runs
 * every RECOVERY_INTERVAL_MS, so a restart after a crash needs no manual step.
 */
export async function buildServer() {
  let recovery: NodeJS.Timeout | undefined;
  let checkout: Checkout | undefined;
  const feed = new EventFeed();
  const service = await buildSubgraphServer({
    name: 'orders',
    root: new URL('..', import.meta.url),
    tables,
    resolvers,
    context: (request, db) => createContext(request, db, checkout!, feed),
    subscriptionContext: (connection, db) => createSubscriptionContext(connection, db, checkout!, feed),
    events: { outbox: tables.outbox, feed, subjects: 'shop.order.>' },
    onClose: () => clearInterval(recovery),
  });
  const { db } = service.database;
  checkout = new Checkout(
    db,
    new ProductsClient(),
    new SandboxPaymentProvider(db),
    {
      holdMs: settings().ORDER_HOLD_MINUTES * 60_000,
      reservingTimeoutMs: settings().RESERVATION_TIMEOUT_MS,
      payingTimeoutMs: settings().PAYMENT_TIMEOUT_MS,
    },
    service.logger,
  );
  let recovering = false;
  const recover = () => {
    if (recovering) return; // a slow pass is still running; the next tick will catch up
    recovering = true;
    void runInBackground(() => checkout!.recover())
      .then(
        (finished) => finished > 0 && service.logger.info({ finished }, 'recovered unfinished checkouts'),
        (error: unknown) => service.logger.warn({ err: error }, 'recovery pass failed; retrying on the next one'),
      )
      .finally(() => {
        recovering = false;
      });
  };
  recover();
  recovery = setInterval(recover, settings().RECOVERY_INTERVAL_MS).unref();
  return { ...service, checkout, feed };
}
