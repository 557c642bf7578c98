import { envInt } from '@shop/service';
import { runInBackground } from '@shop/subgraph';
import { buildSubgraphServer } from '@shop/subgraph';
import { Checkout } from './checkout.js';
import { createContext } from './context.js';
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
  const service = await buildSubgraphServer({
    name: 'orders',
    root: new URL('..', import.meta.url),
    tables,
    resolvers,
    context: (request, db) => createContext(request, db, checkout!),
    onClose: () => clearInterval(recovery),
  });
  const { db } = service.database;
  checkout = new Checkout(
    db,
    new ProductsClient(),
    new SandboxPaymentProvider(db),
    {
      holdMs: envInt('ORDER_HOLD_MINUTES', 30) * 60_000,
      reservingTimeoutMs: envInt('RESERVATION_TIMEOUT_MS', 30_000),
      payingTimeoutMs: envInt('PAYMENT_TIMEOUT_MS', 30_000),
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
  recovery = setInterval(recover, envInt('RECOVERY_INTERVAL_MS', 5_000)).unref();
  return { ...service, checkout };
}
