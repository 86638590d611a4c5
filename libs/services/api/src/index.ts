export * from './api.module';
export const API_PREFIX = 'api';
