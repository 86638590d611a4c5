export * from './sso.module';
export const SSO_PREFIX = 'sso';
