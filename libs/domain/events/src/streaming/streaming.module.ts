import { Module } from '@nestjs/common';
import { OutboundModule } from '@keyhaven/outbound';
import { EventStream } from './event-stream';
import { SiemWebhookRepository } from './siem-webhook.repository';
import { SiemWebhooksService } from './siem-webhooks.service';
import { SyslogStreamJob } from './syslog-stream.job';
import { WebhookDeliveryJob } from './webhook-delivery.job';

/** An organization's SIEM webhook settings (the API service's routes). */
@Module({
  providers: [EventStream, SiemWebhookRepository, SiemWebhooksService],
  exports: [EventStream, SiemWebhookRepository, SiemWebhooksService],
})
export class SiemWebhooksModule {}

/**
 * The streaming jobs: organization webhooks and the operator's syslog, from the stored events.
 * Mounted where events are processed (events-processor, the all-in-one); any number of instances
 * may mount it, the Lock port lets one deliver each stream at a time.
 */
@Module({
  imports: [SiemWebhooksModule, OutboundModule],
  providers: [WebhookDeliveryJob, SyslogStreamJob],
  exports: [WebhookDeliveryJob, SyslogStreamJob],
})
export class EventStreamingModule {}
