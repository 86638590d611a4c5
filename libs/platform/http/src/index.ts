export * from './bootstrap';
export * from './error-filter';
export * from './health';
export * from './logger';
export * from './metrics';
export * from './run-main';
export * from './tls';
export * from './parse-guid.pipe';
