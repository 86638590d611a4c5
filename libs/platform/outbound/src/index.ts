export * from './address-policy';
export * from './outbound-errors';
export * from './pinned-connector';
export * from './guarded-fetch';
export * from './outbound.module';
