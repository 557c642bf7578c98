import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Each subgraph deploys on its own: it may import the shared kit, but never another subgraph. */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUBGRAPHS = ['users', 'products', 'orders'];

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const full = path.join(directory, entry);
    if (entry === 'node_modules' || entry === 'generated') return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|js|mts)$/.test(entry) ? [full] : [];
  });
}

/** Every module a file imports: static, dynamic and re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((match) => match[1]!);
}

/** Which package a module specifier lands in, seen from `file`. */
function packageOf(file: string, specifier: string): string | null {
  if (specifier.startsWith('@shop/')) return specifier.slice('@shop/'.length).split('/')[0]!;
  if (!specifier.startsWith('.')) return null;
  const target = path.relative(ROOT, path.resolve(path.dirname(file), specifier));
  const [top, name] = target.split(path.sep);
  return top === 'subgraphs' ? name! : top === 'router' ? 'router' : (top ?? null);
}

describe('subgraph independence', () => {
  it.each(SUBGRAPHS)('%s imports no other subgraph, the router, or repository-level code', (name) => {
    const files = sourceFiles(path.join(ROOT, 'subgraphs', name));
    expect(files.length).toBeGreaterThan(5);
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => {
          const target = packageOf(file, specifier);
          return target !== null && target !== name && target !== 'kit';
        })
        .map((specifier) => `${path.relative(ROOT, file)} imports ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('keeps the kit free of any subgraph or the router', () => {
    const files = sourceFiles(path.join(ROOT, 'subgraphs', 'kit', 'src'));
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => {
          const target = packageOf(file, specifier);
          return target !== null && target !== 'kit';
        })
        .map((specifier) => `${path.relative(ROOT, file)} imports ${specifier}`),
    );
    expect(offending).toEqual([]);
  });

  it('would notice a cross-subgraph import', () => {
    const file = path.join(ROOT, 'subgraphs/orders/src/example.ts');
    expect(packageOf(file, '../../products/src/db/schema.js')).toBe('products');
    expect(packageOf(file, '@shop/users')).toBe('users');
    expect(packageOf(file, '@shop/kit')).toBe('kit');
    expect(packageOf(file, './db/schema.js')).toBe('orders');
  });
});
