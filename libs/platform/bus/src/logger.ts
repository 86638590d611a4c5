/** The subset of a pino logger the bus adapters use; pass a pino instance or child. Payloads are never logged. */
export interface BusLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentBusLogger: BusLogger = {
  warn: () => undefined,
  error: () => undefined,
};

/** Logging runs inside broker callbacks and error paths, where a throwing logger must not take the process down. */
export function guardLogger(logger: BusLogger): BusLogger {
  return {
    warn: (obj, msg) => {
      try {
        logger.warn(obj, msg);
      } catch {
        // A broken logger must not turn a handled error into a crash.
      }
    },
    error: (obj, msg) => {
      try {
        logger.error(obj, msg);
      } catch {
        // As above.
      }
    },
  };
}
