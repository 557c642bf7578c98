import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/pagination.js';

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const UUID = '0b6f6d2e-5d0a-4c52-9d5e-6f1c1f0e8a11';

describe('decodeCursor', () => {
  it('reads back what encodeCursor wrote', () => {
    expect(decodeCursor(encodeCursor('products:NEWEST', 1_767_225_600_000, UUID), 'products:NEWEST', 'timestamp')).toEqual({
      key: 1_767_225_600_000,
      id: UUID,
    });
    expect(decodeCursor(encodeCursor('products:NAME', 'Kite', UUID), 'products:NAME', 'text')).toEqual({ key: 'Kite', id: UUID });
    expect(decodeCursor(null, 'products:NAME', 'text')).toBeNull();
  });

  it.each([
    ['a date no Date can hold', cursor(['k', 1e300, UUID]), 'timestamp'],
    ['a fractional date', cursor(['k', 1.5, UUID]), 'timestamp'],
    ['a fractional price', cursor(['k', 1.5, UUID]), 'integer'],
    ['a price past 2^31', cursor(['k', 2 ** 31, UUID]), 'integer'],
    ['an id that is not a UUID', cursor(['k', 5, 'not-a-uuid']), 'integer'],
    ['a name longer than any name', cursor(['k', 'n'.repeat(1_001), UUID]), 'text'],
    ['another list', cursor(['other', 5, UUID]), 'integer'],
    ['not JSON', '!!!', 'integer'],
  ] as const)('refuses %s with BAD_USER_INPUT', (_case, value, keyType) => {
    expect(() => decodeCursor(value, 'k', keyType)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }));
  });
});
