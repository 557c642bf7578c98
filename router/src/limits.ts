import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { envInt, type LIMIT_CODES } from '@shop/service';
import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isListType,
  visit,
  type ASTVisitor,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';

/**
 * How big an operation the router accepts. Everything here is checked at the router, before any subgraph is
 * called; see docs/security.md for the reasoning behind each default.
 */
export interface OperationLimits {
  /** Nesting of selections, introspection excepted (`MAX_QUERY_DEPTH`). */
  depth: number;
  /** Aliased fields in one operation (`MAX_QUERY_ALIASES`). */
  aliases: number;
  /** Fields selected at the root of one operation (`MAX_ROOT_FIELDS`). */
  rootFields: number;
  /** Lexical tokens in one document, enforced while parsing (`MAX_QUERY_TOKENS`). */
  tokens: number;
  /** Directives in one operation (`MAX_QUERY_DIRECTIVES`). */
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

/** `first` as the subgraphs read it: 20 when absent, never more than 100. */
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;
/** Apollo Router's demand control charges a mutation this much on top of what it selects. */
const MUTATION_COST = 10;

/**
 * GraphQL Armor reports a refusal as a GraphQLError of its own ("Syntax Error: …"); ours carries a stable
 * code instead. Apollo Server files it under GRAPHQL_VALIDATION_FAILED with HTTP 400, and the kit's formatError
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
          context.reportError(
            new GraphQLError(`Root fields limit of ${limit} exceeded, found ${found}.`, {
              nodes: [operation],
              extensions: { code: 'MAX_ROOT_FIELDS_LIMIT' satisfies LimitCode },
            }),
          );
        }
      },
    };
  };
}

/** The validation rules that enforce the static limits: depth, aliases, root fields and directives. */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.depth, ignoreIntrospection: true, ...refuseWith('MAX_DEPTH_LIMIT') }),
    maxAliasesRule({ n: limits.aliases, ...refuseWith('MAX_ALIASES_LIMIT') }),
    maxDirectivesRule({ n: limits.directives, ...refuseWith('MAX_DIRECTIVES_LIMIT') }),
    maxRootFieldsRule(limits.rootFields),
  ] as ValidationRule[];
}

/**
 * The cost model, after Apollo Router's demand control: each object a query selects costs 1, scalars and enums
 * nothing, a mutation 10 more. A field with a `first` argument (a connection) multiplies what it selects by
 * `first` (20 if absent, at most 100, as the subgraphs read it); the `edges` of a connection are that same page;
 * any other list is assumed to hold `listSize` items. Introspection costs nothing here: it is bounded by the
 * schema, and by the depth, alias and token limits.
 */
export function costEstimator(listSize: number): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    if (field.name.startsWith('__')) return 0;
    const own = isCompositeType(getNamedType(field.type)) ? 1 : 0;
    const mutation = type.name === 'Mutation' ? MUTATION_COST : 0;
    let items = 1;
    if (field.args.some((arg) => arg.name === 'first')) {
      const first = typeof args.first === 'number' ? args.first : DEFAULT_PAGE_SIZE;
      items = Math.max(0, Math.min(first, MAX_PAGE_SIZE));
    } else if (isListType(getNullableType(field.type)) && !type.name.endsWith('Connection')) {
      items = listSize;
    }
    return mutation + own + items * childComplexity;
  };
}

/** Refuses variables that do not fit the operation's declarations, before any subgraph sees them. */
function coerceVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Record<string, unknown>): void {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 5 });
  if (coerced.errors) throw refused('BAD_USER_INPUT', coerced.errors.map((error) => error.message).join('\n'));
}

/** The variables a document passes as a `first` argument, anywhere in it. */
function variablesPassedAsFirst(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Argument(node) {
      if (node.name.value === 'first' && node.value.kind === Kind.VARIABLE) names.add(node.value.name.value);
    },
  });
  return [...names].sort();
}

function refused(code: string, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code, http: { status: 400, headers: new HeaderMap() } } });
}

/** Estimates an operation's cost from its document and variables; throws BAD_USER_INPUT for bad variables. */
export function estimateCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  document: Parameters<typeof getComplexity>[0]['query'],
  variables: Record<string, unknown>,
  listSize: number,
): number {
  coerceVariables(schema, operation, variables);
  try {
    return getComplexity({
      schema,
      query: document,
      operationName: operation.name?.value,
      variables,
      estimators: [costEstimator(listSize)],
    });
  } catch {
    // graphql-query-complexity gives up on documents that expand past 10,000 nodes (fragment bombs).
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Refuses an operation whose estimated cost is over the limit. It runs once the operation is resolved (cost
 * depends on the variables, so it cannot be a cached validation rule) and before the gateway plans any fetch.
 */
export function costLimitPlugin<TContext extends BaseContext>(limits: OperationLimits): ApolloServerPlugin<TContext> {
  // A cost depends on the document and on the variables it passes as `first`, nothing else: it is worked out
  // once per document and page sizes (Apollo Server hands the same parsed document to every request that sends
  // the same text) instead of walking the operation again on every request.
  const costs = new WeakMap<DocumentNode, { firstVariables: string[]; byPageSizes: Map<string, number> }>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const variables = request.variables ?? {};
          let known = costs.get(document);
          if (!known) costs.set(document, (known = { firstVariables: variablesPassedAsFirst(document), byPageSizes: new Map() }));
          const key = JSON.stringify([operation.name?.value, ...known.firstVariables.map((name) => variables[name])]);
          let cost = known.byPageSizes.get(key);
          if (cost === undefined) {
            cost = estimateCost(schema, operation, document, variables, limits.listSize);
            // Page sizes are the client's to choose: keep a few per document, not every one ever sent.
            if (known.byPageSizes.size >= 32) known.byPageSizes.clear();
            known.byPageSizes.set(key, cost);
          } else {
            coerceVariables(schema, operation, variables);
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
