import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { operationFromDocument } from '@apollo/federation-internals';
import { ApolloServer } from '@apollo/server';
import { createLogger } from '@shop/service';
import { afterAll, describe, expect, it } from 'vitest';
import { createGateway, type RouterContext } from '../src/gateway.js';
import { contractOperations, contractOperationsPath, warmPlansOnLoad, type WarmupReport } from '../src/plan-warmup.js';
import { SupergraphFile } from '../src/supergraph-file.js';
import { graphql } from './shaping/graphql.js';

// The contract's query plans are built when the router loads a supergraph, at start and on every hot reload,
// and a client's text of the same operation (other whitespace, comments) is answered from them.

const shopSupergraph = new URL('../../schema/supergraph.graphql', import.meta.url).pathname;
const dir = mkdtempSync(path.join(tmpdir(), 'plan-warmup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Internals {
  queryPlanner: { buildQueryPlan(operation: unknown, options?: unknown): unknown };
  apiSchema: Parameters<typeof operationFromDocument>[0];
}

describe('query plan warm-up', () => {
  it('plans every contract operation at start and again on every hot reload', async () => {
    const file = path.join(dir, 'supergraph.graphql');
    copyFileSync(shopSupergraph, file);
    const logger = createLogger('router');
    const supergraph = new SupergraphFile(file, logger);
    const gateway = createGateway(supergraph);
    const reports: WarmupReport[] = [];
    warmPlansOnLoad(gateway, contractOperationsPath(), logger, (report) => reports.push(report));
    const server = new ApolloServer<RouterContext>({ gateway });
    await server.start();
    try {
      const contract = contractOperations(contractOperationsPath());
      expect(contract.length).toBeGreaterThan(10);
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ operations: contract.length, failed: [] });

      // A client's own text of a contract operation gets the warmed plan, not a new one.
      const internals = gateway as unknown as Internals;
      const text = print(contract.find((o) => o.name === 'OrderHistory')!.document);
      const reformatted = `# a comment\n${text.replace(/\n\s*/g, ' ')}`;
      const plan = (source: string, operationName = 'OrderHistory') =>
        internals.queryPlanner.buildQueryPlan(operationFromDocument(internals.apiSchema, graphql.parse(source), { operationName }));
      expect(plan(reformatted)).toBe(plan(text));
      // Anything else is planned afresh each time, as before (the gateway caches it by its text).
      const other = 'query Other { products(first: 3) { edges { node { id } } } }';
      expect(plan(other, 'Other')).not.toBe(plan(other, 'Other'));

      // A hot reload: the new supergraph's planner is warmed before it serves.
      appendFileSync(file, '\n# reloaded\n');
      const deadline = Date.now() + 10_000;
      while (reports.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(reports).toHaveLength(2);
      expect(reports[1]).toMatchObject({ operations: contract.length, failed: [] });
      expect(readFileSync(file, 'utf8')).toContain('# reloaded');
      expect(plan(reformatted)).toBe(plan(text));
    } finally {
      await server.stop();
    }
  });

  it('lists each contract operation with the fragments of its file', () => {
    const operations = contractOperations(contractOperationsPath());
    const names = operations.map((o) => o.name);
    expect(names).toContain('Catalogue');
    expect(new Set(names).size).toBe(names.length);
  });
});

const print = (document: Parameters<typeof graphql.print>[0]) => graphql.print(document);
