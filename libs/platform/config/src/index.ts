export * from './load';
export * from './schemas';
export * from './test-env';
export * from './config.module';
