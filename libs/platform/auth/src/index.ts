export * from './public.decorator';
export * from './principal';
export * from './auth.guard';
export * from './organization-api';
export * from './org-permission';
export * from './expensive-call';
export * from './write-budget.guard';
