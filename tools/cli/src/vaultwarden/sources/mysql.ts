import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { sqlSource, type VaultwardenSource } from './source';

/** `mysql://` and `mariadb://` (Vaultwarden's DATABASE_URL takes `mysql://`; MariaDB users often write the other). */
export const MYSQL_URL = /^(mysql|mariadb):\/\//;

/**
 * Vaultwarden's MySQL or MariaDB database, read in one consistent-snapshot READ ONLY transaction. DATETIME
 * columns come back as their text (naive UTC, as Vaultwarden writes them), never read in the local time zone;
 * BOOLEAN is TINYINT(1) and comes back as 0/1, BLOB as Buffers.
 */
export async function openMysqlSource(url: string): Promise<VaultwardenSource> {
  const connection = await createConnection({
    uri: url.replace(MYSQL_URL, 'mysql://'),
    dateStrings: true,
    supportBigNumbers: true,
    charset: 'utf8mb4',
  });
  await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  return sqlSource({
    kind: 'mysql',
    query: async (sql, params) => {
      const [rows] = await connection.query<RowDataPacket[]>(sql, [...params]);
      return rows;
    },
    quote: (identifier) => `\`${identifier}\``,
    tableExistsSql: `SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?`,
    close: async () => {
      await connection.query('ROLLBACK').catch(() => undefined);
      await connection.end();
    },
  });
}
