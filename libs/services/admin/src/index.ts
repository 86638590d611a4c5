export * from './admin.module';
export { hashAdminToken } from './auth/admin-token';
export const ADMIN_PREFIX = 'admin';
