import type {
  DirectiveNode,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLCompositeType,
  GraphQLObjectType,
  GraphQLOutputType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import { graphql } from './graphql.js';
import { PROTOTYPE_NAMES, Random, hash } from './random.js';

const { Kind, isAbstractType, isCompositeType, isEnumType, isInterfaceType, isListType, isNonNullType, isObjectType, isUnionType, parse } =
  graphql;

const compositeTypeNames = new WeakMap<GraphQLSchema, string[]>();

/**
 * Seeded data for an operation, as a subgraph (or the gateway's merge of several) would produce it: mostly right,
 * sometimes not. Nulls where the schema says non-null, missing fields, a wrong or unknown or non-string
 * __typename, invalid enum and scalar values, a non-list for a list, a non-object for an object, fields a
 * skipped selection or a fragment for another type would have given, and extra keys, Object.prototype names
 * among them. Built from null-prototype objects, so that a `__proto__` key is a key, and handed on as JSON.
 */
class DataWriter {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
    private readonly random: Random,
    /** How often data goes wrong: 1 as written below, less for a whole execution so that more of it gets through. */
    private readonly noise: number,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
  }

  /** A data object for a selection on `type`, or now and then something that is not one. */
  object(type: GraphQLCompositeType, selectionSets: readonly SelectionSetNode[], runtimeName?: string): unknown {
    if (this.flaw(0.01)) return this.random.pick(['not an object', 42]);
    const runtime = this.runtimeType(type, runtimeName);
    const object: Record<string, unknown> = Object.create(null);
    if (this.flaw(0.02)) object.__typename = 'NoSuchType';
    else if (this.flaw(0.015)) object.__typename = this.random.pick(this.compositeTypeNames());
    else if (this.flaw(0.005)) object.__typename = 7;
    else if (this.random.chance(isAbstractType(type) ? 0.95 : 0.5)) object.__typename = runtime.name;
    if (this.random.chance(0.15)) object[this.random.pick([...PROTOTYPE_NAMES, 'extra'])] = this.anyJson();
    this.fill(object, runtime, selectionSets);
    return object;
  }

  /** Fills the fields `selectionSets` select on an object of type `runtime`. */
  fill(object: Record<string, unknown>, runtime: GraphQLObjectType, selectionSets: readonly SelectionSetNode[]): void {
    for (const [responseName, fields] of this.collectFields(runtime, selectionSets)) {
      const name = fields[0]!.name.value;
      if (name === '__schema' || name === '__type') continue; // the gateway answers these itself
      if (name === '__typename') {
        if (this.random.chance(0.3)) object[responseName] = this.flaw(0.2) ? 'NoSuchType' : runtime.name;
        continue;
      }
      if (this.flaw(0.03)) continue;
      const definition = runtime.getFields()[name];
      const type: GraphQLOutputType = definition
        ? definition.type
        : (this.random.pick([this.schema.getType('String')!, this.schema.getQueryType()!]) as GraphQLOutputType);
      const children = fields.flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
      object[responseName] = this.value(type, children);
    }
  }

  value(type: GraphQLOutputType, selectionSets: readonly SelectionSetNode[]): unknown {
    if (this.flaw(0.05)) return null;
    if (isNonNullType(type)) return this.value(type.ofType, selectionSets);
    if (isListType(type)) {
      if (this.flaw(0.01)) return 'not a list';
      return Array.from({ length: this.random.int(5) }, () => this.value(type.ofType, selectionSets));
    }
    if (isCompositeType(type)) return this.object(type, selectionSets);
    if (this.flaw(0.03)) return this.random.chance(0.5) ? { not: 'a leaf' } : [1];
    if (isEnumType(type)) return this.flaw(0.1) ? 'NOT_A_VALUE' : this.random.pick(type.getValues()).name;
    switch (type.name) {
      case 'Int':
        return !this.flaw(0.05) ? this.random.int(1000) - 10 : this.random.pick([1.5, '12', true, 2 ** 40]);
      case 'Float':
        return !this.flaw(0.05) ? this.random.next() * 100 : this.random.pick(['1.5', false]);
      case 'Boolean':
        return !this.flaw(0.05) ? this.random.chance(0.5) : this.random.pick(['true', 1]);
      case 'String':
        return !this.flaw(0.05) ? `text-${this.random.int(100)}` : this.random.pick([7, false]);
      case 'ID':
        // Few distinct ids, so that entity representations repeat and the router's dedupe has work to do.
        return !this.flaw(0.05) ? `id-${this.random.int(3)}` : this.random.pick([this.random.int(3), 1.5, true]);
      default:
        return this.anyJson(); // a custom scalar takes any value
    }
  }

  private flaw(probability: number): boolean {
    return this.random.chance(probability * this.noise);
  }

  private anyJson(): unknown {
    return this.random.pick<unknown>(['text', 3, 2.5, true, null, { nested: ['value'] }, [1, 'two']]);
  }

  private compositeTypeNames(): string[] {
    let names = compositeTypeNames.get(this.schema);
    if (!names) {
      names = Object.values(this.schema.getTypeMap())
        .filter((t) => isCompositeType(t) && !t.name.startsWith('__'))
        .map((t) => t.name);
      compositeTypeNames.set(this.schema, names);
    }
    return names;
  }

  private runtimeType(type: GraphQLCompositeType, runtimeName?: string): GraphQLObjectType {
    const named = runtimeName === undefined ? type : this.schema.getType(runtimeName);
    if (isObjectType(named)) return named;
    const possible = isAbstractType(named) ? this.schema.getPossibleTypes(named) : [];
    if (possible.length > 0) return this.random.pick(possible);
    return isObjectType(type) ? type : this.random.pick(this.schema.getPossibleTypes(type));
  }

  private skipped(directives: readonly DirectiveNode[] | undefined): boolean {
    for (const directive of directives ?? []) {
      const name = directive.name.value;
      if (name !== 'skip' && name !== 'include') continue;
      const argument = directive.arguments?.find((a) => a.name.value === 'if')?.value;
      const value =
        argument?.kind === Kind.BOOLEAN
          ? argument.value
          : argument?.kind === Kind.VARIABLE
            ? this.variables[argument.name.value]
            : undefined;
      if (name === 'skip' ? value === true : value === false) return true;
    }
    return false;
  }

  private applies(typeCondition: string | undefined, runtime: GraphQLObjectType): boolean {
    if (!typeCondition || typeCondition === runtime.name) return true;
    const condition = this.schema.getType(typeCondition);
    if (isInterfaceType(condition)) return runtime.getInterfaces().includes(condition);
    if (isUnionType(condition)) return condition.getTypes().includes(runtime);
    return false;
  }

  /** graphql-js's CollectFields for one object, except that now and then a skipped or foreign selection is kept. */
  private collectFields(runtime: GraphQLObjectType, selectionSets: readonly SelectionSetNode[]): Map<string, FieldNode[]> {
    const fields = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    const collect = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        if (this.skipped(selection.directives) && !this.random.chance(0.05)) continue;
        if (selection.kind === Kind.FIELD) {
          const responseName = selection.alias?.value ?? selection.name.value;
          fields.set(responseName, [...(fields.get(responseName) ?? []), selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (this.applies(selection.typeCondition?.name.value, runtime) || this.random.chance(0.05)) collect(selection.selectionSet);
        } else {
          const fragment = this.fragments.get(selection.name.value);
          if (!fragment || visited.has(fragment.name.value)) continue;
          visited.add(fragment.name.value);
          if (this.applies(fragment.typeCondition.name.value, runtime) || this.random.chance(0.05)) collect(fragment.selectionSet);
        }
      }
    };
    selectionSets.forEach(collect);
    return fields;
  }
}

