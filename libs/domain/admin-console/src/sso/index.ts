export * from './sso-config';
export * from './idp-adapter';
export * from './idp-adapter.registry';
export * from './decryption-options';
export * from './sso-config.repository';
export * from './sso-pending.repository';
export * from './secret-box';
