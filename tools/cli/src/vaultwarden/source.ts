import Database from 'better-sqlite3';
import { Client, types } from 'pg';

/** Read access to a Vaultwarden database, whichever engine holds it. */
export interface VaultwardenSource {
  readonly kind: 'sqlite' | 'postgres';
  /** Whether the table exists (older Vaultwarden versions lack some). */
  has(table: string): Promise<boolean>;
  /** Every row of a table; timestamps as Vaultwarden's naive UTC text, binary columns as Buffers. */
  rows<T>(table: string): Promise<T[]>;
  close(): Promise<void>;
}

const TABLE = /^[a-z_]+$/;
/** pg_type's oid of `timestamp without time zone`. */
const TIMESTAMP_OID = 1114;

function checked(table: string): string {
  if (!TABLE.test(table)) throw new Error(`not a table name: ${table}`);
  return table;
}

/** Vaultwarden's SQLite file (`db.sqlite3` in its data folder), opened read-only. */
export function openSqliteSource(file: string): VaultwardenSource {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  return {
    kind: 'sqlite',
    has: (table) =>
      Promise.resolve(
        db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(checked(table)) !== undefined,
      ),
    rows: <T>(table: string) => Promise.resolve(db.prepare(`SELECT * FROM ${checked(table)}`).all() as T[]),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

/** Vaultwarden's PostgreSQL database, read in one REPEATABLE READ READ ONLY transaction (a consistent view). */
export async function openPostgresSource(url: string): Promise<VaultwardenSource> {
  const client = new Client({
    connectionString: url,
    // Vaultwarden's `timestamp` columns hold naive UTC: keep the text, never the local-time reading of it.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === TIMESTAMP_OID
          ? (v: string) => v
          : (types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) as typeof types.getTypeParser,
    },
  });
  await client.connect();
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  return {
    kind: 'postgres',
    has: async (table) =>
      (
        await client.query(
          `SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`,
          [checked(table)],
        )
      ).rowCount === 1,
    rows: async <T>(table: string) => (await client.query(`SELECT * FROM ${checked(table)}`)).rows as T[],
    close: async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    },
  };
}
