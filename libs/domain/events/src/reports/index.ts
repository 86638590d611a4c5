export * from './report';
export * from './csv';
export * from './compliance-reports';
export * from './compliance-reports.module';
export * from './report-request';
