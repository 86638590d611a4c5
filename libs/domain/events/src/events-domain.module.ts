import { Module } from '@nestjs/common';
import { AdminConsoleDomainModule } from '@keyhaven/domain-admin-console';
import { CollectService } from './collect.service';
import { EventIngest } from './event-ingest';
import { EventQueryService } from './event-query.service';
import { EventRepository } from './event.repository';
import { EventRetentionJob } from './event-retention.job';
import { OutboxRelay } from './outbox-relay';

/** The event log as the API serves it: queries and client-reported events. */
@Module({
  imports: [AdminConsoleDomainModule],
  providers: [EventRepository, EventQueryService, CollectService],
  exports: [EventQueryService, CollectService],
})
export class EventsDomainModule {}

/**
 * The processing side, mounted by the events processor (and the all-in-one): the outbox relay, the
 * queue consumer's batching ingest and the retention job.
 */
@Module({
  providers: [EventRepository, EventIngest, OutboxRelay, EventRetentionJob],
  exports: [EventIngest, OutboxRelay, EventRetentionJob],
})
export class EventsProcessingModule {}
