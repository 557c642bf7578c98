import { readFileSync } from 'node:fs';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
// The schemas come from @apollo/federation-internals and go to @graphql-inspector/core, which both load graphql's
// CommonJS build. Vitest resolves a plain `graphql` import in this repository's sources to the ESM build (index.mjs),
// a second graphql whose functions refuse the first one's schemas; `graphql/index.js` is the CommonJS build under
// Node and under vitest alike.
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  Kind,
  parse,
  printSchema,
  TypeInfo,
  typeFromAST,
  validate,
  visit,
  visitWithTypeInfo,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql/index.js';
// contractViolations (api-schema.ts) validates with a plain `graphql` import, so it gets the schema rebuilt with one.
import { buildSchema, type GraphQLSchema as ContractSchema } from 'graphql';
import { apiSchemaOf, contractViolations } from './api-schema.js';
import { SUBGRAPH_NAMES, type SubgraphName } from '@shop/service/services';
import { composeSupergraph, CONTRACT_FILE, subgraphSdlFile, SUPERGRAPH_FILE } from './subgraphs.js';

export { SUBGRAPH_NAMES, type SubgraphName };

export interface CheckOptions {
  /** SDL to use instead of `subgraphs/<name>/schema.graphql`, per subgraph. The others are read from the working tree. */
  sdl?: Partial<Record<SubgraphName, string>>;
  /** Limit the report to changes coming from this subgraph's types and fields (all subgraphs are still composed). */
  subgraph?: SubgraphName;
  /** The committed supergraph; by default the contents of schema/supergraph.graphql. */
  committedSupergraph?: string;
  /** The supergraph whose API schema the new one is compared with; by default the committed supergraph. */
  baseline?: string;
  /** The client contract; by default schema/operations/storefront.graphql. */
  contract?: string;
}

export type ChangeLevel = 'BREAKING' | 'DANGEROUS' | 'NON_BREAKING';

export interface SchemaChange {
  /** graphql-inspector's change type, e.g. FIELD_REMOVED. */
  type: string;
  level: ChangeLevel;
  /** Schema coordinate of what changed: `Product.description`, `Query.products.first`, `ProductSort.NAME`, `Product`. */
  path: string;
  message: string;
  /** Why graphql-inspector rates the change as it does, when it says. */
  reason?: string;
  /** The subgraphs that define the changed element, in the old or the new supergraph; empty when no subgraph does. */
  subgraphs: SubgraphName[];
  /** Contract operations that use the changed element (and so may break). */
  operations: string[];
  /** What the owning team can do about a breaking change. */
  fix?: string;
  /** Where the element is defined in each owning subgraph's SDL (working tree), as `subgraphs/<name>/schema.graphql:<line>`. */
  locations: string[];
}

export interface BrokenOperation {
  /** Operation name in the contract, `(anonymous)` when it has none. */
  name: string;
  /** Validation errors of this operation against the new API schema, formatted as contractViolations formats them. */
  errors: string[];
  /** Paths of the breaking changes that touch this operation. */
  causes: string[];
  /** Subgraphs responsible; empty when no breaking change explains the failure. */
  subgraphs: SubgraphName[];
}

export interface CheckResult {
  ok: boolean;
  /** The subgraph the report is limited to, if any. */
  subgraph?: SubgraphName;
  /** Syntax errors of a subgraph's SDL, or composition errors (all of them, also in subgraph mode). */
  compositionErrors: string[];
  /** Set when the baseline supergraph cannot be read as a supergraph. */
  baselineError?: string;
  breaking: SchemaChange[];
  dangerous: SchemaChange[];
  safe: SchemaChange[];
  /** Contract validation errors against the new API schema (in subgraph mode, those of operations this subgraph breaks or that no change explains). */
  contractErrors: string[];
  brokenOperations: BrokenOperation[];
  /** The committed supergraph differs from what composition produces now (run `npm run compose`). Not a failure. */
  supergraphStale: boolean;
  /** In subgraph mode: how many changes of each kind come from other subgraphs and were left out. */
  elsewhere?: { breaking: number; dangerous: number; safe: number; contractErrors: number };
  /** The supergraph composed from the working tree, when composition succeeded. */
  supergraphSdl?: string;
}

