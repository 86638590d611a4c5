export * from './event-stream';
export * from './siem-webhook.repository';
export * from './siem-webhooks.service';
export * from './syslog-format';
export * from './webhook-delivery.job';
export * from './syslog-stream.job';
export * from './streaming.module';
