import { fromGraphQLCodegenPersistedDocuments, type PersistedQueryManifestConfig } from '@apollo/generate-persisted-query-manifest';

/**
 * The trusted documents: every contract operation as Apollo Client sends it (with __typename added), keyed by
 * the sha256 of that text. GraphQL Codegen has already split the contract files into one document per operation.
 */
const config: PersistedQueryManifestConfig = {
  documents: fromGraphQLCodegenPersistedDocuments('src/generated/persisted-documents.json'),
  output: '../schema/persisted-query-manifest.json',
};

export default config;
