export * from './age-stream';
export * from './backup';
export * from './container';
export * from './copy';
export * from './restore';
export * from './store-session';
export { tableChecksum, tablesInLoadOrder, type TableChecksum } from './tables';
export * from './scheduled-backup';
export * from './verify';
