import { Module } from '@nestjs/common';

/** The sso service: mounted under `/sso` both in the all-in-one server and as its own app. */
@Module({})
export class SsoServiceModule {}
