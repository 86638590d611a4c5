import { Module } from '@nestjs/common';

/** The notifications service: mounted under `/notifications` both in the all-in-one server and as its own app. */
@Module({})
export class NotificationsServiceModule {}
