import { Module } from '@nestjs/common';

/** The admin service: mounted under `/admin` both in the all-in-one server and as its own app. */
@Module({})
export class AdminServiceModule {}
