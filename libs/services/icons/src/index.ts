export * from './icons.module';
export { FALLBACK_ICON } from './fallback-icon';
export const ICONS_PREFIX = 'icons';
