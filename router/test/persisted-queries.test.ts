import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  loadManifest,
  NOT_IN_LIST,
  resolvePersistedOperation,
  subscribePayloadResolver,
  type PersistedQueryManifest,
} from '../src/persisted-queries.js';

const MANIFEST = fileURLToPath(new URL('../../schema/persisted-query-manifest.json', import.meta.url));
const manifest: PersistedQueryManifest = loadManifest(MANIFEST);
const [id, body] = [...manifest.byId.entries()].find(([, text]) => text.startsWith('query Catalogue'))!;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

describe('trusted documents', () => {
  it('reads the committed manifest, whose ids are the sha256 of their bodies', () => {
    expect(manifest.byId.size).toBeGreaterThan(10);
    for (const [key, text] of manifest.byId) expect(sha256(text)).toBe(key);
  });

  for (const mode of ['allow', 'safelist'] as const) {
    it(`${mode}: a manifest id runs its document, as a plain document (no persistedQuery left for APQ)`, () => {
      const result = resolvePersistedOperation(
        { extensions: { ...persisted(id), other: 1 }, operationName: 'Catalogue', variables: { first: 1 } },
        manifest,
        mode,
      );
      expect(result).toEqual({
        ok: true,
        params: { query: body, extensions: { other: 1 }, operationName: 'Catalogue', variables: { first: 1 } },
      });
    });

    it(`${mode}: the manifest's text runs, also reformatted or with comments`, () => {
      for (const query of [body, `# a comment\n${body.replace(/\n\s*/g, ' ')}`]) {
        expect(resolvePersistedOperation({ query }, manifest, mode)).toEqual({ ok: true, params: { query } });
      }
    });
  }

  it('allow: any document and any APQ hash go on to Apollo Server unchanged', () => {
    const query = '{ __typename }';
    for (const params of [{ query }, { extensions: persisted(sha256(query)) }, { query, extensions: persisted(sha256(query)) }]) {
      expect(resolvePersistedOperation(params, manifest, 'allow')).toEqual({ ok: true, params });
    }
  });

  it('safelist: another document, an unknown id (with or without its text) and a bad hash are refused', () => {
    const query = '{ __typename }';
    for (const params of [
      { query },
      { query: body.replace('totalCount', '') },
      { query: 'not graphql {' },
      { query: 42 },
      { extensions: persisted(sha256(query)) },
      { query, extensions: persisted(sha256(query)) },
      { query: body, extensions: persisted('0'.repeat(64)) },
      { extensions: persisted(12 as unknown as string) },
    ]) {
      const result = resolvePersistedOperation(params, manifest, 'safelist');
      expect(result.ok, JSON.stringify(params)).toBe(false);
    }
    expect(NOT_IN_LIST).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('safelist: a request with no document at all is left for Apollo Server to answer BAD_REQUEST', () => {
    expect(resolvePersistedOperation({ variables: {} }, manifest, 'safelist')).toEqual({ ok: true, params: { variables: {} } });
  });

  it('refuses a file that is not a manifest, naming it', () => {
    expect(() => loadManifest(fileURLToPath(new URL('../package.json', import.meta.url)))).toThrow(
      /package\.json is not a persisted-query manifest/,
    );
    expect(() => loadManifest('/nonexistent/manifest.json')).toThrow(/\/nonexistent\/manifest\.json could not be read/);
  });

  it('applies to graphql-ws subscribe payloads, where an id comes with an empty query', () => {
    const [stockId, stockBody] = [...manifest.byId.entries()].find(([, text]) => text.startsWith('subscription StockUpdates'))!;
    for (const mode of ['allow', 'safelist'] as const) {
      const resolve = subscribePayloadResolver(manifest, mode);
      expect(resolve({ query: '', extensions: persisted(stockId), variables: { ids: ['1'] } })).toEqual({
        query: stockBody,
        extensions: {},
        variables: { ids: ['1'] },
      });
      expect(resolve({ query: stockBody })).toEqual({ query: stockBody });
    }
    const other = { query: 'subscription { productUpdated(ids: ["1"]) { id } }' };
    expect(subscribePayloadResolver(manifest, 'allow')(other)).toEqual(other);
    const refused = subscribePayloadResolver(manifest, 'safelist')(other);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as { extensions: unknown }).extensions).toEqual({ code: NOT_IN_LIST });
    expect(subscribePayloadResolver(manifest, 'safelist')({ query: '', extensions: persisted(sha256('x')) })).toBeInstanceOf(Error);
  });
});
