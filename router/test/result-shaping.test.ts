import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { operationFromDocument, type FieldSelection, type Operation } from '@apollo/federation-internals';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { createGateway } from '../src/gateway.js';
import {
  gatewayComputeResponse,
  installCompiledResultShaping,
  uninstallCompiledResultShaping,
} from '../src/patches/gateway-result-shaping.js';
import { compiledComputeResponse, type ComputeResponse } from '../src/result-shaping.js';
import { mergedData, subgraphAnswer } from './shaping/data.js';
import { graphql } from './shaping/graphql.js';
import { generateOperations, type GeneratedOperation } from './shaping/operations.js';
import { PROTOTYPE_NAMES, Random } from './shaping/random.js';
import { testSupergraphs, type TestSupergraph } from './shaping/supergraphs.js';

// The router's compiled result shaping must answer exactly as @apollo/gateway's own computeResponse, and the
// router's whole execution exactly as a stock gateway's, for every valid operation over every supergraph.
// Both are compared here over generated operations and generated subgraph data (see ./shaping), seeded: a
// failure prints the seed, the supergraph, the operation and its variables. SEED=<n> runs another draw.

const { parse, print } = graphql;
const SEED = Number(process.env.SEED ?? 20261127);
const SHAPING_OPERATIONS = 60;
const SHAPING_DATA_SEEDS = 3;
const EXECUTED_OPERATIONS = 20;
const EXECUTION_DATA_SEEDS = 5;
/** Planning and shaping are CPU work: on a machine shared with other runs they can take several times longer. */
const CPU_BOUND_TIMEOUT_MS = 180_000;
/** Subgraph data goes wrong less often in whole executions, so that more of it reaches the later fetches. */
const EXECUTION_NOISE = 0.3;

const supergraphs = testSupergraphs();
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).map((name) => [
  name,
  Object.getOwnPropertyDescriptor(Object.prototype, name),
]);

/** What one shaping gives, as JSON text (key order counts): data, errors with path and extensions, or the assertion it throws. */
function shaped(shape: ComputeResponse, operation: Operation, input: Record<string, unknown>, variables: Record<string, unknown>): string {
  let result: ReturnType<ComputeResponse>;
  try {
    result = shape({
      operation,
      variables,
      input,
      introspectionHandling: (selection: FieldSelection) => ({ introspected: String(selection) }),
    });
  } catch (error) {
    return JSON.stringify({ thrown: (error as Error).message });
  }
  if (shape === compiledComputeResponse) expectNoPrototypeButObjects(result.data);
  const errors = result.errors.map((e) => ({ message: e.message, path: e.path, extensions: e.extensions }));
  return JSON.stringify({ data: result.data, errors });
}

/** An alias such as `__proto__` must never have given a response object a prototype of its own. */
function expectNoPrototypeButObjects(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const prototype = Object.getPrototypeOf(value);
  expect(prototype === null || prototype === Object.prototype || prototype === Array.prototype).toBe(true);
  for (const key of Object.keys(value)) expectNoPrototypeButObjects((value as Record<string, unknown>)[key]);
}

/** Counts of what the generated cases contained and met, so that a generator gone blind fails the test. */
const met = {
  operations: 0,
  comparisons: 0,
  executions: 0,
  errorKinds: new Set<string>(),
  thrown: new Set<string>(),
  prototypeAliases: 0,
  repeatedResponseNames: 0,
  conditionalFragments: 0,
  introspection: 0,
  variables: 0,
  mutations: 0,
  /** Entity fetches of the stock gateway that repeat a representation: the router's dedupe has work there. */
  repeatedRepresentations: 0,
  repeatedRepresentationsWithErrors: 0,
};

