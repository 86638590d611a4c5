export * from './framing';
export * from './negotiate';
