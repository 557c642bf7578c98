import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { SERVICE_NAMES, SERVICES, type ServiceName } from '@shop/service/services';
import { buildExplorer } from './build-explorer.js';

/**
 * `npm run build [-- --service <name>]`: each service's TypeScript, with the workspace packages it imports, as
 * JavaScript in `<service>/dist/`, which production images run with plain `node`. Dependencies from the registry
 * stay in node_modules. Type checking is `npm run typecheck`'s job, not this one's. The router's offline explorer
 * is bundled too, into router/explorer/dist/.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bare imports are external, except our own workspace packages, which are bundled. */
const externalDependencies: Plugin = {
  name: 'external-dependencies',
  setup(context) {
    context.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@shop/') ? undefined : { path: args.path, external: true }));
  },
};

export async function buildService(name: ServiceName): Promise<string> {
  const dir = `${ROOT}/${SERVICES[name].dir}`;
  await rm(`${dir}/dist`, { recursive: true, force: true });
  await build({
    entryPoints: [`${dir}/src/index.ts`],
    outdir: `${dir}/dist`,
    bundle: true,
    // Code split at dynamic imports keeps their order: tracing starts before the modules it instruments load.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    plugins: [externalDependencies],
    logLevel: 'warning',
  });
  return `${SERVICES[name].dir}/dist/index.js`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { service: { type: 'string' } } });
  const names = values.service ? [values.service as ServiceName] : SERVICE_NAMES;
  for (const name of names) {
    if (!SERVICE_NAMES.includes(name)) throw new Error(`unknown service ${name}; one of ${SERVICE_NAMES.join(', ')}`);
    console.log(`built ${await buildService(name)}`);
    if (name === 'router') console.log(`built ${await buildExplorer()}`);
  }
}
