import type { Progress } from './backup';
import { openStoreSession, type StoreLocation } from './store-session';
import {
  insertRows,
  nonEmptyTables,
  quoteIdent,
  readTable,
  restoreSequences,
  rowsJson,
  sequenceValues,
  tableChecksum,
  tablesInLoadOrder,
} from './tables';

export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

export interface CopySummary {
  readonly tables: { table: string; rows: number; checksum: string; matches: boolean }[];
  readonly rows: number;
  readonly ms: number;
}

const BATCH = 2000;

/**
 * Copies every table of one store into another (the embedded store into PostgreSQL, for the move to HA): both
 * migrated by this version, the source read in one REPEATABLE READ snapshot, the target written in one
 * transaction in batches (one INSERT … json_populate_recordset per batch), sequences carried over, and each
 * table's count and checksum compared before the commit. A target with rows is refused unless `force`, which
 * empties it first (in the same transaction).
 */
export async function copyDatabase(
  source: StoreLocation,
  target: StoreLocation,
  options: { readonly force: boolean },
  progress: Progress = () => undefined,
): Promise<CopySummary> {
  const started = performance.now();
  const from = await openStoreSession(source);
  try {
    const to = await openStoreSession(target);
    try {
      await from.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await to.query('BEGIN');
      try {
        const tables = await tablesInLoadOrder(from);
        const occupied = await nonEmptyTables(to, tables);
        if (occupied.length > 0 && !options.force) {
          throw new CopyRefusedError(
            `the target database is not empty (${occupied.slice(0, 5).join(', ')}${occupied.length > 5 ? ', …' : ''}); use --force to replace its contents`,
          );
        }
        if (occupied.length > 0) await to.query(`TRUNCATE ${tables.map(quoteIdent).join(', ')} CASCADE`);
        let rows = 0;
        for (const [i, table] of tables.entries()) {
          progress('tables', i, tables.length);
          for await (const batch of readTable(from, table, BATCH)) {
            await insertRows(to, table, rowsJson(batch));
            rows += batch.length;
          }
        }
        progress('tables', tables.length, tables.length);
        await restoreSequences(to, await sequenceValues(from));
        const compared: CopySummary['tables'] = [];
        for (const table of tables) {
          const [a, b] = [await tableChecksum(from, table), await tableChecksum(to, table)];
          compared.push({ ...b, matches: a.rows === b.rows && a.checksum === b.checksum });
        }
        const wrong = compared.filter((t) => !t.matches);
        if (wrong.length > 0) {
          throw new Error(
            `copied rows differ from the source in ${wrong.map((t) => t.table).join(', ')}; nothing was committed`,
          );
        }
        await to.query('COMMIT');
        await from.query('COMMIT');
        return { tables: compared, rows, ms: Math.round(performance.now() - started) };
      } catch (error) {
        await to.query('ROLLBACK').catch(() => undefined);
        await from.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
