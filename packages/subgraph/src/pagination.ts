import { clientError, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '@shop/service';

/** `first` defaults to 20 and is capped at 100; a negative one is a client mistake. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw clientError('BAD_USER_INPUT', '`first` must be a non-negative integer');
  return Math.min(first, MAX_PAGE_SIZE);
}

/**
 * Opaque keyset cursors: the sort key of the last row seen plus its id, so a page is one indexed range scan
 * instead of an OFFSET. `kind` names the sort order, so a cursor from one order is refused by another.
 */
export function encodeCursor(kind: string, key: string | number, id: string): string {
  return Buffer.from(JSON.stringify([kind, key, id])).toString('base64url');
}

export function decodeCursor<K extends string | number>(
  cursor: string | null | undefined,
  kind: string,
  keyType: 'string' | 'number',
): { key: K; id: string } | null {
  if (cursor === null || cursor === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== kind ||
    typeof parsed[1] !== keyType ||
    typeof parsed[2] !== 'string'
  ) {
    throw clientError('BAD_USER_INPUT', '`after` is not a cursor from this list');
  }
  return { key: parsed[1] as K, id: parsed[2] };
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** Counted only when a client asks for it: graphql-js calls function-valued fields. */
  totalCount: () => Promise<number>;
}

/** Builds a connection from rows fetched with `limit: size + 1`; the extra row only says there is a next page. */
export function toConnection<T>(rows: T[], size: number, cursorOf: (row: T) => string, totalCount: () => Promise<number>): Connection<T> {
  const page = rows.slice(0, size);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount,
  };
}
