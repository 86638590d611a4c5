import { setTimeout as sleep } from 'node:timers/promises';
import type { BusLogger } from '../logger';

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. Keeps tests fast without long sleeps. */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** True once `promise` resolves; false while pending or after it rejects. */
export async function succeeds(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise;
    return true;
  } catch {
    return false;
  }
}

/** A short pause for negative assertions ("nothing more arrives"), after a positive poll has passed. */
export function settle(ms = 150): Promise<void> {
  return sleep(ms);
}

export interface LogEntry {
  readonly level: 'warn' | 'error';
  readonly obj: object;
  readonly msg: string;
}

/** A BusLogger that records what it is given. */
export function recordingLogger(): { logger: BusLogger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    logger: {
      warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
      error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
    },
  };
}
