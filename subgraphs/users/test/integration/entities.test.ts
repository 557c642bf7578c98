import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { graphqlClient } from '@shop/subgraph/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The users subgraph in-process on its own embedded database, asked for `_entities` as the router asks. */
let server: Awaited<ReturnType<typeof import('../../src/server.js').buildServer>>;
let dataDir: string;
let graphql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'users-entities-'));
  process.env.DATA_DIR = dataDir;
  delete process.env.USERS_DATABASE_URL;
  const { buildServer } = await import('../../src/server.js');
  server = await buildServer();
  graphql = graphqlClient(server.app);
}, 60_000);

afterAll(async () => {
  await server?.app.close();
  await rm(dataDir, { recursive: true, force: true });
});

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { token user { id } } }`;
const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id email } } }`;

describe('User entities', () => {
  it('resolves the caller itself, and refuses anyone else: authorization holds in __resolveReference too', async () => {
    const ann = (await graphql(REGISTER, { input: { email: 'ann@entities.test', password: 'long enough', name: 'Ann' } })).data.register;
    const bob = (await graphql(REGISTER, { input: { email: 'bob@entities.test', password: 'long enough', name: 'Bob' } })).data.register;

    const own = await graphql(ENTITIES, { representations: [{ __typename: 'User', id: ann.user.id }] }, ann.token);
    expect(own.data._entities).toEqual([{ id: ann.user.id, email: 'ann@entities.test' }]);

    const other = await graphql(ENTITIES, { representations: [{ __typename: 'User', id: bob.user.id }] }, ann.token);
    expect(other.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(other.data._entities).toEqual([null]);

    const anonymous = await graphql(ENTITIES, { representations: [{ __typename: 'User', id: ann.user.id }] });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});
