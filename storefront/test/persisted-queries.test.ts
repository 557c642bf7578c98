import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ApolloClient, ApolloLink, InMemoryCache, Observable, type DocumentNode } from '@apollo/client';
import { parse, print, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as generated from '../src/generated/graphql.js';

const operationsDir = new URL('../../schema/operations/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('../../schema/persisted-query-manifest.json', import.meta.url), 'utf8')) as {
  format: string;
  version: number;
  operations: { id: string; name: string; type: string; body: string }[];
};

const contractOperations = readdirSync(operationsDir)
  .filter((file) => file.endsWith('.graphql'))
  .flatMap((file) => parse(readFileSync(new URL(file, operationsDir), 'utf8')).definitions)
  .filter((definition): definition is OperationDefinitionNode => definition.kind === 'OperationDefinition');

/** Each generated document, as Apollo Client puts it on the wire (after its cache adds __typename). */
async function textsSent(): Promise<Map<string, string>> {
  const sent = new Map<string, string>();
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: new ApolloLink((operation) => {
      sent.set(operation.operationName!, print(operation.query));
      return new Observable((observer) => observer.complete());
    }),
  });
  const documents = Object.entries(generated)
    .filter(([name]) => name.endsWith('Document'))
    .map(([, document]) => document as DocumentNode);
  for (const document of documents) {
    const { operation } = document.definitions[0] as OperationDefinitionNode;
    // The link answers nothing; only the text it was given matters.
    if (operation === 'subscription') {
      await new Promise<void>((settle) =>
        client.subscribe({ query: document }).subscribe({ complete: () => settle(), error: () => settle() }),
      );
    } else if (operation === 'mutation') {
      await client.mutate({ mutation: document }).catch(() => {});
    } else {
      await client.query({ query: document, fetchPolicy: 'no-cache' }).catch(() => {});
    }
  }
  return sent;
}

describe('the persisted-query manifest', () => {
  it('is in Apollo format and lists exactly the contract operations, with their types', () => {
    expect(manifest).toMatchObject({ format: 'apollo-persisted-query-manifest', version: 1 });
    const listed = manifest.operations.map(({ name, type }) => ({ name, type }));
    const contract = contractOperations.map((operation) => ({ name: operation.name!.value, type: operation.operation }));
    expect(listed.sort((a, b) => a.name.localeCompare(b.name))).toEqual(contract.sort((a, b) => a.name.localeCompare(b.name)));
  });

  it('gives every operation the sha256 of the exact text the storefront sends, so an id doubles as an APQ hash', async () => {
    const sent = await textsSent();
    expect([...sent.keys()].sort()).toEqual(manifest.operations.map((operation) => operation.name).sort());
    for (const { name, id, body } of manifest.operations) {
      expect(sent.get(name), name).toBe(body);
      expect(createHash('sha256').update(body).digest('hex'), name).toBe(id);
    }
  });
});
