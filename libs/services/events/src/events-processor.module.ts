import { Controller, Module } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { EVENT_BUS, type EventBus } from '@keyhaven/bus';
import { EVENTS_QUEUE, EventIngest, EventStreamingModule, EventsProcessingModule } from '@keyhaven/domain-events';
import { Public } from '@keyhaven/platform-auth';
import { BusTransport } from './bus-transport';

/**
 * The queue's message handler: acknowledged when `accept` resolves, i.e. after the batch committed.
 * Public: it serves no HTTP route, and the global bearer-token guard would otherwise refuse messages.
 */
@Public()
@Controller()
export class EventQueueConsumer {
  constructor(private readonly ingest: EventIngest) {}

  @EventPattern(EVENTS_QUEUE)
  handle(@Payload() message: unknown): Promise<void> {
    return this.ingest.accept(message);
  }
}

/** The events worker: relays the outbox to the durable event queue, consumes it in batches, applies retention. */
@Module({ imports: [EventsProcessingModule, EventStreamingModule], controllers: [EventQueueConsumer] })
export class EventsProcessorModule {}

/**
 * Attaches the queue consumer as a Nest microservice over the bus port (RabbitMQ's durable quorum
 * queue, or the in-process bus in the all-in-one). Prefetch lets the consumer hold enough messages
 * to fill a batch while the previous one is written.
 */
export function configureEventsProcessor(app: NestFastifyApplication): void {
  const bus = app.get<symbol, EventBus>(EVENT_BUS);
  const config = app.get<symbol, KeyhavenConfig>(KEYHAVEN_CONFIG);
  const prefetch = Math.min(1000, Math.max(8, 2 * config.EVENTS_BATCH_SIZE));
  app.connectMicroservice({
    strategy: new BusTransport(bus, { prefetch, queues: { [EVENTS_QUEUE]: config.EVENTS_QUEUE } }),
  });
}

/** Starts consuming once the application has initialised. */
export async function startEventsProcessor(app: NestFastifyApplication): Promise<void> {
  await app.startAllMicroservices();
}
