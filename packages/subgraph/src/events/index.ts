export * from './event.js';
export * from './feed.js';
export * from './live.js';
export * from './relay.js';
export * from './table.js';
export * from './start.js';
export * from './broker.js';
