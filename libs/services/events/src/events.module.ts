import { Module } from '@nestjs/common';

/** The events service: mounted under `/events` both in the all-in-one server and as its own app. */
@Module({})
export class EventsServiceModule {}