export function subgraphSdlPath(name: string): string {
  return `subgraphs/${name}/schema.graphql`;
}

/**
 * Composes the subgraphs (working tree, or the given SDL overrides), compares the resulting API schema with the
 * committed supergraph's, and validates the client contract against it.
 */
export async function checkSchema(options: CheckOptions = {}): Promise<CheckResult> {
  if (options.subgraph !== undefined && !SUBGRAPH_NAMES.includes(options.subgraph)) {
    throw new Error(`Unknown subgraph "${options.subgraph}"; expected one of ${SUBGRAPH_NAMES.join(', ')}`);
  }
  const sdlOf = (name: string) => options.sdl?.[name as SubgraphName] ?? readFileSync(subgraphSdlFile(name), 'utf8');
  const sdl = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, sdlOf(name)])) as Record<SubgraphName, string>;
  const empty: CheckResult = {
    ok: false,
    subgraph: options.subgraph,
    compositionErrors: [],
    breaking: [],
    dangerous: [],
    safe: [],
    contractErrors: [],
    brokenOperations: [],
    supergraphStale: false,
  };

  // A subgraph file that is not even GraphQL makes composeSupergraph throw; report it like a composition error.
  const syntaxErrors: string[] = [];
  for (const name of SUBGRAPH_NAMES) {
    try {
      parse(sdl[name]);
    } catch (error) {
      syntaxErrors.push(`${subgraphSdlPath(name)}: ${(error as Error).message}`);
    }
  }
  if (syntaxErrors.length) return { ...empty, compositionErrors: syntaxErrors };

  const composition = composeSupergraph((name) => sdl[name as SubgraphName]);
  if (composition.errors) return { ...empty, compositionErrors: composition.errors };
  const supergraphSdl = composition.supergraphSdl;

  const committed = options.committedSupergraph ?? readFileSync(SUPERGRAPH_FILE, 'utf8');
  const baseline = options.baseline ?? committed;
  const supergraphStale = committed !== supergraphSdl;

  let oldApi: GraphQLSchema;
  let oldOwners: Map<string, Set<SubgraphName>>;
  try {
    oldApi = apiSchemaOf(baseline);
    oldOwners = ownership(baseline);
  } catch (error) {
    return {
      ...empty,
      supergraphSdl,
      supergraphStale,
      baselineError: `The baseline supergraph is not a valid supergraph: ${(error as Error).message}`,
    };
  }
  const newApi = apiSchemaOf(supergraphSdl);
  const newOwners = ownership(supergraphSdl);

  const contract = options.contract ?? readFileSync(CONTRACT_FILE, 'utf8');
  const contractDoc = parse(contract);
  const usage = contractUsage(oldApi, contractDoc);

  const changes = (await diff(oldApi, newApi)).map((change) =>
    describeChange(change, { oldApi, newApi, oldOwners, newOwners, usage, sdl }),
  );

  // Contract: the errors as contractViolations words them, each assigned to the operation it occurs in.
  const contractStrings = contractViolations(forContract(newApi), contract);
  const contractErrorNodes = validate(newApi, contractDoc);
  // Both validate the same document against the same schema, so the errors come in the same order.
  const aligned = contractErrorNodes.length === contractStrings.length;
  const breakingChanges = changes.filter((c) => c.level === 'BREAKING');
  const brokenByName = new Map<string, BrokenOperation>();
  contractErrorNodes.forEach((error, index) => {
    const line = error.locations?.[0]?.line;
    const name = (line !== undefined && operationAtLine(contractDoc, line)) || '(document)';
    let broken = brokenByName.get(name);
    if (!broken) {
      const causes = breakingChanges.filter((c) => c.operations.includes(name));
      const subgraphs = causes.some((c) => c.subgraphs.length === 0) ? [] : unique(causes.flatMap((c) => c.subgraphs));
      broken = { name, errors: [], causes: causes.map((c) => c.path), subgraphs };
      brokenByName.set(name, broken);
    }
    broken.errors.push((aligned && contractStrings[index]) || error.message);
  });
  let brokenOperations = [...brokenByName.values()];
  let contractErrors = contractStrings;

  let breaking = breakingChanges;
  let dangerous = changes.filter((c) => c.level === 'DANGEROUS');
  let safe = changes.filter((c) => c.level === 'NON_BREAKING');
  let elsewhere: CheckResult['elsewhere'];
  const subgraph = options.subgraph;
  if (subgraph) {
    // Changes no subgraph owns (schema-level ones) and contract failures no change explains are everyone's.
    const mine = (owners: SubgraphName[]) => owners.length === 0 || owners.includes(subgraph);
    const all = { breaking, dangerous, safe };
    breaking = breaking.filter((c) => mine(c.subgraphs));
    dangerous = dangerous.filter((c) => mine(c.subgraphs));
    safe = safe.filter((c) => mine(c.subgraphs));
    brokenOperations = brokenOperations.filter((op) => mine(op.subgraphs));
    contractErrors = brokenOperations.flatMap((op) => op.errors);
    elsewhere = {
      breaking: all.breaking.length - breaking.length,
      dangerous: all.dangerous.length - dangerous.length,
      safe: all.safe.length - safe.length,
      contractErrors: contractStrings.length - contractErrors.length,
    };
  }

  return {
    ok: breaking.length === 0 && contractErrors.length === 0,
    subgraph,
    compositionErrors: [],
    breaking,
    dangerous,
    safe,
    contractErrors,
    brokenOperations,
    supergraphStale,
    elsewhere,
    supergraphSdl,
  };
}

