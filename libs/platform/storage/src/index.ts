export * from './blob-store.port';
export * from './blob-errors';
export * from './blob-key';
export * from './logger';
export * from './local/local-blob-store';
export * from './s3/s3-blob-store';
export * from './signing/blob-url-signer';
