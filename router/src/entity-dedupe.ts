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

/** A deep copy of a value JSON.parse made, with the same own keys (a `__proto__` key stays a key). */
function copyJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = copyJson((value as Record<string, unknown>)[key]);
    if (key === '__proto__') Object.defineProperty(copy, key, { value: field, writable: true, enumerable: true, configurable: true });
    else copy[key] = field;
  }
  return copy;
}

/**
 * Spreads `_entities` and the errors that point into it back over the original positions: the response the
 * subgraph would have given for the full list. Every position gets an entity of its own, since the gateway
 * completes each in place from the entity it merges into (its __typename, the rewrites of @interfaceObject),
 * and two positions that share a representation need not share that. Errors about entities come in the order
 * of the positions, where the first of them stood. A list of the wrong length stays as it is, for the gateway
 * to refuse as it would refuse the full list's.
 */
export function expandEntities<T extends { data?: Record<string, unknown> | null; errors?: readonly GraphQLFormattedError[] }>(
  response: T,
  { unique, positions }: DedupedRepresentations,
): T {
  const entities = response.data?._entities;
  let data = response.data;
  if (Array.isArray(entities) && entities.length === unique.length) {
    const handedOut = new Array<boolean>(unique.length).fill(false);
    const spread = positions.map((index) => {
      if (handedOut[index]) return copyJson(entities[index]);
      handedOut[index] = true;
      return entities[index];
    });
    data = { ...response.data, _entities: spread };
  }
  if (!response.errors) return { ...response, data };
  const errors: GraphQLFormattedError[] = [];
  const errorsByEntity = new Map<number, GraphQLFormattedError[]>();
  let entityErrorsAt: number | undefined;
  for (const error of response.errors) {
    const [root, index] = error.path ?? [];
    if (root === '_entities' && typeof index === 'number' && index >= 0 && index < unique.length) {
      entityErrorsAt ??= errors.length;
      errorsByEntity.set(index, [...(errorsByEntity.get(index) ?? []), error]);
    } else {
      errors.push(error);
    }
  }
  const entityErrors = positions.flatMap((index, original) =>
    (errorsByEntity.get(index) ?? []).map((error) => ({ ...error, path: ['_entities', original, ...error.path!.slice(2)] })),
  );
  errors.splice(entityErrorsAt ?? errors.length, 0, ...entityErrors);
  return { ...response, data, errors };
}
