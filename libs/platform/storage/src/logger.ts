/** The subset of a pino logger the storage adapters use; pass a pino instance or child. */
export interface StorageLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentStorageLogger: StorageLogger = {
  warn: () => undefined,
  error: () => undefined,
};
