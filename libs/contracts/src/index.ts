export * from './errors';
export * from './kdf';
export * from './enc-string';
export * from './validate';
export * from './push';
export * from './list';
export * from './guid';
