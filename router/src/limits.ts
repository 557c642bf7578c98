import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, envInt, type LIMIT_CODES } from '@shop/service';
import {
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  valueFromAST,
  visit,
  type ASTNode,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/**
 * How big an operation the router accepts. Everything here is checked at the router, before any subgraph is
 * called; see docs/security.md for the reasoning behind each default.
 */
export interface OperationLimits {
  /** Nesting of selections, introspection excepted (`MAX_QUERY_DEPTH`). */
  depth: number;
  /** Aliased fields in one operation, each fragment counted at every spread (`MAX_QUERY_ALIASES`). */
  aliases: number;
  /** Fields selected at the root of one operation (`MAX_ROOT_FIELDS`). */
  rootFields: number;
  /** Lexical tokens in one document, enforced while parsing (`MAX_QUERY_TOKENS`). */
  tokens: number;
  /** Directives in one operation, each fragment counted at every spread (`MAX_QUERY_DIRECTIVES`). */
  directives: number;
  /** Estimated cost of one operation (`MAX_QUERY_COST`); see `estimateCost`. */
  cost: number;
  /** Assumed length of a list that has no `first` argument, such as an order's items (`COST_LIST_SIZE`). */
  listSize: number;
}

export function operationLimits(): OperationLimits {
  return {
    depth: envInt('MAX_QUERY_DEPTH', 10),
    aliases: envInt('MAX_QUERY_ALIASES', 15),
    rootFields: envInt('MAX_ROOT_FIELDS', 10),
    tokens: envInt('MAX_QUERY_TOKENS', 1_000),
    directives: envInt('MAX_QUERY_DIRECTIVES', 50),
    cost: envInt('MAX_QUERY_COST', 5_000),
    listSize: envInt('COST_LIST_SIZE', 10),
  };
}

type LimitCode = (typeof LIMIT_CODES)[number];

/** Apollo Router's demand control charges a mutation this much on top of what it selects. */
const MUTATION_COST = 10;

/**
 * GraphQL Armor reports a refusal as a GraphQLError of its own ("Syntax Error: …"); ours carries a stable
 * code instead. Apollo Server files it under GRAPHQL_VALIDATION_FAILED with HTTP 400, and @shop/service's formatError
 * gives the code back.
 */
function refuseWith(code: LimitCode) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code } })),
    ],
  };
}

function limitError(code: LimitCode, message: string, operation: OperationDefinitionNode): GraphQLError {
  return new GraphQLError(message, { nodes: [operation], extensions: { code } });
}

/** Counts the fields an operation selects at its root, through fragments, and refuses too many. */
function maxRootFieldsRule(limit: number): ValidationRule {
  return (context): ASTVisitor => {
    const count = (selectionSet: SelectionSetNode, seen: Set<string>): number => {
      let fields = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) fields += selection.name.value === '__typename' ? 0 : 1;
        else if (selection.kind === Kind.INLINE_FRAGMENT) fields += count(selection.selectionSet, seen);
        else if (!seen.has(selection.name.value)) {
          seen.add(selection.name.value);
          const fragment = context.getFragment(selection.name.value);
          if (fragment) fields += count(fragment.selectionSet, seen);
        }
      }
      return fields;
    };
    return {
      OperationDefinition(operation: OperationDefinitionNode) {
        const found = count(operation.selectionSet, new Set());
        if (found > limit) {
          context.reportError(limitError('MAX_ROOT_FIELDS_LIMIT', `Root fields limit of ${limit} exceeded, found ${found}.`, operation));
        }
      },
    };
  };
}

interface Counts {
  aliases: number;
  directives: number;
}

/**
 * Counts the aliases and directives an operation expands to, and refuses too many of either: a fragment
 * counts again at every spread, with the spread's own directives. Each fragment is counted once and
 * remembered, so a fragment bomb (fragments spreading fragments many times) costs time linear in the document.
 * Aliases of `__typename` do not count (GraphQL Armor's allow-list, kept): they cost nothing to answer.
 */
