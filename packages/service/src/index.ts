export * from './env.js';
export * from './errors.js';
export * from './http.js';
export * from './logger.js';
export * from './metrics.js';
export * from './page-size.js';
export * from './patched-version.js';
export * from './trust.js';
