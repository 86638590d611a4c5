import type { Lock } from './cache.port';

/**
 * A job every instance ticks on the same interval: never two runs at once in this process, a failed
 * run reported to `onError` and retried at the next tick, the timer never keeping the process alive,
 * and `stop()` waiting for the run in progress. Which instance does the work is the job's own business
 * (see `runExclusively`).
 */
export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.run()
        .then(() => undefined)
        .catch(this.onError)
        .finally(() => {
          this.running = undefined;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

/**
 * Runs `fn` while this instance holds the lease `key` in the shared lock, and answers its result; null
 * without running when another instance holds it. The lease is released however `fn` ends.
 */
export async function runExclusively<T>(
  lock: Lock,
  key: string,
  ttlMs: number,
  fn: () => Promise<T>,
): Promise<T | null> {
  const handle = await lock.tryAcquire(key, ttlMs);
  if (!handle) return null;
  try {
    return await fn();
  } finally {
    await handle.release();
  }
}