/**
 * The API schema of a supergraph, as a schema that contractViolations can validate against (see the imports above).
 */
export function contractSchemaOf(supergraphSdl: string): ContractSchema {
  return forContract(apiSchemaOf(supergraphSdl));
}

function forContract(apiSchema: GraphQLSchema): ContractSchema {
  return buildSchema(printSchema(apiSchema));
}

interface ChangeContext {
  oldApi: GraphQLSchema;
  newApi: GraphQLSchema;
  oldOwners: Map<string, Set<SubgraphName>>;
  newOwners: Map<string, Set<SubgraphName>>;
  usage: Map<string, Set<string>>;
  sdl: Record<SubgraphName, string>;
}

function describeChange(change: Change, context: ChangeContext): SchemaChange {
  const path = change.path ?? '';
  const level: ChangeLevel =
    change.criticality.level === CriticalityLevel.Breaking
      ? 'BREAKING'
      : change.criticality.level === CriticalityLevel.Dangerous
        ? 'DANGEROUS'
        : 'NON_BREAKING';
  const [typeName = '', fieldName] = path.split('.');
  // Arguments belong to their field; everything else is looked up as a type or a type member.
  const ownerKey = fieldName ? `${typeName}.${fieldName}` : typeName;
  const maps = [context.oldOwners, context.newOwners];
  const key = maps.some((map) => map.has(ownerKey)) ? ownerKey : typeName;
  const owners = new Set<SubgraphName>(maps.flatMap((map) => [...(map.get(key) ?? [])]));
  const subgraphs = SUBGRAPH_NAMES.filter((name) => owners.has(name));
  const namedType = context.oldApi.getType(typeName) ?? context.newApi.getType(typeName) ?? undefined;
  const operations = [...context.usage].filter(([, coordinates]) => uses(coordinates, path, namedType)).map(([name]) => name);
  const locations = path
    ? subgraphs.map((name) => {
        const line = lineOf(context.sdl[name], path);
        return `${subgraphSdlPath(name)}${line ? `:${line}` : ''}`;
      })
    : [];
  return {
    type: change.type,
    level,
    path,
    message: change.message,
    reason: change.criticality.reason,
    subgraphs,
    operations,
    fix: level === 'BREAKING' ? fixFor(change) : undefined,
    locations,
  };
}

/** Whether an operation using `coordinates` is affected by a change at `path`. */
function uses(coordinates: Set<string>, path: string, type: GraphQLNamedType | undefined): boolean {
  if (!path) return false;
  const [typeName = '', fieldName] = path.split('.');
  if (!fieldName) return coordinates.has(typeName);
  // Input objects and enums: an operation that takes the type from a variable may send any of its fields or values.
  if (isInputObjectType(type) || isEnumType(type)) return coordinates.has(typeName) || coordinates.has(path);
  // Output fields, and their arguments: any operation selecting the field.
  return coordinates.has(`${typeName}.${fieldName}`);
}

