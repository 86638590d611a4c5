export * from './job-lock';
export * from './job-scheduler';
