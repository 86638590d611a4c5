import { Module } from '@nestjs/common';

/** The billing service: mounted under `/billing` both in the all-in-one server and as its own app. */
@Module({})
export class BillingServiceModule {}
