import { Client, types } from 'pg';
import { sqlSource, type VaultwardenSource } from './source';

/** pg_type's oid of `timestamp without time zone`. */
const TIMESTAMP_OID = 1114;

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
  return sqlSource({
    kind: 'postgres',
    query: async (sql, params) => (await client.query(sql, [...params])).rows as Record<string, unknown>[],
    quote: (identifier) => `"${identifier}"`,
    tableExistsSql: `SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`,
    close: async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    },
  });
}
