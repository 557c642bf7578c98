/**
 * Patch of PGlite: times its statements, in transactions too, for the pool metrics and spans. It wraps `query`
 * and `transaction`, and the transaction object PGlite hands to the callback: hence the exact version.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { assertPatchedVersion } from '@shop/service';
import type { DatabaseProbe } from '../db-probe.js';

assertPatchedVersion('@electric-sql/pglite', '0.5.16', import.meta.url);

/** Times PGlite's statements, in transactions too. PGlite runs one statement at a time: a pool of one. */
export function measurePglite(client: PGlite, probe: DatabaseProbe): void {
  const query = client.query.bind(client);
  client.query = ((text: string, params?: unknown[], options?: object) =>
    probe.timed(text, false, () => query(text, params, options))) as typeof client.query;
  const transaction = client.transaction.bind(client);
  client.transaction = ((callback: (tx: Transaction) => Promise<unknown>) =>
    probe.transaction(() =>
      transaction((tx) => {
        const txQuery = tx.query.bind(tx);
        tx.query = ((text: string, params?: unknown[], options?: object) =>
          probe.timed(text, true, () => txQuery(text, params, options))) as typeof tx.query;
        return callback(tx);
      }),
    )) as typeof client.transaction;
}
