import { CacheUnavailableError } from '../cache.port';

/**
 * Runs one Redis call and turns "Redis did not answer" into CacheUnavailableError. A reply Redis sent
 * (ReplyError: a script or type error) is a defect, not an outage, and is passed on unchanged. With the
 * client's bounded retries (connect-redis.ts) the call fails within a few reconnect attempts, never hangs.
 */
export async function reachable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && error.name === 'ReplyError') throw error;
    throw new CacheUnavailableError(error);
  }
}
