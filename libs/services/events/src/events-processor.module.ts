import { Module } from '@nestjs/common';

/** The events worker: consumes the durable event queue and writes batches to the event table. */
@Module({})
export class EventsProcessorModule {}
