import { Module } from '@nestjs/common';

/** The icons service: mounted under `/icons` both in the all-in-one server and as its own app. */
@Module({})
export class IconsServiceModule {}
