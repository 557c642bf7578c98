import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkSchema, type CheckResult, type SubgraphName } from '../../check-schema.js';
import { subgraphSdlFile } from '../../subgraphs.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const workingTree = (name: SubgraphName) => readFileSync(subgraphSdlFile(name), 'utf8');

/** The working tree's SDL of a subgraph with `from` replaced by `to`; fails if `from` is not there, so no edit is a silent no-op. */
function edited(name: SubgraphName, from: string, to: string): string {
  const sdl = workingTree(name);
  expect(sdl, `${name} SDL should contain ${JSON.stringify(from)}`).toContain(from);
  return sdl.replace(from, to);
}

const paths = (changes: CheckResult['breaking']) => changes.map((c) => c.path);

describe('checkSchema', () => {
  it('passes the current working tree: it composes to the committed supergraph and the contract validates', async () => {
    const result = await checkSchema();
    expect(result.compositionErrors).toEqual([]);
    expect(result.breaking).toEqual([]);
    expect(result.dangerous).toEqual([]);
    expect(result.safe).toEqual([]);
    expect(result.contractErrors).toEqual([]);
    expect(result.supergraphStale).toBe(false);
    expect(result.ok).toBe(true);
  });

  it('refuses a removed field, names it, and reports the contract operations it breaks', async () => {
    const products = edited('products', '  "Longer text shown on the product page."\n  description: String!\n', '');
    const result = await checkSchema({ sdl: { products } });
    expect(result.ok).toBe(false);
    expect(paths(result.breaking)).toEqual(['Product.description']);
    const [removed] = result.breaking;
    expect(removed).toMatchObject({ type: 'FIELD_REMOVED', level: 'BREAKING', subgraphs: ['products'] });
    expect(removed!.message).toContain('description');
    expect(removed!.locations).toEqual([expect.stringMatching(/^subgraphs\/products\/schema\.graphql:\d+$/)]);
    expect(removed!.operations).toEqual(expect.arrayContaining(['ProductPage', 'CreateProduct', 'UpdateProduct']));
    expect(removed!.operations).not.toContain('Catalogue');
    expect(result.contractErrors).toContainEqual(expect.stringContaining('Cannot query field "description" on type "Product"'));
    expect(result.brokenOperations.map((op) => op.name)).toEqual(['ProductPage', 'CreateProduct', 'UpdateProduct']);
    expect(result.brokenOperations[0]).toMatchObject({ causes: ['Product.description'], subgraphs: ['products'] });
    expect(result.supergraphStale).toBe(true);
  });

  it('refuses a retyped field', async () => {
    const products = edited('products', '  stock: Int!\n', '  stock: String!\n');
    const result = await checkSchema({ sdl: { products } });
    expect(result.ok).toBe(false);
    expect(result.breaking).toEqual([
      expect.objectContaining({ type: 'FIELD_TYPE_CHANGED', path: 'Product.stock', subgraphs: ['products'] }),
    ]);
    expect(result.breaking[0]!.message).toMatch(/Int!.*String!/);
    expect(result.breaking[0]!.operations).toEqual(expect.arrayContaining(['ProductPage', 'RestockProduct']));
  });

  it('refuses a field made nullable in a shared value type, attributing it to every subgraph that defines it', async () => {
    // Money is @shareable in all three subgraphs; making it nullable everywhere composes but breaks clients.
    const sdl = Object.fromEntries(
      (['users', 'products', 'orders'] as const)
        .filter((name) => workingTree(name).includes('type Money @shareable'))
        .map((name) => [name, edited(name, '  amount: Int!\n', '  amount: Int\n')]),
    );
    const result = await checkSchema({ sdl });
    expect(result.ok).toBe(false);
    expect(result.breaking).toEqual([expect.objectContaining({ path: 'Money.amount', subgraphs: ['products', 'orders'] })]);
  });

  it('refuses a removed enum value', async () => {
    const products = edited('products', '  "Alphabetical by name."\n  NAME\n', '');
    const result = await checkSchema({ sdl: { products } });
    expect(result.ok).toBe(false);
    expect(result.breaking).toEqual([
      expect.objectContaining({ type: 'ENUM_VALUE_REMOVED', path: 'ProductSort.NAME', subgraphs: ['products'] }),
    ]);
    // Catalogue takes the sort order from a variable, so a client may send NAME.
    expect(result.breaking[0]!.operations).toEqual(['Catalogue']);
  });

  it('refuses an argument made required', async () => {
    const products = edited('products', '    first: Int\n    "Cursor of the product', '    first: Int!\n    "Cursor of the product');
    const result = await checkSchema({ sdl: { products } });
    expect(result.ok).toBe(false);
    expect(result.breaking).toEqual([expect.objectContaining({ type: 'FIELD_ARGUMENT_TYPE_CHANGED', path: 'Query.products.first' })]);
    expect(result.breaking[0]!.message).toContain("from 'Int' to 'Int!'");
    expect(result.breaking[0]!.fix).toMatch(/default value/);
    expect(result.brokenOperations.map((op) => op.name)).toEqual(['Catalogue', 'SalesReport']);
  });

  it('refuses a required argument added to an existing field, in the orders subgraph', async () => {
    const orders = edited(
      'orders',
      '    after: String\n  ): OrderConnection',
      '    after: String\n    status: OrderStatus!\n  ): OrderConnection',
    );
    const result = await checkSchema({ sdl: { orders } });
    expect(result.ok).toBe(false);
    expect(result.breaking).toEqual([
      expect.objectContaining({ type: 'FIELD_ARGUMENT_ADDED', path: 'User.orders.status', subgraphs: ['orders'] }),
    ]);
    expect(result.breaking[0]!.operations).toEqual(['OrderHistory', 'Customers']);
  });

  it('passes an added field, listing it as a safe change, and notes that the committed supergraph is stale', async () => {
    const products = edited('products', '  inStock: Boolean!\n}', '  inStock: Boolean!\n  "Shipping weight in grams."\n  weight: Int\n}');
    const result = await checkSchema({ sdl: { products } });
    expect(result.breaking).toEqual([]);
    expect(result.contractErrors).toEqual([]);
    expect(result.safe).toContainEqual(
      expect.objectContaining({ type: 'FIELD_ADDED', path: 'Product.weight', level: 'NON_BREAKING', subgraphs: ['products'] }),
    );
    expect(result.supergraphStale).toBe(true);
    expect(result.ok).toBe(true);
  });

  it('passes an added enum value but warns about it as dangerous', async () => {
    const products = edited('products', '  NAME\n}', '  NAME\n  "Best sellers first."\n  POPULAR\n}');
    const result = await checkSchema({ sdl: { products } });
    expect(result.ok).toBe(true);
    expect(result.dangerous).toEqual([expect.objectContaining({ type: 'ENUM_VALUE_ADDED', path: 'ProductSort.POPULAR' })]);
  });

  it('reports a composition error: a field with conflicting types across subgraphs on the @shareable Money type', async () => {
    const orders = edited('orders', '  amount: Int!\n', '  amount: Float!\n');
    const result = await checkSchema({ sdl: { orders } });
    expect(result.ok).toBe(false);
    expect(result.compositionErrors).toHaveLength(1);
    expect(result.compositionErrors[0]).toMatch(/Money\.amount/);
    expect(result.compositionErrors[0]).toMatch(/"orders"/);
    expect(result.breaking).toEqual([]);
  });

  it('reports a composition error: a @key on a field that does not exist', async () => {
    const products = edited('products', 'type Product @key(fields: "id")', 'type Product @key(fields: "nope")');
    const result = await checkSchema({ sdl: { products } });
    expect(result.ok).toBe(false);
    expect(result.compositionErrors).toEqual([expect.stringMatching(/^\[products\].*@key\(fields: "nope"\).*Cannot query field "nope"/)]);
  });

  it('reports SDL that does not parse, naming the file', async () => {
    const users = edited('users', 'type Query {', 'type Query {{');
    const result = await checkSchema({ sdl: { users } });
    expect(result.ok).toBe(false);
    expect(result.compositionErrors).toEqual([expect.stringMatching(/^subgraphs\/users\/schema\.graphql: Syntax Error/)]);
  });

  it('fails when a contract operation does not validate, even without a schema change', async () => {
    const contract = `${readFileSync(new URL('../../operations/storefront.graphql', import.meta.url), 'utf8')}\nquery Wishlist { me { wishlist { id } } }\n`;
    const result = await checkSchema({ contract });
    expect(result.breaking).toEqual([]);
    expect(result.ok).toBe(false);
    expect(result.contractErrors).toEqual([expect.stringContaining('Cannot query field "wishlist" on type "User"')]);
    expect(result.brokenOperations).toEqual([expect.objectContaining({ name: 'Wishlist', causes: [], subgraphs: [] })]);
  });

  describe('--subgraph', () => {
    const sdl = {
      products: edited('products', '  "Longer text shown on the product page."\n  description: String!\n', ''),
      users: edited(
        'users',
        '  "Name shown on orders and in the admin console."\n  name: String!\n',
        '  "Name shown on orders and in the admin console."\n  name: String!\n  "Preferred language."\n  locale: String\n',
      ),
    };

    it("limits the report to the subgraph's own changes and the operations they break", async () => {
      const result = await checkSchema({ sdl, subgraph: 'products' });
      expect(result.ok).toBe(false);
      expect(paths(result.breaking)).toEqual(['Product.description']);
      expect(result.safe).toEqual([]);
      expect(result.brokenOperations.map((op) => op.name)).toEqual(['ProductPage', 'CreateProduct', 'UpdateProduct']);
      expect(result.elsewhere).toMatchObject({ breaking: 0, contractErrors: 0 });
      expect(result.elsewhere!.safe).toBeGreaterThan(0);
    });

    it('passes another subgraph whose own changes are safe, counting the rest as elsewhere', async () => {
      const result = await checkSchema({ sdl, subgraph: 'users' });
      expect(result.ok).toBe(true);
      expect(result.breaking).toEqual([]);
      expect(result.contractErrors).toEqual([]);
      expect(new Set(paths(result.safe))).toEqual(new Set(['User.locale']));
      expect(result.elsewhere).toMatchObject({ breaking: 1, contractErrors: 3 });
    });

    it('refuses an unknown subgraph', async () => {
      await expect(checkSchema({ subgraph: 'payments' as SubgraphName })).rejects.toThrow(/Unknown subgraph/);
    });
  });
});

