export * from './services';
export * from './https-client';
export * from './server-process';
export * from './scratch-database';
export { migrationsForTest } from '@keyhaven/db';
export * from './bw-cli';
export * from './accounts';
export * from './prefix-router';
export * from './smtp-sink';
