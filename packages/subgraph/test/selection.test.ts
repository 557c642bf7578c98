import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { selectsPath } from '../src/selection.js';

/** The resolve info of the operation's first root field, as graphql-js hands it to that field's resolver. */
function infoOf(query: string) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const field = operation.selectionSet.selections[0]!;
  if (field.kind !== Kind.FIELD) throw new Error('a field first');
  return { fieldNodes: [field], fragments };
}

const PATH = ['edges', 'node', 'items'];

describe('selectsPath', () => {
  it('finds the path through plain fields, inline fragments and fragment spreads', () => {
    expect(selectsPath(infoOf('{ orders { edges { node { id items { quantity } } } } }'), PATH)).toBe(true);
    expect(
      selectsPath(infoOf('{ orders { ... on OrderConnection { edges { node { ... on Order { items { quantity } } } } } } }'), PATH),
    ).toBe(true);
    expect(selectsPath(infoOf('{ orders { edges { node { ...Lines } } } } fragment Lines on Order { items { quantity } }'), PATH)).toBe(
      true,
    );
  });

  it('does not find it when a step is missing or elsewhere', () => {
    expect(selectsPath(infoOf('{ orders { totalCount edges { node { id } } } }'), PATH)).toBe(false);
    expect(selectsPath(infoOf('{ orders { items { quantity } } }'), PATH)).toBe(false);
    expect(selectsPath(infoOf('{ orders { edges { cursor } node: edges { items: cursor } } }'), PATH)).toBe(false);
  });
});
