import { Module } from '@nestjs/common';
import { CollectController } from './collect.controller';

/** The events service: mounted under `/events` both in the all-in-one server and as its own app. */
@Module({ controllers: [CollectController] })
export class EventsServiceModule {}