function operationOf(document: DocumentNode): OperationDefinitionNode {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation) throw new Error('no operation in the document');
  return operation;
}

/**
 * What the gateway has merged from its subgraphs for a client operation, keyed by the operation's response
 * names, as computeResponse receives it: a null-prototype root holding what JSON.parse made.
 */
export function mergedData(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  random: Random,
): Record<string, unknown> {
  const operation = operationOf(document);
  const root = operation.operation === 'mutation' ? schema.getMutationType()! : schema.getQueryType()!;
  const data: Record<string, unknown> = Object.create(null);
  new DataWriter(schema, document, variables, random, 1).fill(data, root, [operation.selectionSet]);
  return Object.assign(Object.create(null), JSON.parse(JSON.stringify(data)));
}

interface SubgraphError {
  message: string;
  path?: (string | number)[];
  extensions: Record<string, unknown>;
}

/** Now and then a field of the object fails: null, with an error at its path. */
function failSomeField(object: unknown, path: (string | number)[], random: Random, errors: SubgraphError[]): void {
  if (!object || typeof object !== 'object' || !random.chance(0.05)) return;
  const fields = Object.keys(object).filter((key) => key !== '__typename');
  if (fields.length === 0) return;
  const field = random.pick(fields);
  (object as Record<string, unknown>)[field] = null;
  errors.push({ message: 'resolver failed', path: [...path, field], extensions: { code: 'RESOLVER_FAILED' } });
}

