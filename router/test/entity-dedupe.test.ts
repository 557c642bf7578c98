import { describe, expect, it } from 'vitest';
import { dedupeRepresentations, expandEntities } from '../src/entity-dedupe.js';

describe('entity representation dedupe', () => {
  const a = { __typename: 'Product', id: 'a' };
  const b = { __typename: 'Product', id: 'b' };

  it('sends each distinct representation once and spreads answers and errors back', () => {
    const deduped = dedupeRepresentations([a, b, a, a, b])!;
    expect(deduped.unique).toEqual([a, b]);
    expect(deduped.positions).toEqual([0, 1, 0, 0, 1]);
    const response = {
      data: { _entities: [{ id: 'a', name: 'A' }, null] },
      errors: [{ message: 'gone', path: ['_entities', 1, 'name'] }, { message: 'other' }],
    };
    expect(expandEntities(response, deduped)).toEqual({
      data: { _entities: [{ id: 'a', name: 'A' }, null, { id: 'a', name: 'A' }, { id: 'a', name: 'A' }, null] },
      errors: [
        { message: 'gone', path: ['_entities', 1, 'name'] },
        { message: 'gone', path: ['_entities', 4, 'name'] },
        { message: 'other' },
      ],
    });
  });

  it('lists the spread errors in the order of the original positions, as the subgraph asked for each would', () => {
    const deduped = dedupeRepresentations([a, b, a])!;
    const response = {
      data: { _entities: [null, null] },
      errors: [{ message: 'first', path: ['_entities', 0] }, { message: 'second', path: ['_entities', 1] }, { message: 'whole fetch' }],
    };
    expect(expandEntities(response, deduped).errors).toEqual([
      { message: 'first', path: ['_entities', 0] },
      { message: 'second', path: ['_entities', 1] },
      { message: 'first', path: ['_entities', 2] },
      { message: 'whole fetch' },
    ]);
  });

  it('leaves a list of the wrong length as it is, for the gateway to refuse as it would the full list', () => {
    const deduped = dedupeRepresentations([a, b, a])!;
    const response = { data: { _entities: [{ id: 'a' }] }, errors: [{ message: 'gone', path: ['_entities', 0, 'name'] }] };
    expect(expandEntities(response, deduped)).toEqual({
      data: { _entities: [{ id: 'a' }] },
      errors: [
        { message: 'gone', path: ['_entities', 0, 'name'] },
        { message: 'gone', path: ['_entities', 2, 'name'] },
      ],
    });
  });

  it('gives every position an entity of its own, which the gateway completes in place', () => {
    const deduped = dedupeRepresentations([a, b, a])!;
    const body = '{"data":{"_entities":[{"id":"a","__proto__":{"polluted":true},"constructor":{"n":[1]}},{"id":"b"}]}}';
    const expanded = expandEntities(JSON.parse(body), deduped).data!._entities as Record<string, any>[];
    expect(expanded[2]).not.toBe(expanded[0]);
    expect(expanded[2]!.constructor).not.toBe(expanded[0]!.constructor);
    expect(JSON.stringify(expanded[2])).toBe(JSON.stringify(expanded[0]));
    // The copy keeps `__proto__` a key, as JSON.parse does, and takes no prototype from it.
    expect(Object.keys(expanded[2]!)).toEqual(['id', '__proto__', 'constructor']);
    expect(Object.getPrototypeOf(expanded[2])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // What the gateway fills in for one position stays there.
    expanded[2]!.__typename = 'Business';
    expect(expanded[0]!.__typename).toBeUndefined();
  });

  it('leaves a list without duplicates alone', () => {
    expect(dedupeRepresentations([a, b])).toBeNull();
  });
});
