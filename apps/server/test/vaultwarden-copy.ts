import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { serviceUrls } from '@keyhaven/testing';
import { vaultwardenSchemaScripts } from './vaultwarden-migrations';

/**
 * The file's tables, each after the tables it references, so a copy's inserts satisfy its foreign keys. Not
 * sqlite_master's order: Vaultwarden's SQLite migrations rebuild tables (create `x_new`, copy, rename), which
 * moves a table behind the ones that reference it.
 */
function tablesByReference(source: Database.Database): string[] {
  const names = (
    source.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid`).all() as { name: string }[]
  )
    .map((t) => t.name)
    .filter((name) => !name.startsWith('sqlite_'));
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string): void => {
    if (ordered.includes(name) || visiting.has(name)) return;
    visiting.add(name);
    const references = source.prepare(`SELECT "table" FROM pragma_foreign_key_list(?)`).all(name) as {
      table: string;
    }[];
    for (const { table } of references) if (table !== name) visit(table);
    visiting.delete(name);
    ordered.push(name);
  };
  for (const name of names) visit(name);
  return ordered;
}

/** Every row of the fixture's SQLite file, table by table, referenced tables first. */
function* sqliteRows(sqlite: string): Generator<{ table: string; row: Record<string, unknown> }> {
  const source = new Database(sqlite, { readonly: true });
  try {
    for (const name of tablesByReference(source)) {
      for (const row of source.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        yield { table: name, row };
      }
    }
  } finally {
    source.close();
  }
}

/** The same Vaultwarden database on PostgreSQL, as Vaultwarden's PostgreSQL migrations type it. */
export async function copyVaultwardenToPostgres(sqlite: string, url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const script of vaultwardenSchemaScripts('postgresql')) await client.query(script.sql);
    for (const { table, row } of sqliteRows(sqlite)) {
      const cols = Object.keys(row);
      await client.query(
        `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        cols.map((c) => row[c]),
      );
    }
  } finally {
    await client.end();
  }
}

/**
 * The same Vaultwarden database on MySQL/MariaDB, as Vaultwarden's MySQL migrations type it. DATETIME keeps
 * whole seconds there, so the copy's timestamps lose their fractions, as Vaultwarden's own MySQL rows have none.
 */
export async function copyVaultwardenToMysql(sqlite: string, url: string): Promise<void> {
  const connection = await createConnection({ uri: url, multipleStatements: true, charset: 'utf8mb4' });
  try {
    // As Vaultwarden migrates: its early MySQL migrations reference tables they create later in the same script.
    await connection.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const script of vaultwardenSchemaScripts('mysql')) await connection.query(script.sql);
    await connection.query('SET FOREIGN_KEY_CHECKS = 1');
    for (const { table, row } of sqliteRows(sqlite)) {
      const cols = Object.keys(row);
      await connection.query(
        `INSERT INTO \`${table}\` (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        cols.map((c) => row[c]),
      );
    }
  } finally {
    await connection.end();
  }
}

/**
 * A new, empty MySQL/MariaDB database on the machine's server (TEST_MYSQL_URL's account may create
 * `keyhaven_*` databases; .ci/run sets that up); `drop()` removes it.
 */
export async function createScratchMysqlDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = serviceUrls.mysql();
  const name = `keyhaven_vw_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const connection = await createConnection({ uri: adminUrl });
    try {
      await connection.query(sql);
    } finally {
      await connection.end();
    }
  };
  await admin(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name}`) };
}
