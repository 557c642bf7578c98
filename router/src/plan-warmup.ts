import { readdirSync, readFileSync } from 'node:fs';
import { operationFromDocument, type Operation } from '@apollo/federation-internals';
import type { ApolloGateway } from '@apollo/gateway';
import type { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import type { Logger } from '@shop/service';
import { Kind, parse, print, type DocumentNode } from 'graphql';

/**
 * Query plans of the client contract (schema/operations/*.graphql) are built as the router loads a supergraph,
 * at start and on every hot reload, so that the first client to send one of them does not wait for the
 * planner (tens of milliseconds of CPU per operation, and more for the first on a fresh planner).
 *
 * The gateway caches plans by the hash of the request's exact text, which a warm-up cannot know (clients may
 * send other whitespace, comments, a document with several operations). So the planner itself is wrapped: the
 * contract's plans are kept by the operation as the planner sees it (its normalised print, which names the
 * operation and its variables), and a request whose text differs but whose operation is the same gets the
 * warmed plan. Only the contract's operations are kept here, a bounded set; any other operation is planned as
 * before and cached by the gateway as before.
 */

/** The contract's operations: schema/operations next to the supergraph file's default place. */
export const contractOperationsPath = () => new URL('../../schema/operations', import.meta.url).pathname;

type PlanOptions = Parameters<QueryPlanner['buildQueryPlan']>[1];

/** Each operation of the contract files as a document of its own, with its name. */
export function contractOperations(directory: string): { name: string; document: DocumentNode }[] {
  const operations: { name: string; document: DocumentNode }[] = [];
  for (const file of readdirSync(directory)
    .filter((f) => f.endsWith('.graphql'))
    .sort()) {
    const document = parse(readFileSync(`${directory}/${file}`, 'utf8'));
    const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION || !definition.name) continue;
      // Each operation with the fragments of its file, as a client would send it.
      operations.push({ name: definition.name.value, document: parse(print({ ...document, definitions: [definition, ...fragments] })) });
    }
  }
  return operations;
}

interface GatewayInternals {
  queryPlanner?: QueryPlanner;
  apiSchema?: Parameters<typeof operationFromDocument>[0];
  recursiveSelectionsLimitDisabled?: boolean;
  nonLocalSelectionsLimitDisabled?: boolean;
}

export interface WarmupReport {
  operations: number;
  failed: string[];
  ms: number;
}

/**
 * Warms the contract's plans every time the gateway loads a supergraph. `onWarm` hears each warm-up's outcome
 * (for logs and tests). Returns a function that stops warming future loads.
 */
export function warmPlansOnLoad(
  gateway: ApolloGateway,
  operationsDirectory: string,
  logger: Logger,
  onWarm?: (report: WarmupReport) => void,
): () => void {
  let operations: { name: string; document: DocumentNode }[];
  try {
    operations = contractOperations(operationsDirectory);
  } catch (error) {
    logger.warn({ err: error, directory: operationsDirectory }, 'no contract operations to warm query plans with');
    return () => {};
  }
  return gateway.onSchemaLoadOrUpdate(() => {
    // Called after the gateway has swapped in the new schema and planner, before it serves with them.
    const report = warmPlans(gateway as unknown as GatewayInternals, operations);
    const log = { operations: report.operations, ms: Math.round(report.ms), ...(report.failed.length && { failed: report.failed }) };
    if (report.failed.length) logger.warn(log, 'query plans warmed; some contract operations do not plan on this supergraph');
    else logger.info(log, 'query plans warmed');
    onWarm?.(report);
  });
}

function warmPlans(gateway: GatewayInternals, operations: { name: string; document: DocumentNode }[]): WarmupReport {
  const started = performance.now();
  const planner = gateway.queryPlanner;
  const apiSchema = gateway.apiSchema;
  const failed: string[] = [];
  if (!planner || !apiSchema) return { operations: 0, failed: operations.map((o) => o.name), ms: 0 };
  const options: PlanOptions = {
    recursiveSelectionsLimitDisabled: gateway.recursiveSelectionsLimitDisabled,
    nonLocalSelectionsLimitDisabled: gateway.nonLocalSelectionsLimitDisabled,
  };
  const build = planner.buildQueryPlan.bind(planner);
  const warmed = new Map<string, QueryPlan>();
  for (const { name, document } of operations) {
    try {
      const operation = operationFromDocument(apiSchema, document, { operationName: name });
      warmed.set(operation.toString(), build(operation, options));
    } catch {
      // An operation the supergraph no longer serves: the schema check's business, not the router's start.
      failed.push(name);
    }
  }
  // The gateway asks this planner only when its own cache misses: a text it has not seen yet.
  planner.buildQueryPlan = (operation: Operation, planOptions?: PlanOptions) => {
    let key: string;
    try {
      key = operation.toString();
    } catch {
      return build(operation, planOptions);
    }
    return warmed.get(key) ?? build(operation, planOptions);
  };
  return { operations: warmed.size, failed, ms: performance.now() - started };
}
