/** Runs fn synchronously (so in-memory operations stay atomic) but reports a throw as a rejection, like I/O would. */
export function promised<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(fn());
  });
}