function noteOperation(text: string) {
  met.operations++;
  if (PROTOTYPE_NAMES.some((name) => text.includes(`${name}:`))) met.prototypeAliases++;
  if (/\.\.\.\s*(on \w+\s*)?\w* @(skip|include)/.test(text)) met.conditionalFragments++;
  if (/__schema|__type\(/.test(text)) met.introspection++;
  if (text.startsWith('query Generated(') || text.startsWith('mutation Generated(')) met.variables++;
  if (text.startsWith('mutation')) met.mutations++;
  const names = [...text.matchAll(/(\w+): \w+/g)].map((m) => m[1]);
  if (new Set(names).size < names.length) met.repeatedResponseNames++;
}

function describeCase(supergraph: string, seed: number, text: string, variables: string) {
  return `SEED=${SEED} supergraph ${supergraph}, data seed ${seed}\n${text}\nvariables ${variables}`;
}

function noteOutcome(outcome: string) {
  const parsed = JSON.parse(outcome) as { thrown?: string; errors?: { message: string }[] };
  if (parsed.thrown) met.thrown.add(parsed.thrown.replace(/ (value|for|at) .*/, ''));
  for (const error of parsed.errors ?? []) met.errorKinds.add(error.message.replace(/ (found for|for non-nullable) .*/, ' $1'));
}

/** The shop's contract operations, with variables of the right types. */
function contractOperations(): GeneratedOperation[] {
  const contract = parse(readFileSync(new URL('../../schema/operations/storefront.graphql', import.meta.url), 'utf8'));
  return contract.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')
    .map((operation) => ({ text: print({ kind: contract.kind, definitions: [operation] } as DocumentNode), variables: ['{}'] }));
}

describe('compiled result shaping', () => {
  it.each(supergraphs.map((s) => [s.name, s] as const))(
    'answers as the gateway computeResponse does: %s',
    (_name, supergraph) => {
      const { operations } = generateOperations(supergraph.api, SEED + supergraph.name.length, SHAPING_OPERATIONS);
      if (supergraph.name === 'shop') operations.push(...contractOperations());
      for (const { text, variables } of operations) {
        noteOperation(text);
        const document = parse(text);
        const operation = operationFromDocument(supergraph.apiSchema, document);
        for (const variablesText of variables) {
          for (let seed = 1; seed <= SHAPING_DATA_SEEDS; seed++) {
            const requestVariables = JSON.parse(variablesText) as Record<string, unknown>;
            const input = mergedData(supergraph.api, document, requestVariables, new Random(SEED ^ seed));
            const expected = shaped(gatewayComputeResponse, operation, input, requestVariables);
            const actual = shaped(compiledComputeResponse, operation, input, requestVariables);
            expect(actual, describeCase(supergraph.name, seed, text, variablesText)).toBe(expected);
            noteOutcome(expected);
            met.comparisons++;
          }
        }
      }
    },
    CPU_BOUND_TIMEOUT_MS,
  );

  it('met every error path of result shaping, and every kind of operation', () => {
    // The comparisons above are only as good as what they meet.
    expect([...met.errorKinds].sort()).toEqual([
      'Cannot return null for non-nullable',
      'Invalid __typename found for',
      'Invalid value found for',
    ]);
    expect([...met.thrown].sort()).toEqual(expect.arrayContaining(['Invalid non-list', 'Invalid non-object', 'Invalid non-string']));
    for (const count of [
      met.prototypeAliases,
      met.repeatedResponseNames,
      met.conditionalFragments,
      met.introspection,
      met.variables,
      met.mutations,
    ]) {
      expect(count).toBeGreaterThan(5);
    }
    expect(met.comparisons).toBeGreaterThan(supergraphs.length * SHAPING_OPERATIONS * SHAPING_DATA_SEEDS);
  });
});

/** An in-memory subgraph hop: answers in a later macrotask, so parallel fetches complete in the order they were sent. */
function fakeSubgraphs(supergraph: TestSupergraph, seed: { current: number }) {
  const answer = async (url: string, body: string) => {
    const subgraph = supergraph.subgraphsByUrl.get(url);
    if (!subgraph) throw new Error(`no subgraph at ${url}`);
    await new Promise((resolve) => setImmediate(resolve));
    return subgraphAnswer(subgraph.schema, url, body, seed.current, EXECUTION_NOISE);
  };
  return {
    /** The router's exchange (subgraph-http.ts postJson). */
    post: async (url: string, _headers: Record<string, string>, body: string) => ({
      status: 200,
      contentType: 'application/json',
      body: await answer(url, body),
    }),
    /** The stock RemoteGraphQLDataSource's fetch. */
    fetcher: async (url: string, init: { body: string }) => {
      const text = await answer(url, init.body);
      const representations = (JSON.parse(init.body) as { variables?: { representations?: unknown[] } }).variables?.representations;
      if (representations && new Set(representations.map((r) => JSON.stringify(r))).size < representations.length) {
        met.repeatedRepresentations++;
        if (text.includes('"errors"')) met.repeatedRepresentationsWithErrors++;
      }
      return new Response(text, { headers: { 'content-type': 'application/json' } });
    },
  };
}

function requestContext(text: string, document: DocumentNode, variables: string): GatewayGraphQLRequestContext {
  return {
    request: { query: text, variables: JSON.parse(variables), operationName: 'Generated' },
    document,
    source: text,
    queryHash: createHash('sha256').update(text).digest('hex'),
    operationName: 'Generated',
    context: { requestId: 'differential' },
    metrics: {},
    cache: undefined,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  } as unknown as GatewayGraphQLRequestContext;
}

/** The response as JSON text, or what the executor threw (the planner and the merge have assertions of their own). */
async function executed(executor: GatewayExecutor, context: GatewayGraphQLRequestContext): Promise<string> {
  try {
    // A plain Error among the errors (the gateway pushes some as they are) would serialize as {}.
    return JSON.stringify(await executor(context), (_key, value: unknown) =>
      value instanceof Error ? { error: value.name, message: value.message } : value,
    );
  } catch (error) {
    return JSON.stringify({ thrown: String(error) });
  }
}

describe('query plan execution', () => {
  afterAll(() => uninstallCompiledResultShaping());

  it.each(supergraphs.map((s) => [s.name, s] as const))(
    'answers as a stock gateway does: %s',
    async (_name, supergraph) => {
      const seed = { current: 0 };
      const { post, fetcher } = fakeSubgraphs(supergraph, seed);
      const stock = new ApolloGateway({
        supergraphSdl: supergraph.sdl,
        buildService: ({ url }) => new RemoteGraphQLDataSource({ url, fetcher: fetcher as never }),
      });
      const ours = createGateway(supergraph.sdl, post);
      const executors: [GatewayExecutor, GatewayExecutor] = [(await stock.load()).executor, (await ours.load()).executor];
      try {
        const { operations } = generateOperations(supergraph.api, SEED * 7 + supergraph.name.length, EXECUTED_OPERATIONS);
        for (const { text, variables } of operations) {
          // Apollo Server hands the gateway one parsed document per query text; the router caches on it.
          const document = parse(text);
          for (let data = 1; data <= EXECUTION_DATA_SEEDS; data++) {
            seed.current = SEED ^ (data * 7919);
            const requestVariables = variables[data % variables.length]!;
            uninstallCompiledResultShaping();
            const expected = await executed(executors[0], requestContext(text, document, requestVariables));
            installCompiledResultShaping();
            const actual = await executed(executors[1], requestContext(text, document, requestVariables));
            expect(actual, describeCase(supergraph.name, data, text, requestVariables)).toBe(expected);
            met.executions++;
          }
        }
      } finally {
        await Promise.all([stock.stop(), ours.stop()]);
      }
    },
    CPU_BOUND_TIMEOUT_MS,
  );

  it('met repeated entity representations, with errors among them', () => {
    expect(met.executions).toBe(supergraphs.length * EXECUTED_OPERATIONS * EXECUTION_DATA_SEEDS);
    expect(met.repeatedRepresentations, `SEED=${SEED}`).toBeGreaterThan(20);
    expect(met.repeatedRepresentationsWithErrors, `SEED=${SEED}`).toBeGreaterThan(3);
  });

  it('left Object.prototype as it was', () => {
    const after = Object.getOwnPropertyNames(Object.prototype).map((name) => [
      name,
      Object.getOwnPropertyDescriptor(Object.prototype, name),
    ]);
    expect(after).toEqual(prototypeBefore);
  });
});
