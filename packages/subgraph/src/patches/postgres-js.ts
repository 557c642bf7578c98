/**
 * Patch of postgres.js: every statement drizzle sends is prepared, and measured.
 *
 * postgres.js prepares tagged-template queries but not `unsafe()` ones, and drizzle only calls `unsafe()`. An
 * unprepared statement with parameters costs a describe round trip before every execution, so ask for named
 * prepared statements, in transactions too. Every drizzle statement passes here, so it is also where statements
 * and transactions are measured. It wraps `unsafe`, `begin` and `savepoint`, whose calling conventions are
 * postgres.js internals: hence the exact version.
 */
import { assertPatchedVersion } from '@shop/service';
import type postgres from 'postgres';
import type { DatabaseProbe, StatementEnd } from '../db-probe.js';

assertPatchedVersion('postgres', '3.4.9', import.meta.url);

/**
 * Calls `end` when a postgres.js query settles, and returns the query itself for drizzle to await. A query runs
 * a microtask after its first `then`, so the `.values()` that drizzle chains on it in the same expression still
 * applies.
 */
function onSettled<Q extends PromiseLike<unknown>>(query: Q, end: StatementEnd): Q {
  query.then(
    () => end(),
    (error: unknown) => end(error),
  );
  return query;
}

/**
 * postgres.js prepares tagged-template queries but not `unsafe()` ones, and drizzle only calls `unsafe()`.
 * An unprepared statement with parameters costs a describe round trip before every execution, so ask for
 * named prepared statements, in transactions too. Every drizzle statement passes here, so it is also where
 * statements and transactions are measured.
 */
export function preferPrepared(sql: postgres.Sql, probe: DatabaseProbe): postgres.Sql {
  const unsafe = sql.unsafe.bind(sql);
  sql.unsafe = ((query: string, args?: unknown[], options?: postgres.UnsafeQueryOptions) =>
    onSettled(
      unsafe(query, args as postgres.ParameterOrJSON<never>[], { prepare: true, ...options }),
      probe.statement(query, false),
    )) as typeof sql.unsafe;
  const begin = sql.begin.bind(sql) as (...args: unknown[]) => Promise<unknown>;
  sql.begin = ((...args: unknown[]) => {
    const callback = args.pop() as (tx: postgres.TransactionSql) => unknown;
    return probe.transaction(() => begin(...args, (tx: postgres.TransactionSql) => callback(preferPreparedTx(tx, probe))));
  }) as typeof sql.begin;
  return sql;
}

function preferPreparedTx(tx: postgres.TransactionSql, probe: DatabaseProbe): postgres.TransactionSql {
  const unsafe = tx.unsafe.bind(tx);
  tx.unsafe = ((query: string, args?: unknown[], options?: postgres.UnsafeQueryOptions) =>
    onSettled(
      unsafe(query, args as postgres.ParameterOrJSON<never>[], { prepare: true, ...options }),
      probe.statement(query, true),
    )) as typeof tx.unsafe;
  const savepoint = tx.savepoint.bind(tx) as (...args: unknown[]) => Promise<unknown>;
  tx.savepoint = ((...args: unknown[]) => {
    const callback = args.pop() as (sp: postgres.TransactionSql) => unknown;
    return savepoint(...args, (sp: postgres.TransactionSql) => callback(preferPreparedTx(sp, probe)));
  }) as typeof tx.savepoint;
  return tx;
}
