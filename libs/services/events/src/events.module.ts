import { Module } from '@nestjs/common';
import { AuthDomainModule } from '@keyhaven/domain-auth';
import { CollectController } from './collect.controller';

/** The events service: mounted under `/events` both in the all-in-one server and as its own app. */
@Module({ imports: [AuthDomainModule], controllers: [CollectController] })
export class EventsServiceModule {}
