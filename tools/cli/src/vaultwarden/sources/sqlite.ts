import Database from 'better-sqlite3';
import { sqlSource, type VaultwardenSource } from './source';

/** Vaultwarden's SQLite file (`db.sqlite3` in its data folder), opened read-only. */
export function openSqliteSource(file: string): VaultwardenSource {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  return sqlSource({
    kind: 'sqlite',
    query: (sql, params) => Promise.resolve(db.prepare(sql).all(...params) as Record<string, unknown>[]),
    quote: (identifier) => `"${identifier}"`,
    tableExistsSql: `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`,
    close: () => {
      db.close();
      return Promise.resolve();
    },
  });
}
