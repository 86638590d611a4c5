/** A FIFO async mutex; `acquire` resolves with a release function that is safe to call twice. */
export class Mutex {
  private locked = false;
  private readonly waiters: (() => void)[] = [];

  async acquire(timeoutMs: number, what: string): Promise<() => void> {
    if (this.locked) {
      await new Promise<void>((resolve, reject) => {
        const waiter = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        this.waiters.push(waiter);
      });
    }
    this.locked = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.locked = false;
    };
  }
}
