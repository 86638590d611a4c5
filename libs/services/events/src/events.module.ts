import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { EventsDomainModule } from '@keyhaven/domain-events';
import { CollectController } from './collect.controller';

/** The events service: mounted under `/events` both in the all-in-one server and as its own app. */
@Module({ imports: [AuthDomainModule, EventsDomainModule], controllers: [CollectController] })
export class EventsServiceModule {}
