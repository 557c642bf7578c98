import { Kind, parse, print, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * Which products fetches the entity cache may answer: those that read only fields that are the same for every
 * caller. products' resolvers of these fields never look at the viewer (subgraphs/products/src/resolvers), so
 * their answer depends only on the query and its variables.
 */

/** The public types' fields, each with its type, or null for a leaf; `__typename` is public everywhere. */
const PUBLIC_FIELDS: Record<string, Record<string, string | null>> = {
  /** The root fields: the catalogue, and a product by id or sku (never heldReservations, an internal one). */
  Query: { products: 'ProductConnection', product: 'Product', productBySku: 'Product' },
  ProductConnection: { edges: 'ProductEdge', pageInfo: 'PageInfo', totalCount: null },
  ProductEdge: { cursor: null, node: 'Product' },
  PageInfo: { hasNextPage: null, endCursor: null },
  Product: { id: null, sku: null, name: null, description: null, category: null, stock: null, inStock: null, price: 'Money' },
  Money: { amount: null, currency: null },
};

/** How a products fetch is cached: entities under their printed selection, a query of public root fields, or not. */
export type CacheableFetch = { kind: 'entities'; selection: string } | { kind: 'root' } | null;

export function cacheableFetch(query: string): CacheableFetch {
  let document;
  try {
    document = parse(query);
  } catch {
    return null;
  }
  const [operation, ...others] = document.definitions;
  if (others.length || operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query' || operation.directives?.length)
    return null;
  const selection = entitiesSelection(operation);
  if (selection) return { kind: 'entities', selection };
  return publicOnly(operation.selectionSet, 'Query', true) ? { kind: 'root' } : null;
}

/** The printed `_entities` selection of an entity fetch that reads only public Product fields, or null. */
function entitiesSelection(operation: OperationDefinitionNode): string | null {
  if (operation.variableDefinitions?.some((v) => v.variable.name.value !== 'representations')) return null;
  const [entities, ...more] = operation.selectionSet.selections;
  if (more.length || entities?.kind !== Kind.FIELD || entities.name.value !== '_entities' || entities.alias || entities.directives?.length)
    return null;
  const onProducts = entities.selectionSet?.selections.every((selection) =>
    selection.kind === Kind.INLINE_FRAGMENT
      ? selection.typeCondition?.name.value === 'Product' &&
        !selection.directives?.length &&
        publicOnly(selection.selectionSet, 'Product', false)
      : selection.kind === Kind.FIELD && selection.name.value === '__typename' && !selection.alias && !selection.directives?.length,
  );
  return onProducts ? print(entities.selectionSet!) : null;
}

/**
 * Whether a selection of `type` reads only public fields, with arguments only on the root fields. `byText`: a
 * root query, whose entry is keyed by its whole text and variables; these decide aliases, `@skip`/`@include`
 * and inline fragments on the same type, so products answers them alike for every caller and they are allowed.
 * An entity entry is keyed by selection and product id, without variables: plain fields only. Any other
 * directive (its meaning unknown here) and named fragments are never cached.
 */
function publicOnly(selectionSet: SelectionSetNode, type: string, byText: boolean): boolean {
  return selectionSet.selections.every((selection) => {
    if (selection.directives?.length && !(byText && selection.directives.every((d) => ['skip', 'include'].includes(d.name.value))))
      return false;
    if (selection.kind === Kind.INLINE_FRAGMENT)
      return (
        byText &&
        (!selection.typeCondition || selection.typeCondition.name.value === type) &&
        publicOnly(selection.selectionSet, type, byText)
      );
    if (selection.kind !== Kind.FIELD || (selection.alias && !byText)) return false;
    if (selection.arguments?.length && type !== 'Query') return false;
    const name = selection.name.value;
    if (name === '__typename') return !selection.arguments?.length && !selection.selectionSet;
    const fields = PUBLIC_FIELDS[type]!;
    if (!Object.hasOwn(fields, name)) return false;
    const fieldType = fields[name];
    return fieldType ? !!selection.selectionSet && publicOnly(selection.selectionSet, fieldType, byText) : !selection.selectionSet;
  });
}
