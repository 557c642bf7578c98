import { readFileSync } from 'node:fs';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { Supergraph } from '@apollo/federation-internals';
import { printExecutableGraphQLDocument } from '@graphql-tools/documents';
import { parse, printSchema } from 'graphql';

/** The schema clients see: the composed supergraph without its join directives and @inaccessible parts. */
const apiSchema = printSchema(
  Supergraph.build(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'))
    .apiSchema()
    .toGraphQLJSSchema(),
);

const config: CodegenConfig = {
  schema: apiSchema,
  // The client contract: the storefront sends exactly these operations.
  documents: '../schema/operations/*.graphql',
  generates: {
    'src/generated/': {
      preset: 'client',
      // persisted-documents.json splits the contract into one document per operation, for the manifest.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      // The documents the client sends are printed in the canonical order the persisted documents use, so that
      // the text Apollo Client sends hashes to the manifest's id (an APQ fallback checks exactly that).
      documentTransforms: [
        {
          transform: ({ documents }) =>
            documents.map((source) => ({ ...source, document: source.document && parse(printExecutableGraphQLDocument(source.document)) })),
        },
      ],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', SafeInt: 'number' },
      },
    },
  },
};

export default config;
