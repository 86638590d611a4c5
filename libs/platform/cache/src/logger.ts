/** The subset of a pino logger the cache adapters use; pass a pino instance or child. */
export interface CacheLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentCacheLogger: CacheLogger = {
  warn: () => undefined,
  error: () => undefined,
};
