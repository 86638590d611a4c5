export * from './boot';
export * from './infrastructure';
export * from './infrastructure.module';
export * from './root.module';
export * from './service-spec';
export * from './backup';
