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
        mappers: {
          Product: '../db/schema.js#ProductRow',
          ProductConnection: '@shop/subgraph#Connection<ProductRow>',
          StockReservation: '../db/reservations-repository.js#Reservation',
          ReservedLine: '../db/schema.js#ReservationLineRow',
        },
      },
    },
  },
};

export default config;
