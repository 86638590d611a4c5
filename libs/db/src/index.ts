export * from './data-source';
export * from './migrate';
export * from './mutex';
export { migrationsForTest, migrations as allMigrations } from './migrations';
export * from './entities';
export * from './database';
export * from './event-recorder';
export { onLongLease, NestedConnectionError, type LongLease } from './pglite-driver';
export * from './jobs';
