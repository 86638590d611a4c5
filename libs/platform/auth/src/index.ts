export * from './public.decorator';
export * from './auth.guard';
