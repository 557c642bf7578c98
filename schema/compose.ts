import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeSupergraph, SUPERGRAPH_FILE } from './subgraphs.js';

/** `npm run compose`: writes schema/supergraph.graphql, or prints every composition error and fails. */
const result = composeSupergraph();
if (result.errors) {
  console.error(`Composition failed with ${result.errors.length} error(s):\n`);
  for (const message of result.errors) console.error(`  - ${message}\n`);
  process.exit(1);
}
writeFileSync(SUPERGRAPH_FILE, result.supergraphSdl);
console.log(`Wrote ${fileURLToPath(SUPERGRAPH_FILE)}`);
