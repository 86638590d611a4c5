export * from './admin.module';
export const ADMIN_PREFIX = 'admin';
