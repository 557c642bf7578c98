import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStorefrontServer } from '../server/server.js';

/** A build as Vite lays it out: index.html with the router-url tag, hashed files under assets/. */
async function fakeBuild(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'storefront-dist-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><html><head><meta name="router-url" content="http://localhost:4000/graphql" /></head><body><script type="module" src="/assets/index-Abc123.js"></script></body></html>',
  );
  await writeFile(join(dir, 'assets', 'index-Abc123.js'), `console.log(${JSON.stringify('x'.repeat(4096))});`);
  await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

describe('the storefront server', () => {
  let distDir: string;
  let app: Awaited<ReturnType<typeof buildStorefrontServer>>;

  beforeAll(async () => {
    distDir = await fakeBuild();
    app = await buildStorefrontServer({ distDir, routerUrl: 'https://api.shop.test/graphql?x="<y>"' });
  });
  afterAll(async () => {
    await app.close();
    await rm(distDir, { recursive: true, force: true });
  });

  it('serves the page with the router URL written in, escaped, and revalidated on every visit', async () => {
    const response = await app.inject({ url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toContain('<meta name="router-url" content="https://api.shop.test/graphql?x=&quot;&lt;y&gt;&quot;" />');
    expect(response.body).not.toContain('localhost:4000');
  });

  it('answers every client-side route with the same page, and never serves index.html without the URL', async () => {
    const home = (await app.inject({ url: '/' })).body;
    for (const url of ['/products/7f1c', '/orders/abc?x=1', '/admin/products/new', '/index.html']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.body, url).toBe(home);
    }
  });

  it('caches hashed assets for good and other files until revalidated', async () => {
    const asset = await app.inject({ url: '/assets/index-Abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const favicon = await app.inject({ url: '/favicon.svg' });
    expect(favicon.headers['cache-control']).toBe('no-cache');
    expect(favicon.headers.etag).toBeDefined();
  });

  it('compresses what it sends', async () => {
    const response = await app.inject({ url: '/assets/index-Abc123.js', headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers['content-encoding']).toBe('gzip');
  });

  it('gives missing files a 404 instead of the page, and lists no directories', async () => {
    for (const url of ['/assets/index-Gone99.js', '/assets/', '/assets', '/missing.png', '/../package.json']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(404);
      expect(response.body, url).not.toContain('router-url');
    }
  });

  it('lets the page talk to the router and nothing else', async () => {
    const csp = (await app.inject({ url: '/' })).headers['content-security-policy'] as string;
    expect(csp).toContain("connect-src 'self' https://api.shop.test wss://api.shop.test");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('refuses a build without the router-url tag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storefront-dist-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><html><head></head></html>');
    await expect(buildStorefrontServer({ distDir: dir, routerUrl: 'http://localhost:4000/graphql' })).rejects.toThrow(/router-url/);
    await rm(dir, { recursive: true, force: true });
  });
});
