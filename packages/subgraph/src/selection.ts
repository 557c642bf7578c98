import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * Whether the field being resolved selects `path` below it (`['edges', 'node', 'items']`), through inline
 * fragments and fragment spreads: a resolver looks ahead to fetch in one statement what its children will ask
 * for. Directives are not evaluated, so a field under `@skip` counts as selected (fetched for nothing, never
 * missing).
 */
export function selectsPath(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, path: readonly string[]): boolean {
  const walk = (selectionSet: SelectionSetNode | undefined, depth: number): boolean =>
    !!selectionSet &&
    selectionSet.selections.some((selection) => {
      if (selection.kind === Kind.INLINE_FRAGMENT) return walk(selection.selectionSet, depth);
      if (selection.kind === Kind.FRAGMENT_SPREAD) return walk(info.fragments[selection.name.value]?.selectionSet, depth);
      return selection.name.value === path[depth] && (depth === path.length - 1 || walk(selection.selectionSet, depth + 1));
    });
  return info.fieldNodes.some((field: FieldNode) => walk(field.selectionSet, 0));
}