function fixFor(change: Change): string {
  const meta = change.meta as Record<string, unknown>;
  switch (change.type) {
    case 'FIELD_REMOVED':
      return 'Put the field back. To retire a field, mark it @deprecated(reason: "...") first and remove it only once no client operation selects it.';
    case 'FIELD_TYPE_CHANGED':
      return `Keep the type ${String(meta.oldFieldType)}. For the new type, add a field with a new name beside it and deprecate this one.`;
    case 'ENUM_VALUE_REMOVED':
      return 'Keep the enum value; mark it @deprecated(reason: "...") if it should no longer be used.';
    case 'FIELD_ARGUMENT_TYPE_CHANGED':
      return `Keep the argument's type ${String(meta.oldArgumentType)}. If a value is now always needed, give the argument a default value instead of making it required.`;
    case 'FIELD_ARGUMENT_ADDED':
      return 'Make the new argument optional, or give it a default value, so operations that do not pass it keep working.';
    case 'FIELD_ARGUMENT_REMOVED':
      return 'Put the argument back (operations that pass it would be refused); it may be deprecated and ignored instead.';
    case 'INPUT_FIELD_ADDED':
      return 'Make the new input field nullable, or give it a default value, so existing inputs stay valid.';
    case 'INPUT_FIELD_REMOVED':
      return 'Put the input field back (clients that send it would be refused); it may be ignored instead.';
    case 'INPUT_FIELD_TYPE_CHANGED':
      return `Keep the input field's type ${String(meta.oldInputFieldType)}.`;
    case 'TYPE_REMOVED':
      return 'Put the type back, or keep the fields that return it.';
    default:
      return 'Revert this change, or agree a migration with the clients before shipping it.';
  }
}

/** Which subgraphs define each type (`Type`) and each field, input field or enum value (`Type.member`) of a supergraph. */
function ownership(supergraphSdl: string): Map<string, Set<SubgraphName>> {
  const document = parse(supergraphSdl);
  const graphs = new Map<string, SubgraphName>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const name = stringArg(
        value.directives?.find((d) => d.name.value === 'join__graph'),
        'name',
      );
      if (name) graphs.set(value.name.value, name as SubgraphName);
    }
  }
  const graphsOf = (directives: readonly ConstDirectiveNode[] | undefined, directive: string) => {
    const result = new Set<SubgraphName>();
    for (const d of directives ?? []) {
      if (d.name.value !== directive) continue;
      const external = d.arguments?.find((a) => a.name.value === 'external')?.value;
      if (external?.kind === Kind.BOOLEAN && external.value) continue;
      const graph = d.arguments?.find((a) => a.name.value === 'graph')?.value;
      const name = graph?.kind === Kind.ENUM ? graphs.get(graph.value) : undefined;
      if (name) result.add(name);
    }
    return result;
  };
  const owners = new Map<string, Set<SubgraphName>>();
  for (const definition of document.definitions) {
    if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
    const typeName = definition.name.value;
    const typeGraphs = graphsOf(definition.directives as readonly ConstDirectiveNode[], 'join__type');
    if (typeGraphs.size === 0) continue; // join__*, link__* and built-in definitions
    owners.set(typeName, typeGraphs);
    if ('fields' in definition) {
      for (const field of definition.fields ?? []) {
        const fieldGraphs = graphsOf(field.directives, 'join__field');
        const declared = field.directives?.some(
          (d) => d.name.value === 'join__field' && d.arguments?.some((a) => a.name.value === 'graph'),
        );
        owners.set(`${typeName}.${field.name.value}`, declared ? fieldGraphs : typeGraphs);
      }
    }
    if ('values' in definition) {
      for (const value of definition.values ?? []) {
        const valueGraphs = graphsOf(value.directives, 'join__enumValue');
        owners.set(`${typeName}.${value.name.value}`, valueGraphs.size ? valueGraphs : typeGraphs);
      }
    }
  }
  return owners;
}

