import { EventEmitter } from 'node:events';
import type { PGliteOptions, Results } from '@electric-sql/pglite';
import { PGliteDriver, getPGliteInstance } from 'typeorm-pglite';
import { Mutex } from './mutex';

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

/** typeorm-pglite's own pool; used only to close the process-wide instance. */
let closer: { end(callback: (error: unknown) => void): void } | undefined;

class LeasedPGlitePool extends EventEmitter {
  connect(callback: ConnectCallback): void {
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
        callback(null, client, () => {
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
