import { Module } from '@nestjs/common';
import { ComplianceReports } from './compliance-reports';

/** Compliance reports; needs only the store (Database), so any service or the operator CLI can mount it. */
@Module({ providers: [ComplianceReports], exports: [ComplianceReports] })
export class ComplianceReportsModule {}
