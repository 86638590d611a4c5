export interface BackoffOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** Exponential backoff (attempt 0 → initialDelayMs), capped, with ±20% jitter so instances don't reconnect in lockstep. */
export function backoffDelay(attempt: number, { initialDelayMs, maxDelayMs }: BackoffOptions): number {
  const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  const jittered = base * (0.8 + Math.random() * 0.4);
  return Math.round(Math.min(maxDelayMs, jittered));
}

/** Rejects with `message` after `ms`; the timer is always cleared, and a late result is ignored. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        reject(new Error(message));
      },
      Math.max(0, ms),
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(toError(err));
      },
    );
  });
}

/** Waits for every task to settle, but no longer than `ms`. Resolves true when all settled in time. */
export function settleWithin(tasks: Iterable<Promise<unknown>>, ms: number): Promise<boolean> {
  const all = [...tasks];
  if (all.length === 0) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, ms);
    void Promise.allSettled(all).then(() => {
      // allSettled never rejects, so this chain cannot float a rejection.
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : 'non-Error value thrown', { cause: err });
}

export function errorMessage(err: unknown): string {
  return toError(err).message;
}
