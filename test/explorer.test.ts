import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildExplorer } from '../scripts/build-explorer.js';
import { freePort, ServiceProcess } from '../scripts/stack.js';
import { CHROMIUM_ARGS } from './browser.js';

/**
 * The router's explorer in Debian's Chromium with no internet: every request to a host other than the router's is
 * blocked. A router of this file's own (started once the explorer is built) serves it at GET /graphql; the page
 * must run a query and show the schema's docs, with no script error and no request leaving the machine.
 */
const SCREENSHOTS = fileURLToPath(new URL('../test-results/explorer/', import.meta.url));
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);

describe('the explorer, offline', () => {
  let router: ServiceProcess;
  let browser: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const problems: string[] = [];
  const blocked: string[] = [];

  beforeAll(async () => {
    await buildExplorer();
    const urls = inject('serviceUrls');
    router = new ServiceProcess('router', await freePort(), {
      ...(JSON.parse(inject('stackEnv')) as Record<string, string>),
      USERS_URL: `${urls.users}/graphql`,
      PRODUCTS_URL: `${urls.products}/graphql`,
      ORDERS_URL: `${urls.orders}/graphql`,
    });
    await router.start();
    await mkdir(SCREENSHOTS, { recursive: true });
    userDataDir = await mkdtemp(join(tmpdir(), 'explorer-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    // The network stops at this machine: anything else (a CDN, Apollo's site, fonts) is refused and noted.
    await browser.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (LOCAL_HOSTS.has(url.hostname)) return route.continue();
      blocked.push(url.href);
      return route.abort('internetdisconnected');
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} from ${response.url()}`);
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await router?.stop();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  it('opens at GET /graphql, runs a query and shows its result', async () => {
    await page.goto(`${router.url}/graphql`);
    await expect(page.title()).resolves.toBe('Shop GraphQL explorer');
    const sandbox = page.getByRole('link', { name: 'Open in Apollo Sandbox (online)' });
    await expect(sandbox.getAttribute('href')).resolves.toBe(
      `https://studio.apollographql.com/sandbox/explorer?endpoint=${encodeURIComponent(`${router.url}/graphql`)}`,
    );
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    await page.locator('.graphiql-execute-button').click();
    const result = page.getByRole('region', { name: 'Result Window' });
    await expect.poll(() => result.innerText(), { timeout: 20_000 }).toContain('"products"');
    expect(await result.innerText()).toContain('"edges"');
    await page.screenshot({ path: join(SCREENSHOTS, '01-query.png') });
  });

  it('shows the schema in its docs explorer', async () => {
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await expect.poll(() => docs.innerText(), { timeout: 20_000 }).toContain('Root Types');
    await docs.getByRole('link', { name: 'Query' }).first().click();
    await expect.poll(() => docs.innerText(), { timeout: 20_000 }).toContain('products');
    await page.screenshot({ path: join(SCREENSHOTS, '02-docs.png') });
  });

  it('raised no error and asked nothing of the internet', () => {
    expect(problems).toEqual([]);
    expect(blocked).toEqual([]);
  });
});
