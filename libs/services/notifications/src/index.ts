export * from './notifications.module';
export { configureNotificationsApp, SignalRWsAdapter } from './signalr-ws-adapter';
export { HubConnections } from './hub-connections';
export * from './hub-settings';
export const NOTIFICATIONS_PREFIX = 'notifications';
