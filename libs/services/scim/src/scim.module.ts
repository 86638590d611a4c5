import { Module } from '@nestjs/common';

/** The scim service: mounted under `/scim` both in the all-in-one server and as its own app. */
@Module({})
export class ScimServiceModule {}
