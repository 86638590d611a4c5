export * from './identity.module';
export const IDENTITY_PREFIX = 'identity';
