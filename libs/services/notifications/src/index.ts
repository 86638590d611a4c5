export * from './notifications.module';
export const NOTIFICATIONS_PREFIX = 'notifications';
