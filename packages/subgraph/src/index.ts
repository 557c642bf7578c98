export * from './auth.js';
export * from './db.js';
export * from './pagination.js';
export * from './router-secret.js';
export * from './scalars.js';
export * from './subgraph.js';
export * from './subgraph-server.js';
export * from './validation.js';
