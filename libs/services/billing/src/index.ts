export * from './billing.module';
export const BILLING_PREFIX = 'billing';
