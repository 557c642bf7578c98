import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'src/generated/resolvers-types.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        federation: true,
        useIndexSignature: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: '../context.js#Context',
        scalars: { DateTime: 'Date', SafeInt: 'number' },
        mappers: {
          Order: '../db/schema.js#OrderRow',
          OrderItem: '../db/schema.js#OrderItemRow',
          OrderConnection: '@shop/subgraph#Connection<OrderRow>',
          ProductSales: '../db/orders-repository.js#SalesRow',
          User: '../resolvers/references.js#EntityReference',
          Product: '../resolvers/references.js#EntityReference',
        },
      },
    },
  },
};

export default config;