function stringArg(directive: ConstDirectiveNode | undefined, name: string): string | undefined {
  const value = directive?.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

/**
 * The schema coordinates each contract operation uses, against the schema it was written for: selected fields
 * (`Type.field`), passed arguments (`Type.field.arg`), enum literals (`Enum.VALUE`) and the types it reaches, with
 * every field and value of input objects and enums it takes from variables.
 */
function contractUsage(schema: GraphQLSchema, document: DocumentNode): Map<string, Set<string>> {
  const collect = (definition: DefinitionNode) => {
    const coordinates = new Set<string>();
    const spreads = new Set<string>();
    const addInput = (type: GraphQLNamedType) => {
      if (coordinates.has(type.name)) return;
      coordinates.add(type.name);
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          coordinates.add(`${type.name}.${field.name}`);
          addInput(getNamedType(field.type));
        }
      } else if (isEnumType(type)) {
        for (const value of type.getValues()) coordinates.add(`${type.name}.${value.name}`);
      }
    };
    const typeInfo = new TypeInfo(schema);
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        Field(node) {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          if (!parent || !field) return;
          const coordinate = `${parent.name}.${node.name.value}`;
          coordinates.add(coordinate);
          coordinates.add(getNamedType(field.type).name);
          for (const argument of node.arguments ?? []) coordinates.add(`${coordinate}.${argument.name.value}`);
        },
        VariableDefinition(node) {
          const type = typeFromAST(schema, node.type);
          if (type) addInput(getNamedType(type));
        },
        ObjectValue() {
          const type = typeInfo.getInputType();
          if (type) addInput(getNamedType(type));
        },
        EnumValue(node) {
          const type = typeInfo.getInputType();
          const named = type && getNamedType(type);
          if (named) coordinates.add(`${named.name}.${node.value}`);
        },
        InlineFragment(node) {
          if (node.typeCondition) coordinates.add(node.typeCondition.name.value);
        },
        FragmentSpread(node) {
          spreads.add(node.name.value);
        },
      }),
    );
    if (definition.kind === Kind.FRAGMENT_DEFINITION) coordinates.add(definition.typeCondition.name.value);
    return { coordinates, spreads };
  };

  const fragments = new Map<string, ReturnType<typeof collect>>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, collect(definition));
  }
  const withFragments = (own: ReturnType<typeof collect>) => {
    const all = new Set(own.coordinates);
    const pending = [...own.spreads];
    const seen = new Set<string>();
    while (pending.length) {
      const name = pending.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const fragment = fragments.get(name);
      if (!fragment) continue;
      for (const c of fragment.coordinates) all.add(c);
      pending.push(...fragment.spreads);
    }
    return all;
  };
  const usage = new Map<string, Set<string>>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    usage.set(definition.name?.value ?? '(anonymous)', withFragments(collect(definition)));
  }
  return usage;
}

/** The name of the operation (or `fragment Name`) that spans a line of the contract. */
function operationAtLine(document: DocumentNode, line: number): string | undefined {
  for (const definition of document.definitions) {
    const loc = definition.loc;
    if (!loc || line < loc.startToken.line || line > loc.endToken.line) continue;
    if (definition.kind === Kind.OPERATION_DEFINITION) return definition.name?.value ?? '(anonymous)';
    if (definition.kind === Kind.FRAGMENT_DEFINITION) return `fragment ${definition.name.value}`;
  }
  return undefined;
}

/** The line of a subgraph SDL where the element at `path` is defined, or its closest defined parent. */
function lineOf(sdl: string, path: string): number | undefined {
  let document: DocumentNode;
  try {
    document = parse(sdl);
  } catch {
    return undefined;
  }
  const [typeName, memberName, argumentName] = path.split('.');
  let best: number | undefined;
  for (const definition of document.definitions) {
    if (!('name' in definition) || definition.name?.value !== typeName) continue;
    best ??= definition.name?.loc?.startToken.line;
    if (!memberName) return best;
    const members = [
      ...('fields' in definition ? (definition.fields ?? []) : []),
      ...('values' in definition ? (definition.values ?? []) : []),
    ];
    const member = members.find((m) => m.name.value === memberName);
    if (!member) continue;
    if (argumentName && 'arguments' in member) {
      const argument = member.arguments?.find((a) => a.name.value === argumentName);
      if (argument) return argument.name.loc?.startToken.line;
    }
    return member.name.loc?.startToken.line;
  }
  return best;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
