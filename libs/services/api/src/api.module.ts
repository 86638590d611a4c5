import { Module } from '@nestjs/common';

/** The api service: mounted under `/api` both in the all-in-one server and as its own app. */
@Module({})
export class ApiServiceModule {}
