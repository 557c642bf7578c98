import { createRequire } from 'node:module';

/**
 * graphql as @apollo/federation-internals and @apollo/gateway load it (CommonJS). A plain `import 'graphql'` in
 * a vitest module gets the package's ESM build instead: a second instance, whose instanceof checks refuse the
 * types of the schemas federation-internals builds.
 */
export const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');
