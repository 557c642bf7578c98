import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { EXPLORER_DIR, EXPLORER_PAGE } from '../router/src/explorer.js';

/**
 * The router's offline explorer (router/explorer/main.tsx: GraphiQL from npm) bundled by esbuild into
 * router/explorer/dist/: explorer.js, explorer.css (GraphiQL's fonts and icons are inlined) and index.html. Run by
 * `npm run build`, `npm start` and `npm run dev`; the router serves the folder (router/src/explorer.ts).
 */
export async function buildExplorer(outdir = EXPLORER_DIR): Promise<string> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { explorer: fileURLToPath(new URL('../router/explorer/main.tsx', import.meta.url)) },
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.woff2': 'dataurl', '.woff': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl', '.png': 'dataurl' },
    legalComments: 'none',
    logLevel: 'warning',
  });
  await writeFile(`${outdir}/index.html`, EXPLORER_PAGE);
  return outdir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildExplorer()}`);
}
