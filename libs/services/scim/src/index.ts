export * from './scim.module';
export const SCIM_PREFIX = 'scim';
