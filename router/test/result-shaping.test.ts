import { readFileSync } from 'node:fs';
import {
  Supergraph,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  operationFromDocument,
  type NamedType,
  type Operation,
  type OutputType,
  type Schema,
  type SelectionSet,
} from '@apollo/federation-internals';
import { parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { compiledComputeResponse, gatewayComputeResponse, type ComputeResponse } from '../src/result-shaping.js';

// The compiled result shaping must answer exactly as the gateway's own computeResponse: same data, same
// errors (message and path), same assertion failures. Compared over generated subgraph data for every
// contract operation and for operations that use what the contract does not (aliases, fragments, @skip and
// @include with variables and literals, __typename under aliases).

const root = new URL('../../', import.meta.url);
const apiSchema = Supergraph.build(readFileSync(new URL('schema/supergraph.graphql', root), 'utf8')).apiSchema();
const contract = parse(readFileSync(new URL('schema/operations/storefront.graphql', root), 'utf8'));
const extraDocument = parse(`
  query Aliased($withItems: Boolean!, $skipTotal: Boolean = false) {
    me {
      kind: __typename
      ...Person
      orders(first: 2) {
        count: totalCount @skip(if: $skipTotal)
        edges {
          node {
            __typename
            ... on Order { id status }
            items @include(if: $withItems) { product { pid: id title: name again: name } quantity }
            total @skip(if: true) { amount }
            createdAt @include(if: true)
          }
        }
      }
    }
  }
  fragment Person on User { id name email }
  query Proto { me { __proto__: name id } }
`);

/** A small seeded generator, so a failure names a case that can be run again. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/** Subgraph-like data for a selection set: mostly right, sometimes null, missing, mistyped or extra. */
function generate(schema: Schema, selectionSet: SelectionSet, type: NamedType, next: () => number): Record<string, unknown> {
  const object: Record<string, unknown> = Object.create(null);
  const roll = next();
  if (roll < 0.04) object.__typename = 'NoSuchType';
  else if (roll < 0.5) object.__typename = type.name;
  if (next() < 0.3) object.extraKey = 'added by the planner';
  for (const selection of selectionSet.selections()) {
    if (selection.kind !== 'FieldSelection') {
      Object.assign(object, generate(schema, selection.selectionSet, selection.element.typeCondition ?? type, next));
      continue;
    }
    const field = selection.element;
    if (field.name === '__typename') {
      if (next() < 0.2) object[field.responseName()] = next() < 0.5 ? type.name : 'NoSuchType';
      continue;
    }
    if (next() < 0.03) continue; // missing
    object[field.responseName()] = valueOf(schema, field.definition.type!, selection.selectionSet, next);
  }
  return object;
}

function valueOf(schema: Schema, type: OutputType, selectionSet: SelectionSet | undefined, next: () => number): unknown {
  if (next() < 0.05) return null;
  if (isNonNullType(type)) return valueOf(schema, type.ofType, selectionSet, next);
  if (isListType(type)) return Array.from({ length: Math.floor(next() * 4) }, () => valueOf(schema, type.ofType, selectionSet, next));
  if (isCompositeType(type)) return generate(schema, selectionSet!, type, next);
  if (next() < 0.04) return next() < 0.5 ? { not: 'a leaf' } : 1.5;
  if (isEnumType(type)) return next() < 0.9 ? type.values[0]!.name : 'NOT_A_VALUE';
  if (isCustomScalarType(type)) return 'custom';
  switch (type.name) {
    case 'Int':
      return Math.floor(next() * 100);
    case 'Float':
      return next() * 10;
    case 'Boolean':
      return next() < 0.5;
    default:
      return next() < 0.9 ? `text-${Math.floor(next() * 100)}` : 7;
  }
}

function outcome(shape: ComputeResponse, operation: Operation, input: Record<string, unknown>, variables: Record<string, unknown>) {
  try {
    const { data, errors } = shape({ operation, variables, input, introspectionHandling: () => ({ introspected: true }) });
    return { data: JSON.parse(JSON.stringify(data ?? null)), errors: errors.map((e) => ({ message: e.message, path: e.path })) };
  } catch (error) {
    return { thrown: (error as Error).message };
  }
}

const cases = [
  ...contract.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')
    .map((d) => ({ document: contract, name: d.name!.value, variables: [{}] as Record<string, unknown>[] })),
  {
    document: extraDocument,
    name: 'Aliased',
    variables: [{ withItems: true }, { withItems: false, skipTotal: true }, { withItems: 'yes' }],
  },
  { document: extraDocument, name: 'Proto', variables: [{}] },
];

describe('compiled result shaping', () => {
  it.each(cases)('answers as the gateway does for $name', ({ document, name, variables }) => {
    const operation = operationFromDocument(apiSchema, document, { operationName: name });
    const rootType = apiSchema.schemaDefinition.rootType(operation.rootKind)!;
    let compared = 0;
    for (const requestVariables of variables) {
      for (let seed = 1; seed <= 150; seed++) {
        const input = generate(apiSchema, operation.selectionSet, rootType, random(seed));
        const expected = outcome(gatewayComputeResponse, operation, input, requestVariables);
        expect(outcome(compiledComputeResponse, operation, input, requestVariables), `seed ${seed}`).toEqual(expected);
        compared++;
      }
    }
    expect(compared).toBe(150 * variables.length);
  });

  it('gives an alias named __proto__ a plain property, never a prototype', () => {
    const operation = operationFromDocument(apiSchema, extraDocument, { operationName: 'Proto' });
    const input = JSON.parse('{"me": {"__proto__": "Ada", "id": "u1"}}');
    const { data } = compiledComputeResponse({ operation, input, introspectionHandling: () => null });
    const me = (data as { me: Record<string, unknown> }).me;
    expect(Object.getPrototypeOf(me)).toBeNull();
    expect(Object.keys(me)).toEqual(['__proto__', 'id']);
    expect(me['__proto__']).toBe('Ada');
  });

  it('meets nulls, invalid values and bad __typenames in the generated data', () => {
    // The comparison above is only as good as what it meets: the generated data must hit the error paths.
    const operation = operationFromDocument(apiSchema, extraDocument, { operationName: 'Aliased' });
    const messages = new Set<string>();
    for (let seed = 1; seed <= 150; seed++) {
      const input = generate(apiSchema, operation.selectionSet, apiSchema.schemaDefinition.rootType('query')!, random(seed));
      const result = outcome(gatewayComputeResponse, operation, input, { withItems: true });
      for (const error of result.errors ?? []) messages.add(error.message.replace(/ (found for|for non-nullable) .*/, ' $1'));
    }
    expect([...messages].sort()).toEqual([
      'Cannot return null for non-nullable',
      'Invalid __typename found for',
      'Invalid value found for',
    ]);
  });
});
