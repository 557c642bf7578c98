import {
  GraphQLError,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { estimateCost, limitRules, type OperationLimits } from '../limits.js';

/** What a client sends to subscribe, over either transport. */
export interface SubscriptionPayload {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

/**
 * What a graphql-ws subscribe payload becomes before it is validated (trusted documents: a manifest id becomes
 * its document, a document not in the list is refused); HTTP requests go through the /graphql preHandlers instead.
 */
export type OperationResolver = (payload: SubscriptionPayload) => SubscriptionPayload | GraphQLError;

export type Validated =
  | { ok: true; query: string; document: DocumentNode; operationName?: string; variables: Record<string, unknown> }
  /** `notSubscription`: a valid query or mutation, which is HTTP's to answer. */
  | { ok: false; errors: GraphQLError[]; notSubscription?: boolean };

const refused = (code: string, message: string) => [new GraphQLError(message, { extensions: { code } })];

/**
 * Checks a subscription as Apollo Server checks a query before the gateway sees it: parsed within the token
 * limit, validated against the API schema with the router's limit rules (depth, aliases, directives, root fields),
 * variables coerced, and the estimated cost within MAX_QUERY_COST. Parsing and validation are remembered per query
 * text and schema.
 */
export class SubscriptionValidator {
  private readonly documents = new Map<string, { schema: GraphQLSchema; document?: DocumentNode; errors?: GraphQLError[] }>();
  private readonly rules: ValidationRule[];

  constructor(private readonly limits: OperationLimits) {
    this.rules = [...specifiedRules, ...limitRules(limits)];
  }

  check(schema: GraphQLSchema, payload: SubscriptionPayload): Validated {
    const { query, operationName, variables } = payload;
    if (typeof query !== 'string' || query.length === 0) return { ok: false, errors: refused('BAD_REQUEST', 'The request has no query') };
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
      return { ok: false, errors: refused('BAD_REQUEST', 'operationName must be a string') };
    }
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
      return { ok: false, errors: refused('BAD_REQUEST', 'variables must be an object') };
    }
    const parsed = this.parsed(schema, query);
    if (parsed.errors) return { ok: false, errors: parsed.errors };
    const document = parsed.document!;
    const name = operationName ?? undefined;
    const operation = getOperationAST(document, name);
    if (!operation) {
      return {
        ok: false,
        errors: refused('OPERATION_RESOLUTION_FAILURE', name ? `Unknown operation named "${name}".` : 'Must provide an operation name.'),
      };
    }
    if (operation.operation !== 'subscription') {
      return {
        ok: false,
        notSubscription: true,
        errors: refused('BAD_REQUEST', 'Only subscriptions are served over this transport; send queries and mutations over HTTP.'),
      };
    }
    const values = (variables ?? {}) as Record<string, unknown>;
    try {
      const cost = estimateCost(schema, operation, document, values, this.limits.listSize);
      if (cost > this.limits.cost) {
        return {
          ok: false,
          errors: [
            new GraphQLError(`The operation's estimated cost exceeds the limit of ${this.limits.cost}.`, {
              extensions: { code: 'COST_ESTIMATED_TOO_EXPENSIVE', cost: Number.isFinite(cost) ? cost : null, maxCost: this.limits.cost },
            }),
          ],
        };
      }
    } catch (error) {
      if (error instanceof GraphQLError) return { ok: false, errors: [error] };
      throw error;
    }
    return { ok: true, query, document, ...(name && { operationName: name }), variables: values };
  }

  private parsed(schema: GraphQLSchema, query: string) {
    const known = this.documents.get(query);
    if (known?.schema === schema) return known;
    let entry: { schema: GraphQLSchema; document?: DocumentNode; errors?: GraphQLError[] };
    try {
      const document = parse(query, { maxTokens: this.limits.tokens });
      const errors = validate(schema, document, this.rules).map((error) =>
        error.extensions.code
          ? error
          : new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
      );
      entry = errors.length > 0 ? { schema, errors } : { schema, document };
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      entry = { schema, errors: [new GraphQLError(error.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
    }
    // Query texts are the clients' to choose: a bounded memory of them.
    if (this.documents.size >= 500) this.documents.clear();
    this.documents.set(query, entry);
    return entry;
  }
}