describe('approved breaking changes', () => {
  const nullableCreatedAt = () => ({ users: edited('users', 'createdAt: DateTime!', 'createdAt: DateTime') });
  const baseline = readFileSync(new URL('../../supergraph.graphql', import.meta.url), 'utf8');

  it('reports a breaking change recorded in the approvals as approved, with its reason, and passes', async () => {
    const breaking = await checkSchema({ sdl: nullableCreatedAt(), baseline, approvals: [] });
    expect(paths(breaking.breaking)).toEqual(['User.createdAt']);
    const change = breaking.breaking[0]!;
    const approval = { path: change.path, type: change.type, message: change.message, reason: 'clients were told' };
    const result = await checkSchema({ sdl: nullableCreatedAt(), baseline, approvals: [approval] });
    expect(result.breaking).toEqual([]);
    expect(result.approved).toEqual([expect.objectContaining({ path: 'User.createdAt', approval: 'clients were told' })]);
    expect(result.ok).toBe(true);
  });

  it('approves only the exact change: another break of the same field still fails', async () => {
    const approval = {
      path: 'User.createdAt',
      type: 'FIELD_TYPE_CHANGED',
      message: "Field 'User.createdAt' changed type from 'DateTime!' to 'String'",
      reason: 'x',
    };
    const result = await checkSchema({ sdl: nullableCreatedAt(), baseline, approvals: [approval] });
    expect(paths(result.breaking)).toEqual(['User.createdAt']);
    expect(result.ok).toBe(false);
  });
});

