import { randomUUID } from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import { describe, expect, it } from 'vitest';
import { adminToken, post, registerCustomer, run } from './client.js';
import { cannotLogIn, expectRefusedAtRouter, registerField } from './security.js';

/** Operation limits, through the router on the shared test stack: refused with HTTP 400 before any subgraph runs. */

describe('operation limits, enforced at the router before any subgraph is called', () => {
  it('refuses a depth bomb with MAX_DEPTH_LIMIT and HTTP 400', async () => {
    let selection = 'id';
    for (let level = 0; level < 6; level += 1) selection = `orders { edges { node { buyer { ${selection} } } } }`;
    const response = await expectRefusedAtRouter(() => post({ query: `{ me { ${selection} } }` }), 'MAX_DEPTH_LIMIT');
    expect(response.errors![0]!.message).toMatch(/depth limit of 10/);
  });

  it('refuses an alias flood with MAX_ALIASES_LIMIT, and its mutation does not run', async () => {
    const email = `alias-${randomUUID()}@test.shop`;
    const aliases = Array.from({ length: 16 }, (_, i) => `t${i}: token`).join(' ');
    const query = `mutation { register(input: { email: "${email}", password: "long enough", name: "Bomb" }) { ${aliases} } }`;
    const response = await expectRefusedAtRouter(() => post({ query }), 'MAX_ALIASES_LIMIT');
    expect(response.errors![0]!.message).toMatch(/Aliases limit of 15/);
    await cannotLogIn(email);
  });

  it('refuses too many root fields with MAX_ROOT_FIELDS_LIMIT, and none of them runs', async () => {
    const emails = Array.from({ length: 11 }, () => `root-${randomUUID()}@test.shop`);
    const fields = emails.map((email, i) => `r${i}: ${registerField(email)}`).join('\n');
    await expectRefusedAtRouter(() => post({ query: `mutation { ${fields} }` }), 'MAX_ROOT_FIELDS_LIMIT');
    await cannotLogIn(emails[0]!);
  });

  it('refuses a directive flood with MAX_DIRECTIVES_LIMIT', async () => {
    const fields = Array.from({ length: 51 }, () => '__typename @include(if: true)').join(' ');
    await expectRefusedAtRouter(() => post({ query: `{ ${fields} }` }), 'MAX_DIRECTIVES_LIMIT');
  });

  it('refuses a document of more than 1000 tokens while parsing it', async () => {
    const fields = Array.from({ length: 1_100 }, () => 'id').join(' ');
    const response = await expectRefusedAtRouter(() => post({ query: `{ me { ${fields} } }` }), 'GRAPHQL_PARSE_FAILED');
    expect(response.errors![0]!.message).toMatch(/1000 tokens/);
  });

  it('refuses a cost bomb (nested lists sized by `first`) with COST_ESTIMATED_TOO_EXPENSIVE', async () => {
    const bomb = '{ me { orders(first: 100) { edges { node { buyer { orders(first: 100) { edges { node { id } } } } } } } } }';
    const response = await expectRefusedAtRouter(() => post({ query: bomb }), 'COST_ESTIMATED_TOO_EXPENSIVE');
    expect(response.errors![0]!.extensions).toMatchObject({ maxCost: 5000, cost: expect.any(Number) });
    expect(response.errors![0]!.extensions!.cost as number).toBeGreaterThan(5000);
    // The same shape with small pages is an ordinary query.
    const { token } = await registerCustomer();
    const small = await post({ query: bomb.replaceAll('first: 100', 'first: 5') }, token);
    expect(small.errors).toBeUndefined();
  });

  it('sizes lists by a `first` given in variables too, capped at 100', async () => {
    const query =
      'query($n: Int) { me { orders(first: $n) { edges { node { buyer { orders(first: $n) { edges { node { id } } } } } } } } }';
    const { token } = await registerCustomer();
    // The router remembers a document's cost per page size: the same text with other sizes is judged afresh.
    expect((await post({ query, variables: { n: 5 } }, token)).errors).toBeUndefined();
    await expectRefusedAtRouter(() => post({ query, variables: { n: 1_000_000 } }, token), 'COST_ESTIMATED_TOO_EXPENSIVE');
    expect((await post({ query, variables: { n: 5 } }, token)).errors).toBeUndefined();
    // And variables are still checked against their declarations on every request.
    await expectRefusedAtRouter(() => post({ query, variables: { n: 'five' } }, token), 'BAD_USER_INPUT');
  });

  it('lets the heaviest contract operations and the Sandbox introspection query through', async () => {
    const { token } = await registerCustomer();
    const history = await run('OrderHistory', { first: 100 }, token);
    expect(history.errors).toBeUndefined();
    expect((await run('SalesReport', { first: 100 }, await adminToken())).errors).toBeUndefined();
    const introspection = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    const response = await post({ query: introspection });
    expect(response.errors).toBeUndefined();
    expect(response.data.__schema.types.length).toBeGreaterThan(10);
  });
});
