export * from './event-bus.port';
export * from './logger';
export { DEFAULT_DELIVERY_LIMIT, DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_PREFETCH } from './internal/defaults';
export { topicMatches } from './internal/topic-pattern';
export * from './in-process/in-process-event-bus';
export { type AmqpConnector, DEFAULT_EXCHANGE, type RabbitMqEventBusOptions } from './rabbitmq/options';
export * from './rabbitmq/rabbitmq-event-bus';
export * from './push-publisher';
export * from './push-outbox.port';
