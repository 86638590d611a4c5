export * from './events.module';
export const EVENTS_PREFIX = 'events';
export * from './events-processor.module';
