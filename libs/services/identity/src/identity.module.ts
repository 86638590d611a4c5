import { Module } from '@nestjs/common';

/** The identity service: mounted under `/identity` both in the all-in-one server and as its own app. */
@Module({})
export class IdentityServiceModule {}
