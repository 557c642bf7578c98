import { describe, expect, it } from 'vitest';
import { adminToken, codes, registerCustomer, run } from './client.js';

/** A cursor is opaque to clients, but it is theirs to send: a tampered one is BAD_USER_INPUT, never a crash. */

const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const UUID = '0b6f6d2e-5d0a-4c52-9d5e-6f1c1f0e8a11';

describe('tampered cursors', () => {
  it.each([
    ['a NEWEST cursor with a date out of range', 'NEWEST', cursor(['products:NEWEST', 1e300, UUID])],
    ['a NEWEST cursor with a fractional date', 'NEWEST', cursor(['products:NEWEST', 1.5, UUID])],
    [
      'a PRICE_ASC cursor with a fractional price and an id that is not a UUID',
      'PRICE_ASC',
      cursor(['products:PRICE_ASC', 1.5, 'not-a-uuid']),
    ],
    ['a PRICE_DESC cursor with a price past 2^31', 'PRICE_DESC', cursor(['products:PRICE_DESC', 2 ** 40, UUID])],
    ['a NAME cursor with an id that is not a UUID', 'NAME', cursor(['products:NAME', 'Kite', "'; drop table products; --"])],
    ['a NAME cursor with a name of a megabyte', 'NAME', cursor(['products:NAME', 'n'.repeat(1_000_000), UUID])],
    ['a cursor that is not base64 JSON', 'NEWEST', '!!!'],
  ])('refuses %s in the catalogue with BAD_USER_INPUT', async (_case, sort, after) => {
    const response = await run('Catalogue', { first: 5, sort, after });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
  });

  it("refuses a tampered cursor of a buyer's orders and of the admin's customer list", async () => {
    const { token } = await registerCustomer();
    expect(codes(await run('OrderHistory', { first: 5, after: cursor(['orders:newest', 1e300, UUID]) }, token))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await run('OrderHistory', { first: 5, after: cursor(['orders:newest', Date.now(), 'x']) }, token))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const admin = await adminToken();
    expect(codes(await run('Customers', { first: 5, after: cursor(['users:createdAt', -1e300, UUID]) }, admin))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('still pages with the cursors it hands out', async () => {
    const first = await run('Catalogue', { first: 1, sort: 'PRICE_ASC' });
    const next = await run('Catalogue', { first: 1, sort: 'PRICE_ASC', after: first.data.products.pageInfo.endCursor });
    expect(next.errors).toBeUndefined();
  });
});
