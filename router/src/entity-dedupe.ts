import type { GraphQLFormattedError } from 'graphql';

/**
 * @apollo/gateway sends one representation per occurrence of an entity: an order history of 20 orders that all
 * contain the same 3 products asks the products subgraph for 60 entities. Sending each distinct representation
 * once and spreading the answers back over the original positions keeps the subgraph's work and the JSON on
 * both sides proportional to the distinct entities.
 */
export interface DedupedRepresentations {
  /** The distinct representations, in first-seen order. */
  unique: unknown[];
  /** For each original position, the index of its representation in `unique`. */
  positions: number[];
}

export function dedupeRepresentations(representations: unknown[]): DedupedRepresentations | null {
  const indexByKey = new Map<string, number>();
  const unique: unknown[] = [];
  const positions = representations.map((representation) => {
    const key = JSON.stringify(representation);
    let index = indexByKey.get(key);
    if (index === undefined) {
      index = unique.push(representation) - 1;
      indexByKey.set(key, index);
    }
    return index;
  });
  return unique.length < representations.length ? { unique, positions } : null;
}

/** Spreads `_entities` and the errors that point into it back over the original positions. */
export function expandEntities<T extends { data?: Record<string, unknown> | null; errors?: readonly GraphQLFormattedError[] }>(
  response: T,
  { positions }: DedupedRepresentations,
): T {
  const entities = response.data?._entities;
  const data = Array.isArray(entities) ? { ...response.data, _entities: positions.map((index) => entities[index] ?? null) } : response.data;
  const errors = response.errors?.flatMap((error) => {
    const [root, index, ...rest] = error.path ?? [];
    if (root !== '_entities' || typeof index !== 'number') return [error];
    return positions.flatMap((unique, original) => (unique === index ? [{ ...error, path: ['_entities', original, ...rest] }] : []));
  });
  return { ...response, data, ...(errors && { errors }) };
}