const parsedQueries = new Map<string, DocumentNode>();

/**
 * A fake subgraph's answer to one fetch, as JSON text. Everything is derived from `seed` and what was asked, and
 * each `_entities` representation gets the same answer however many others share the request: the router sends
 * each distinct representation once (entity-dedupe.ts), a stock gateway all of them, and both must then see
 * the same subgraph. Errors come with paths, in the order of the entities; a whole fetch fails now and then.
 */
export function subgraphAnswer(schema: GraphQLSchema, url: string, body: string, seed: number, noise: number): string {
  const { query, variables = {} } = JSON.parse(body) as { query: string; variables?: Record<string, unknown> };
  let document = parsedQueries.get(query);
  if (!document) parsedQueries.set(query, (document = parse(query)));
  const operation = operationOf(document);
  const { representations, ...otherVariables } = variables as { representations?: Record<string, unknown>[] };
  const asked = `${seed}|${url}|${query}|${JSON.stringify(otherVariables)}`;
  // Decided by what both gateways ask alike: the first representation is the same after the router's dedupe.
  const request = new Random(hash(`${asked}|${JSON.stringify(representations?.[0] ?? null)}`));
  if (request.chance(0.03 * noise)) {
    return JSON.stringify({ data: null, errors: [{ message: 'the subgraph failed', extensions: { code: 'SUBGRAPH_DOWN' } }] });
  }
  const errors: SubgraphError[] = [];
  const data: Record<string, unknown> = Object.create(null);
  if (representations) {
    const entities = operation.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === '_entities');
    const responseName = entities?.alias?.value ?? '_entities';
    const entityType = schema.getType('_Entity') as GraphQLCompositeType;
    data[responseName] = representations.map((representation, index) => {
      const random = new Random(hash(`${asked}|${JSON.stringify(representation)}`));
      if (random.chance(0.05)) {
        errors.push({ message: 'entity not found', path: [responseName, index], extensions: { code: 'NOT_FOUND' } });
        return null;
      }
      const writer = new DataWriter(schema, document, variables, random, noise);
      const entity = writer.object(entityType, [entities!.selectionSet!], String(representation.__typename));
      failSomeField(entity, [responseName, index], random, errors);
      return entity;
    });
    if (request.chance(0.03)) (data[responseName] as unknown[]).pop(); // one entity short
  } else {
    const root = operation.operation === 'mutation' ? schema.getMutationType()! : schema.getQueryType()!;
    new DataWriter(schema, document, variables, request, noise).fill(data, root, [operation.selectionSet]);
    failSomeField(data, [], request, errors);
  }
  return JSON.stringify(errors.length > 0 ? { data, errors } : { data });
}