describe('the schema gate against a base commit', () => {
  const run = promisify(execFile);

  it('fails a breaking change committed together with its recomposed supergraph, which the working tree alone lets through', async () => {
    // A repository of its own: the schema scripts and SDL, with this checkout's dependencies.
    const repo = await mkdtemp(path.join(tmpdir(), 'shop-schema-gate-'));
    try {
      for (const dir of ['schema', 'subgraphs/users', 'subgraphs/products', 'subgraphs/orders']) {
        await cp(path.join(root, dir), path.join(repo, dir), {
          recursive: true,
          filter: (source) => !source.includes('node_modules') && !source.includes(`${path.sep}src`) && !source.includes(`${path.sep}test`),
        });
      }
      await symlink(path.join(root, 'node_modules'), path.join(repo, 'node_modules'));
      const git = (...args: string[]) => run('git', ['-c', 'user.name=test', '-c', 'user.email=test@shop.test', ...args], { cwd: repo });
      const tsx = (...args: string[]) =>
        run(path.join(root, 'node_modules/.bin/tsx'), args, { cwd: repo }).then(
          ({ stdout }) => ({ code: 0, stdout }),
          (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
        );
      await git('init', '-q');
      await git('add', '-A');
      await git('commit', '-qm', 'base');

      // The breaking change, recomposed and committed with it.
      const sdlFile = path.join(repo, 'subgraphs/users/schema.graphql');
      await writeFile(sdlFile, (await readFile(sdlFile, 'utf8')).replace('createdAt: DateTime!', 'createdAt: DateTime'));
      expect((await tsx('schema/compose.ts')).code).toBe(0);
      await git('commit', '-qam', 'users: createdAt may be null');

      expect((await tsx('schema/check.ts')).code, 'against the working tree the change slips through').toBe(0);
      const gate = await tsx('schema/check.ts', '--base', 'HEAD~1');
      expect(gate.code).toBe(1);
      expect(gate.stdout).toContain('User.createdAt');
      expect(gate.stdout).toContain('schema:check FAILED: 1 breaking change(s)');

      // Made on purpose: recorded with its reason, it passes the gate.
      const approvals = path.join(repo, 'schema/approved-changes.json');
      const approval = {
        path: 'User.createdAt',
        type: 'FIELD_TYPE_CHANGED',
        message: "Field 'User.createdAt' changed type from 'DateTime!' to 'DateTime'",
        reason: 'users may omit it',
      };
      await writeFile(approvals, JSON.stringify([approval], null, 2));
      await git('commit', '-qam', 'approve');
      const approved = await tsx('schema/check.ts', '--base', 'HEAD~2');
      expect(approved.code).toBe(0);
      expect(approved.stdout).toContain('1 breaking change(s) approved');
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('npm run schema:check', () => {
  const run = promisify(execFile);

  it('passes the working tree at the root', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'schema:check'], { cwd: root });
    expect(stdout).toContain('schema:check passed.');
  }, 120_000);

  it('passes the working tree for one subgraph', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'schema:check', '-w', 'subgraphs/products'], { cwd: root });
    expect(stdout).toContain('Schema check for the products subgraph');
    expect(stdout).toContain('schema:check passed.');
  }, 120_000);
});
