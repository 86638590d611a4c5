export * from './icons.module';
export const ICONS_PREFIX = 'icons';
