import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, freePorts, startStack, type ServiceProcess } from '../scripts/stack.js';
import { buildStorefrontServer } from '../storefront/server/server.js';
import { DEMO_CUSTOMER } from '../subgraphs/users/src/seed.js';
import { post } from './client.js';
import { TEST_ADMIN } from './fixtures.js';
import { freshStorage } from './storage.js';
import { CHROMIUM_ARGS } from './browser.js';

/**
 * The shop in Debian's Chromium: a stack of its own with the demo catalogue and customer, the storefront built and
 * served on a free port, and a shopper who browses, searches, signs in, buys and pays. Every page must load without
 * a script error, a console error or a 5xx, and each step leaves a screenshot in test-results/storefront/.
 */
const ROOT = new URL('..', import.meta.url);
const SCREENSHOTS = fileURLToPath(new URL('test-results/storefront/', ROOT));

let routerUrl: string;
const MANIFEST_IDS = new Map<string, string>(
  (
    JSON.parse(readFileSync(new URL('schema/persisted-query-manifest.json', ROOT), 'utf8')) as {
      operations: { name: string; id: string }[];
    }
  ).operations.map((operation) => [operation.name, operation.id]),
);
/**
 * Sends a contract operation to this file's own router, as another trusted client would: by its manifest id, since
 * the router runs with PERSISTED_QUERIES=safelist, as in production.
 */
async function api<T = any>(name: string, variables: Record<string, unknown> = {}, token?: string) {
  const id = MANIFEST_IDS.get(name);
  if (!id) throw new Error(`${name} is not in the persisted-query manifest`);
  const response = await post<T>(
    { operationName: name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: id } } },
    token,
    routerUrl,
  );
  expect(response.errors, `${name}: ${JSON.stringify(response.errors)}`).toBeUndefined();
  return response.data!;
}

type CatalogueNode = { id: string; name: string };
async function catalogueNames(variables: Record<string, unknown>): Promise<string[]> {
  const data = await api<{ products: { edges: { node: CatalogueNode }[] } }>('Catalogue', variables);
  return data.products.edges.map((edge) => edge.node.name);
}

