import { EventEmitter } from 'node:events';
import type { PGliteOptions, Results } from '@electric-sql/pglite';
import { PGliteDriver, getPGliteInstance } from 'typeorm-pglite';
import { Mutex } from './mutex';
import { transactionHolder } from './transaction-holder';

type Release = () => void;
type ConnectCallback = (error: unknown, client: LeasedClient | null, release: Release) => void;
type QueryCallback = (error: unknown, result: PgShapedResult | null) => void;

/** What TypeORM's postgres query runner reads from a `pg` result. */
interface PgShapedResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: Results['fields'];
}

/**
 * typeorm-pglite hands one shared PGlite connection to every query runner, so two concurrent
 * transactions interleave on it (a rollback in one undoes — or a commit in the other keeps — the
 * other's writes). Here every `connect` takes an exclusive lease on the single connection until
 * TypeORM releases the query runner, which makes transactions isolated as they are on a real pool.
 * Code must therefore never open a second query runner while holding one (use the transaction's manager).
 */
const lease = new Mutex();
const LEASE_TIMEOUT_MS = 30_000;
/** A lease held longer than this is reported with the code that took it. */
const LONG_LEASE_MS = 3_000;

export interface LongLease {
  readonly heldMs: number;
  /** Stack frames of the code that took the lease (no SQL, no parameters). */
  readonly holder: string;
}

const longLeaseListeners = new Set<(lease: LongLease) => void>();

/** Called once per lease that stays held past LONG_LEASE_MS (the runtime logs it). */
export function onLongLease(listener: (lease: LongLease) => void): () => void {
  longLeaseListeners.add(listener);
  return () => longLeaseListeners.delete(listener);
}

/** Thrown instead of waiting when a transaction asks for a second embedded connection. */
export class NestedConnectionError extends Error {
  constructor() {
    super(
      'a statement asked for a new embedded database connection from inside a transaction that holds the only one; ' +
        'run it through Database (which uses the open transaction) instead of the DataSource',
    );
    this.name = 'NestedConnectionError';
  }
}

function watchLease(holder: string): () => void {
  if (longLeaseListeners.size === 0) return () => undefined;
  const started = Date.now();
  const timer = setTimeout(() => {
    const heldMs = Date.now() - started;
    for (const listener of longLeaseListeners) listener({ heldMs, holder });
  }, LONG_LEASE_MS);
  timer.unref();
  return () => {
    clearTimeout(timer);
  };
}

class LeasedClient extends EventEmitter {
  private revoked = false;

  revoke(): void {
    this.revoked = true;
  }

  async query(sql: string, params?: unknown[] | QueryCallback, callback?: QueryCallback): Promise<PgShapedResult> {
    const cb = typeof params === 'function' ? params : callback;
    const values = typeof params === 'function' ? undefined : params;
    try {
      if (this.revoked) throw new Error('query on a released PGlite lease');
      const result = await runQuery(sql, values);
      cb?.(null, result);
      return result;
    } catch (error) {
      cb?.(error, null);
      throw error;
    }
  }

  release(): void {
    // pg clients expose release(); TypeORM uses the callback, but keep the shape familiar.
  }
}

async function runQuery(sql: string, values: unknown[] | undefined): Promise<PgShapedResult> {
  // PGlite runs each query synchronously on this thread, and queued queries (and leases) hand over through
  // promise callbacks, which run before any timer or socket: without this yield a burst of requests drains
  // as one long task and /alive, other users' requests and the hub wait for all of it.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const db = await getPGliteInstance();
  // Parameterless strings may hold several statements (migrations): exec runs them all.
  const result =
    values !== undefined && values.length > 0
      ? await db.query(sql, values)
      : ((await db.exec(sql)).at(-1) ?? { rows: [], fields: [], affectedRows: 0 });
  const command = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  return {
    rows: result.rows,
    rowCount: result.affectedRows ?? result.rows.length,
    command: command === 'WITH' ? 'SELECT' : command,
    fields: result.fields,
  };
}

/** The caller's frames, without this driver's and TypeORM's own. */
function leaseHolderFrames(): string {
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  return frames
    .filter((frame) => !frame.includes('node_modules') && !frame.includes('pglite-driver') && !frame.includes('node:'))
    .slice(0, 8)
    .map((frame) => frame.trim())
    .join('\n');
}

/** typeorm-pglite's own pool; used only to close the process-wide instance. */
let closer: { end(callback: (error: unknown) => void): void } | undefined;

class LeasedPGlitePool extends EventEmitter {
  connect(callback: ConnectCallback): void {
    const holding = transactionHolder.getStore();
    if (holding && !holding.isReleased) {
      callback(new NestedConnectionError(), null, () => undefined);
      return;
    }
    const holder = longLeaseListeners.size > 0 ? leaseHolderFrames() : '';
    lease.acquire(LEASE_TIMEOUT_MS, 'the embedded database connection').then(
      async (release) => {
        try {
          await getPGliteInstance();
        } catch (error) {
          release();
          callback(error, null, () => undefined);
          return;
        }
        const client = new LeasedClient();
        const unwatch = watchLease(holder);
        callback(null, client, () => {
          unwatch();
          client.revoke();
          release();
        });
      },
      (error: unknown) => {
        callback(error, null, () => undefined);
      },
    );
  }

  end(callback: (error: unknown) => void): void {
    if (closer) closer.end(callback);
    else callback(null);
  }
}

/** The `driver` option for TypeORM's postgres type, backed by an embedded PGlite at dataDir. */
export function leasedPGliteDriver(options: PGliteOptions): { Pool: typeof LeasedPGlitePool } {
  // Registers the options (and typeorm-pglite's boolean serializer) for the process-wide instance.
  const Pool = new PGliteDriver(options).driver.Pool;
  closer = new Pool();
  return { Pool: LeasedPGlitePool };
}
