/** Which database engine a Vaultwarden instance ran on (Vaultwarden supports exactly these three). */
export type SourceKind = 'sqlite' | 'postgres' | 'mysql';

/** Read access to a Vaultwarden database, whichever engine holds it. */
export interface VaultwardenSource {
  readonly kind: SourceKind;
  /** Whether the table exists (older Vaultwarden versions lack some). */
  has(table: string): Promise<boolean>;
  /** Every row of a table; timestamps as Vaultwarden's naive UTC text, binary columns as Buffers. */
  rows<T>(table: string): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * What differs between the engines: how a statement is sent (the driver), how an identifier is quoted and how
 * "does this table exist" is asked (the dialect). Everything else is `sqlSource`'s, shared.
 */
export interface SqlDriver {
  readonly kind: SourceKind;
  query(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>;
  quote(identifier: string): string;
  /** A statement with one parameter, the table name, answering a row when the table exists. */
  readonly tableExistsSql: string;
  close(): Promise<void>;
}

const TABLE = /^[a-z_]+$/;

/** Table names come from the importer, never from the data; still, nothing else reaches the SQL text. */
function checked(table: string): string {
  if (!TABLE.test(table)) throw new Error(`not a table name: ${table}`);
  return table;
}

export function sqlSource(driver: SqlDriver): VaultwardenSource {
  return {
    kind: driver.kind,
    has: async (table) => (await driver.query(driver.tableExistsSql, [checked(table)])).length > 0,
    rows: async <T>(table: string) => (await driver.query(`SELECT * FROM ${driver.quote(checked(table))}`, [])) as T[],
    close: () => driver.close(),
  };
}