function maxAliasesAndDirectivesRule(limits: Pick<OperationLimits, 'aliases' | 'directives'>): ValidationRule {
  return (context): ASTVisitor => {
    const fragmentCounts = new Map<string, Counts>();
    const add = (counts: Counts, more: Counts) => {
      counts.aliases += more.aliases;
      counts.directives += more.directives;
    };
    const countFragment = (name: string): Counts => {
      let counts = fragmentCounts.get(name);
      if (!counts) {
        // Remembered before it is counted: a cycle, which graphql-js refuses, then adds nothing instead of recursing.
        fragmentCounts.set(name, (counts = { aliases: 0, directives: 0 }));
        const fragment = context.getFragment(name);
        if (fragment) add(counts, countSelections(fragment.selectionSet, { aliases: 0, directives: fragment.directives?.length ?? 0 }));
      }
      return counts;
    };
    const countSelections = (selectionSet: SelectionSetNode, counts: Counts): Counts => {
      for (const selection of selectionSet.selections) {
        counts.directives += selection.directives?.length ?? 0;
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          add(counts, countFragment(selection.name.value));
          continue;
        }
        if (
          selection.kind === Kind.FIELD &&
          selection.alias &&
          selection.alias.value !== '__typename' &&
          selection.name.value !== '__typename'
        ) {
          counts.aliases += 1;
        }
        if (selection.selectionSet) countSelections(selection.selectionSet, counts);
      }
      return counts;
    };
    return {
      OperationDefinition(operation: OperationDefinitionNode) {
        const found = countSelections(operation.selectionSet, { aliases: 0, directives: operation.directives?.length ?? 0 });
        if (found.aliases > limits.aliases) {
          context.reportError(
            limitError('MAX_ALIASES_LIMIT', `Aliases limit of ${limits.aliases} exceeded, found ${found.aliases}.`, operation),
          );
        }
        if (found.directives > limits.directives) {
          context.reportError(
            limitError('MAX_DIRECTIVES_LIMIT', `Directives limit of ${limits.directives} exceeded, found ${found.directives}.`, operation),
          );
        }
      },
    };
  };
}

/** The validation rules that enforce the static limits: depth, aliases, directives and root fields. */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.depth, ignoreIntrospection: true, ...refuseWith('MAX_DEPTH_LIMIT') }) as ValidationRule,
    maxAliasesAndDirectivesRule(limits),
    maxRootFieldsRule(limits.rootFields),
  ];
}

type VariableValues = Record<string, unknown>;

/** Coerces the variables as execution will (defaults applied, absent kept apart from null); BAD_USER_INPUT if they do not fit. */
function coerceVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Record<string, unknown>): VariableValues {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 5 });
  if (coerced.errors) throw refused('BAD_USER_INPUT', coerced.errors.map((error) => error.message).join('\n'));
  return coerced.coerced;
}

/**
 * The cost model, after Apollo Router's demand control: each object a query selects costs 1, scalars and enums
 * nothing, a mutation 10 more. A field with a `first` argument (a connection) multiplies what it selects by
 * `first` (20 if absent or null, at most 100, as the subgraphs read it); the `edges` of a connection are that
 * same page; any other list is assumed to hold `listSize` items. What `@skip` or `@include` leaves out costs
 * nothing. A fragment costs what it selects at every spread, and inline fragments on different types all
 * count. Introspection costs nothing here: it is bounded by the schema, and by the depth, alias and token limits.
 *
 * It reads the variables passed as `first`, `@skip(if:)` and `@include(if:)`, nothing else (see
 * `costVariables`), and each fragment once: a fragment bomb costs time linear in the document.
 */
function costOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: VariableValues,
  listSize: number,
) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentCosts = new Map<string, number>();

  const included = (selection: SelectionNode) =>
    getDirectiveValues(GraphQLSkipDirective, selection, variables)?.if !== true &&
    getDirectiveValues(GraphQLIncludeDirective, selection, variables)?.if !== false;

  const selectionsCost = (selectionSet: SelectionSetNode, type: GraphQLNamedType | undefined): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) cost += fieldCost(selection, type);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        cost += selectionsCost(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type);
      } else cost += fragmentCost(selection.name.value);
    }
    return cost;
  };

  const fragmentCost = (name: string): number => {
    let cost = fragmentCosts.get(name);
    if (cost === undefined) {
      fragmentCosts.set(name, 0); // a cycle, which graphql-js refuses, adds nothing instead of recursing
      const fragment = fragments.get(name);
      cost = fragment ? selectionsCost(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value)) : 0;
      fragmentCosts.set(name, cost);
    }
    return cost;
  };

  const fieldCost = (node: FieldNode, parentType: GraphQLNamedType | undefined): number => {
    if (node.name.value.startsWith('__') || !(isObjectType(parentType) || isInterfaceType(parentType))) return 0;
    const field = parentType.getFields()[node.name.value];
    if (!field) return 0;
    const type = getNamedType(field.type);
    const own = isCompositeType(type) ? 1 : 0;
    const mutation = parentType === schema.getMutationType() ? MUTATION_COST : 0;
    const selected = node.selectionSet ? selectionsCost(node.selectionSet, type) : 0;
    return mutation + own + itemsOf(node, field, parentType) * selected;
  };

  const itemsOf = (node: FieldNode, field: GraphQLField<unknown, unknown>, parentType: GraphQLNamedType): number => {
    const firstArgument = field.args.find((argument) => argument.name === 'first');
    if (firstArgument) {
      // As execution reads an argument: a variable the request leaves out (after defaults) leaves it out.
      const given = node.arguments?.find((argument) => argument.name.value === 'first')?.value;
      let first = firstArgument.defaultValue;
      if (given?.kind === Kind.VARIABLE) {
        if (Object.hasOwn(variables, given.name.value)) first = variables[given.name.value];
      } else if (given) {
        first = valueFromAST(given, firstArgument.type);
      }
      return typeof first === 'number' ? Math.max(0, Math.min(first, MAX_PAGE_SIZE)) : DEFAULT_PAGE_SIZE;
    }
    return isListType(getNullableType(field.type)) && !parentType.name.endsWith('Connection') ? listSize : 1;
  };

  try {
    return selectionsCost(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
  } catch (error) {
    // getDirectiveValues refuses a null `if`, which a defaulted nullable variable can pass; so would execution.
    if (error instanceof GraphQLError) throw refused('BAD_USER_INPUT', error.message);
    throw error;
  }
}

/** Estimates an operation's cost from its document and variables; throws BAD_USER_INPUT for bad variables. */
export function estimateCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  document: DocumentNode,
  variables: Record<string, unknown>,
  listSize: number,
): number {
  return costOf(schema, document, operation, coerceVariables(schema, operation, variables), listSize);
}

/** Every variable `costOf` reads: those passed as `first`, or to `@skip` and `@include`, anywhere in the document. */
function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (node: ASTNode) =>
    visit(node, {
      Variable(variable) {
        names.add(variable.name.value);
      },
    });
  visit(document, {
    Field(field) {
      for (const argument of field.arguments ?? []) if (argument.name.value === 'first') collect(argument.value);
    },
    Directive(directive) {
      if (directive.name.value === GraphQLSkipDirective.name || directive.name.value === GraphQLIncludeDirective.name) collect(directive);
    },
  });
  return [...names].sort();
}

function refused(code: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code, http: { status: 400, headers: new HeaderMap() } } });
}

/**
 * Refuses an operation whose estimated cost is over the limit. It runs once the operation is resolved (cost
 * depends on the variables, so it cannot be a cached validation rule) and before the gateway plans any fetch.
 */
export function costLimitPlugin<TContext extends BaseContext>(limits: OperationLimits): ApolloServerPlugin<TContext> {
  // A cost depends on the schema, the operation (Apollo Server hands the same parsed document to every request
  // that sends the same text) and the coerced values of the variables in `costVariables`, nothing else. It is
  // remembered under exactly those, so a request is never judged by another request's variables.
  const costs = new WeakMap<OperationDefinitionNode, { schema: GraphQLSchema; variables: string[]; byValues: Map<string, number> }>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const variables = coerceVariables(schema, operation, request.variables ?? {});
          let known = costs.get(operation);
          if (known?.schema !== schema) {
            costs.set(operation, (known = { schema, variables: costVariables(document), byValues: new Map() }));
          }
          // An absent variable is kept apart from a null one.
          const key = JSON.stringify(known.variables.map((name) => (Object.hasOwn(variables, name) ? [variables[name]] : [])));
          let cost = known.byValues.get(key);
          if (cost === undefined) {
            cost = costOf(schema, document, operation, variables, limits.listSize);
            // Values are the client's to choose: keep a few per operation, not every one ever sent.
            if (known.byValues.size >= 32) known.byValues.clear();
            known.byValues.set(key, cost);
          }
          if (cost > limits.cost) {
            throw refused('COST_ESTIMATED_TOO_EXPENSIVE', `The operation's estimated cost exceeds the limit of ${limits.cost}.`, {
              cost: Number.isFinite(cost) ? cost : null,
              maxCost: limits.cost,
            });
          }
        },
      };
    },
  };
}
