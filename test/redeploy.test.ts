import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph, SUPERGRAPH_FILE, subgraphSdlFile } from '../schema/subgraphs.js';
import { ServiceProcess, startStack, type ServiceName, freePorts } from '../scripts/stack.js';
import { contractOperation, post } from './client.js';

/**
 * A subgraph team ships a change while clients keep querying: products gets a new field in a copy of its
 * package, is stopped with SIGTERM and started again alone, and the supergraph is recomposed into the file the
 * running router watches. The same router process then serves the new field, and no client request fails.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let work: string;
let stack: Record<ServiceName, ServiceProcess>;
let routerUrl: string;
let supergraphPath: string;
let productsSdlPath: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'shop-redeploy-'));
  // The products team's checkout: a copy of the package, resolving its dependencies from this repository.
  await cp(path.join(ROOT, 'subgraphs/products'), path.join(work, 'subgraphs/products'), {
    recursive: true,
    filter: (source) => !source.includes('node_modules'),
  });
  await symlink(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'));
  productsSdlPath = path.join(work, 'subgraphs/products/schema.graphql');
  supergraphPath = path.join(work, 'supergraph.graphql');
  await writeFile(supergraphPath, await readFile(SUPERGRAPH_FILE, 'utf8'));

  const ports = await freePorts();
  const env = {
    DATA_DIR: path.join(work, 'data'),
    LOG_LEVEL: 'warn',
    SUPERGRAPH_PATH: supergraphPath,
    ADMIN_EMAIL: 'admin@redeploy.test',
    ADMIN_PASSWORD: 'admin-password',
  };
  stack = await startStack(env, ports);
  // From here on, products runs from the team's copy.
  await stack.products.stop('SIGTERM');
  stack.products = new ServiceProcess(
    'products',
    ports.products,
    {
      ...env,
      USERS_URL: `${stack.users.url}/graphql`,
      PRODUCTS_URL: `${stack.products.url}/graphql`,
      ORDERS_URL: `${stack.orders.url}/graphql`,
    },
    false,
    path.join(work, 'subgraphs/products'),
  );
  await stack.products.start();
  routerUrl = `${stack.router.url}/graphql`;
}, 240_000);

afterAll(async () => {
  await Promise.all(Object.values(stack ?? {}).map((service) => service.stop('SIGTERM')));
  await rm(work, { recursive: true, force: true });
}, 60_000);

describe('shipping a subgraph change', () => {
  it('serves a new products field from the same router, with zero failed queries during the redeploy', async () => {
    const routerPid = stack.router.child!.pid;
    const catalogue = { query: contractOperation('Catalogue'), operationName: 'Catalogue', variables: { first: 5 } };
    let sent = 0;
    const failures: unknown[] = [];
    let streaming = true;
    // A steady stream of catalogue queries from four clients for the whole redeploy.
    const clients = Array.from({ length: 4 }, async () => {
      while (streaming) {
        sent += 1;
        const response = await post(catalogue, undefined, routerUrl).catch((error: Error) => ({
          status: 0,
          errors: [{ message: error.message }],
        }));
        if (response.status !== 200 || response.errors) failures.push(response.errors ?? response.status);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 500));

    // The team adds a field, redeploys products alone, and recomposes.
    const sdl = await readFile(productsSdlPath, 'utf8');
    const changed = sdl.replace(
      '  inStock: Boolean!\n',
      '  inStock: Boolean!\n  "Shipping weight in grams; null when unknown."\n  weightGrams: Int\n',
    );
    expect(changed).toContain('weightGrams');
    await writeFile(productsSdlPath, changed);
    const redeployStarted = Date.now();
    await stack.products.stop('SIGTERM');
    await stack.products.start();
    console.log(`products was down for ${Date.now() - redeployStarted} ms`);
    // Users and orders are unchanged: their SDL is the repository's.
    const composed = composeSupergraph((name) => (name === 'products' ? changed : readFileSync(subgraphSdlFile(name), 'utf8')));
    expect(composed.errors).toBeUndefined();
    await writeFile(supergraphPath, composed.supergraphSdl!);

    const withWeight = { query: '{ products(first: 1) { edges { node { id weightGrams } } } }' };
    const deadline = Date.now() + 20_000;
    let served: any;
    while (Date.now() < deadline) {
      served = await post(withWeight, undefined, routerUrl);
      if (!served.errors) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Keep the stream going a little past the swap, so it covers the new supergraph too.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    streaming = false;
    await Promise.all(clients);

    expect(served.errors).toBeUndefined();
    expect(served.data.products.edges).toBeDefined();
    expect(stack.router.child!.pid).toBe(routerPid);
    expect(sent).toBeGreaterThan(20);
    if (failures.length > 0) console.log(stack.router.output.slice(-3000));
    expect(failures).toEqual([]);
  });

  it('refuses a broken supergraph file and keeps serving the last good one', async () => {
    const good = await readFile(supergraphPath, 'utf8');
    await writeFile(supergraphPath, 'this is not a supergraph');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const response = await post({ query: '{ products(first: 1) { totalCount } }' }, undefined, routerUrl);
    expect(response.errors).toBeUndefined();
    expect(stack.router.output).toContain('new supergraph refused');
    await writeFile(supergraphPath, good);
  });
});