describe('the storefront in a browser', () => {
  let stack: Record<string, ServiceProcess>;
  let storage: Awaited<ReturnType<typeof freshStorage>>;
  let storefront: Awaited<ReturnType<typeof buildStorefrontServer>>;
  let browser: BrowserContext;
  let page: Page;
  let base: string;
  let distDir: string;
  let userDataDir: string;
  let manifest: Map<string, string>;
  const problems: string[] = [];
  /** The GraphQL requests the page sent: operation, manifest id, and whether the document's text went along. */
  const sent: { operationName: string; hash?: string; withText: boolean }[] = [];
  let step = 0;

  beforeAll(async () => {
    const storefrontPort = await freePort();
    base = `http://127.0.0.1:${storefrontPort}`;
    distDir = await mkdtemp(join(tmpdir(), 'storefront-dist-'));
    userDataDir = await mkdtemp(join(tmpdir(), 'storefront-chromium-'));
    storage = await freshStorage('storefront');
    const build = promisify(execFile)(
      fileURLToPath(new URL('node_modules/.bin/vite', ROOT)),
      ['build', '--outDir', distDir, '--emptyOutDir', '--logLevel', 'warn'],
      {
        cwd: fileURLToPath(new URL('storefront/', ROOT)),
      },
    );
    const env = {
      ...storage.env,
      SEED_DEMO: 'true',
      ADMIN_EMAIL: TEST_ADMIN.email,
      ADMIN_PASSWORD: TEST_ADMIN.password,
      CORS_ORIGINS: base,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      NODE_ENV: 'test',
      // As in production: the router runs only the manifest's operations, so the storefront must send nothing else.
      PERSISTED_QUERIES: 'safelist',
    };
    [stack] = await Promise.all([startStack(env, await freePorts()), build]);
    routerUrl = `${stack.router!.url}/graphql`;
    storefront = await buildStorefrontServer({ distDir, routerUrl });
    await storefront.listen({ port: storefrontPort, host: '127.0.0.1' });
    manifest = MANIFEST_IDS;

    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 500) problems.push(`HTTP ${response.status()} from ${response.url()}`);
    });
    // Subscriptions go over graphql-ws: each subscribe message must carry its id and no text either.
    page.on('websocket', (socket) => {
      socket.on('framesent', ({ payload }) => {
        const message = JSON.parse(payload.toString()) as {
          type: string;
          payload?: { operationName: string; query?: string; extensions?: { persistedQuery?: { sha256Hash: string } } };
        };
        if (message.type !== 'subscribe' || !message.payload) return;
        sent.push({
          operationName: message.payload.operationName,
          hash: message.payload.extensions?.persistedQuery?.sha256Hash,
          withText: typeof message.payload.query === 'string' && message.payload.query !== '',
        });
      });
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (`${url.origin}${url.pathname}` !== routerUrl || request.method() === 'OPTIONS') return;
      // Apollo Client POSTs; a GET's parameters would be in its query string.
      const body = (
        request.method() === 'POST'
          ? request.postDataJSON()
          : { ...Object.fromEntries(url.searchParams), extensions: JSON.parse(url.searchParams.get('extensions') ?? '{}') }
      ) as { operationName: string; query?: string; extensions?: { persistedQuery?: { sha256Hash: string } } };
      sent.push({
        operationName: body.operationName,
        hash: body.extensions?.persistedQuery?.sha256Hash,
        withText: typeof body.query === 'string',
      });
    });
  }, 300_000);

  afterEach(async (context) => {
    step += 1;
    await page.screenshot({ path: join(SCREENSHOTS, `${String(step).padStart(2, '0')}-${context.task.name.replace(/\W+/g, '-')}.png`) });
    expect(problems).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await storefront?.close();
    await Promise.all(Object.values(stack ?? {}).map((service) => service.stop('SIGTERM')));
    await storage?.remove();
    await Promise.all([distDir, userDataDir].filter(Boolean).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** The catalogue as the page shows it: each card's name, which must be its one link, and its one button. */
  async function cardNames(): Promise<string[]> {
    const cards = page.getByRole('list', { name: 'Products' }).getByRole('listitem');
    const names: string[] = [];
    for (const card of await cards.all()) {
      const title = card.getByRole('heading').getByRole('link');
      expect(await title.count()).toBe(1);
      expect(await card.getByRole('button', { name: 'Add to cart', exact: true }).count()).toBe(1);
      names.push(await title.innerText());
    }
    return names;
  }

  it('lists the catalogue as the API does, and searches through the API', async () => {
    await page.goto(base);
    const firstPage = await catalogueNames({ first: 12, sort: 'NEWEST' });
    expect(firstPage.length).toBe(12);
    await expect.poll(cardNames, { timeout: 20_000 }).toEqual(firstPage);

    const found = await catalogueNames({ filter: { search: 'wool' } });
    expect(found.length).toBeGreaterThan(1); // the demo catalogue has a sweater and socks; one would prove less
    await page.getByRole('textbox', { name: 'Search' }).fill('wool');
    await page.getByRole('textbox', { name: 'Search' }).press('Enter');
    await expect.poll(cardNames, { timeout: 20_000 }).toEqual(found);
    expect(new URL(page.url()).searchParams.get('search')).toBe('wool');
  });

  it('shows a product page at a URL with its id, with its stock', async () => {
    const [sweater] = (
      await api<{ products: { edges: { node: CatalogueNode }[] } }>('Catalogue', { filter: { search: 'Merino Wool Sweater' } })
    ).products.edges.map((edge) => edge.node);
    const { product } = await api<{ product: { stock: number } }>('ProductPage', { id: sweater!.id });
    expect(product.stock).toBeGreaterThan(0);
    await page.getByRole('link', { name: 'Merino Wool Sweater' }).click();
    await page.waitForURL(`**/products/${sweater!.id}`);
    await page.getByText(`${product.stock} in stock`, { exact: true }).waitFor();
  });

  it('signs the demo customer in, and keeps the session across a reload', async () => {
    await page.getByRole('link', { name: 'Sign in' }).click();
    const form = page.locator('form').filter({ has: page.getByLabel('Email') });
    await form.getByLabel('Email').fill(DEMO_CUSTOMER.email);
    await form.getByLabel('Password').fill(DEMO_CUSTOMER.password);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(DEMO_CUSTOMER.name).waitFor();
    await page.reload();
    await page.getByText(DEMO_CUSTOMER.name).waitFor();
    expect(await page.getByRole('link', { name: 'Sign in' }).count()).toBe(0);
  });

  it('adds to the cart, places the order, and pays it: tok_chargeDeclined is declined in words, tok_visa makes it PAID', async () => {
    await page.getByRole('link', { name: 'Federated Shop' }).click();
    await page.getByRole('textbox', { name: 'Search' }).fill('wool');
    await page.getByRole('textbox', { name: 'Search' }).press('Enter');
    const card = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'Wool Socks (3 pairs)' }) });
    await card.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('link', { name: 'Cart', exact: true }).click();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
    const orderId = page.url().split('/').at(-1)!;
    await page.getByText('PENDING', { exact: true }).waitFor();

    const { login } = await api<{ login: { token: string } }>('Login', {
      input: { email: DEMO_CUSTOMER.email, password: DEMO_CUSTOMER.password },
    });
    const placed = await api<{ order: { status: string; items: { quantity: number; product: { name: string } }[] } }>(
      'OrderDetail',
      { id: orderId },
      login.token,
    );
    expect(placed.order).toMatchObject({ status: 'PENDING', items: [{ quantity: 1, product: { name: 'Wool Socks (3 pairs)' } }] });

    await page.getByRole('radio', { name: /tok_chargeDeclined/ }).check();
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.getByRole('alert').filter({ hasText: 'Your card was declined' }).waitFor();
    expect(await page.getByText('PENDING', { exact: true }).count()).toBe(1);

    await page.getByRole('radio', { name: /tok_visa/ }).check();
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.getByText('PAID', { exact: true }).waitFor();
    await page.reload();
    await page.getByText('PAID', { exact: true }).waitFor();
    const paid = await api<{ order: { status: string } }>('OrderDetail', { id: orderId }, login.token);
    expect(paid.order.status).toBe('PAID');
  });

  /** The demo customer's token, and the sweater's id and stock, as the API says now. */
  async function customerAndSweater() {
    const { login } = await api<{ login: { token: string } }>('Login', {
      input: { email: DEMO_CUSTOMER.email, password: DEMO_CUSTOMER.password },
    });
    const { products } = await api<{ products: { edges: { node: CatalogueNode }[] } }>('Catalogue', {
      filter: { search: 'Merino Wool Sweater' },
    });
    const id = products.edges[0]!.node.id;
    const stock = async () => (await api<{ product: { stock: number } }>('ProductPage', { id })).product.stock;
    return { token: login.token, sweater: { id, stock } };
  }

  const placeOrder = async (token: string, productId: string, quantity: number) =>
    (
      await api<{ placeOrder: { order: { id: string } } }>(
        'PlaceOrder',
        { input: { items: [{ productId, quantity }], idempotencyKey: randomUUID() } },
        token,
      )
    ).placeOrder.order.id;

  it('sees PAID arrive without a reload when the order is paid elsewhere (OrderUpdates)', async () => {
    const { token, sweater } = await customerAndSweater();
    const orderId = await placeOrder(token, sweater.id, 1);
    await page.goto(`${base}/orders/${orderId}`);
    await page.getByText('PENDING', { exact: true }).waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    // Paid by another client (the shopper's phone, say): only the subscription can tell this page.
    await api('PayOrder', { input: { orderId, paymentToken: 'tok_visa' } }, token);
    await page.getByText('PAID', { exact: true }).waitFor();
    expect(navigations).toEqual([]);
  });

  it("sees a product's stock fall without a reload when another buyer orders it (StockUpdates)", async () => {
    const { sweater } = await customerAndSweater();
    await page.goto(`${base}/products/${sweater.id}`);
    await page.getByText(`${await sweater.stock()} in stock`, { exact: true }).waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const other = await post<{ register: { token: string } }>(
      {
        operationName: 'Register',
        variables: { input: { email: `buyer-${randomUUID()}@test.shop`, password: 'correct horse battery', name: 'Another Buyer' } },
        extensions: { persistedQuery: { version: 1, sha256Hash: MANIFEST_IDS.get('Register') } },
      },
      undefined,
      routerUrl,
    );
    // The page's subscription may still be opening when the first order lands; a second one then shows it.
    let shown = false;
    for (let attempt = 0; attempt < 3 && !shown; attempt += 1) {
      await placeOrder(other.data!.register.token, sweater.id, 1);
      const now = await sweater.stock();
      shown = await page
        .getByText(`${now} in stock`, { exact: true })
        .waitFor({ timeout: 5_000 })
        .then(
          () => true,
          () => false,
        );
    }
    expect(shown).toBe(true);
    expect(navigations).toEqual([]);
  });

  it('lets an admin read the sales report, and create, update and restock a product', async () => {
    await page.goto(base);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(TEST_ADMIN.email);
    await page.getByLabel('Password').fill(TEST_ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Admin' }).click();
    // The customer's paid socks are in the report: one unit, one order.
    const { products } = await api<{ products: { edges: { node: { sku: string; price: { amount: number } } }[] } }>('Catalogue', {
      filter: { search: 'Wool Socks' },
    });
    const { sku: socksSku, price } = products.edges[0]!.node;
    const socks = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Edit Wool Socks (3 pairs)' }) });
    const revenue = `$${(price.amount / 100).toFixed(2)}`;
    await expect.poll(() => socks.getByRole('cell').allInnerTexts()).toEqual(['Wool Socks (3 pairs)', socksSku, '1', '1', revenue]);

    await page.getByRole('link', { name: 'New product' }).click();
    const sku = `LAMP-${Date.now()}`;
    await page.getByLabel('SKU').fill(sku);
    await page.getByLabel('Stock').fill('3');
    await page.getByLabel('Name').fill('Reading Lamp');
    await page.getByLabel('Description').fill('A lamp for the browser test');
    await page.getByLabel('Category').fill('lighting');
    await page.getByLabel('Price').fill('12.50');
    await page.getByRole('button', { name: 'Create product' }).click();
    await page.getByText('Product created.').waitFor();
    const id = page.url().split('/').at(-1)!;

    await page.getByLabel('Price').fill('15');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    await page.getByLabel('Units to add').fill('4');
    await page.getByRole('button', { name: 'Restock' }).click();
    await page.getByText('7 in stock', { exact: true }).waitFor();

    const { product } = await api<{ product: Record<string, unknown> }>('ProductPage', { id });
    expect(product).toMatchObject({ sku, name: 'Reading Lamp', category: 'lighting', stock: 7, price: { amount: 1500, currency: 'USD' } });
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    for (const path of ['/', '/cart', '/orders']) {
      await page.goto(base + path);
      await page.getByRole('main').waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
  });

  it("sent every GraphQL request as its manifest id, never a document's text", () => {
    expect(sent.length).toBeGreaterThan(0);
    for (const { operationName, hash } of sent) expect(hash, operationName).toBe(manifest.get(operationName));
    expect(sent.filter((request) => request.withText).map((request) => request.operationName)).toEqual([]);
  });
});
