import { clientError, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '@shop/service';
import { isUuid } from './validation.js';

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

/** What the first half of a cursor holds: a time (epoch milliseconds), a 32-bit integer (a price), or text (a name). */
export type CursorKey = 'timestamp' | 'integer' | 'text';

/** Keys as a row could have them: a Date can hold the time, PostgreSQL's integer the number, a name column the text. */
const validKey: Record<CursorKey, (key: unknown) => boolean> = {
  timestamp: (key) => Number.isInteger(key) && Math.abs(key as number) <= 8.64e15,
  integer: (key) => Number.isInteger(key) && (key as number) >= -(2 ** 31) && (key as number) < 2 ** 31,
  text: (key) => typeof key === 'string' && key.length <= 1_000,
};

type KeyOf<T extends CursorKey> = T extends 'text' ? string : number;

/**
 * Reads a cursor from `encodeCursor`. A cursor is the client's to send, so anything that could not have come from
 * this list (another list's, a key no row could have, an id that is not a UUID) is BAD_USER_INPUT before it
 * reaches SQL.
 */
export function decodeCursor<T extends CursorKey>(
  cursor: string | null | undefined,
  kind: string,
  keyType: T,
): { key: KeyOf<T>; id: string } | null {
  if (cursor === null || cursor === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== kind || !validKey[keyType](parsed[1]) || !isUuid(parsed[2])) {
    throw clientError('BAD_USER_INPUT', '`after` is not a cursor from this list');
  }
  return { key: parsed[1] as KeyOf<T>, id: parsed[2] as string };
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
