/** Shared test helpers, one import for every test file. */
export * from './cli.js';
export * from './files.js';
export * from './io.js';
export * from './properties.js';
export * from './stores.js';
export * from './clickhouse.js';
