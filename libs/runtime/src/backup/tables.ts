import type { StoreSession } from './store-session';

/** Written by the migration runner itself; the target's own migrations fill it. */
const SKIPPED_TABLES = new Set(['schema_migrations']);

export interface TableChecksum {
  readonly table: string;
  readonly rows: number;
  /** Order-independent: the sum of a 60-bit prefix of each row's md5, as decimal text. */
  readonly checksum: string;
}

export interface SequenceValue {
  readonly name: string;
  readonly value: string;
  readonly called: boolean;
}

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * The application's tables, parents before children (foreign keys), so rows can be inserted in this order with
 * every constraint checked. A cycle would make that impossible; the schema has none, and this says so if one appears.
 */
export async function tablesInLoadOrder(session: StoreSession): Promise<string[]> {
  const tables = (
    await session.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
    )
  )
    .map((t) => t.name)
    .filter((t) => !SKIPPED_TABLES.has(t));
  const edges = await session.query<{ child: string; parent: string }>(
    `SELECT ch.relname AS child, pa.relname AS parent FROM pg_constraint k
       JOIN pg_class ch ON ch.oid = k.conrelid JOIN pg_class pa ON pa.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = ch.relnamespace
      WHERE k.contype = 'f' AND n.nspname = 'public' AND ch.oid <> pa.oid`,
  );
  const parents = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  for (const { child, parent } of edges) parents.get(child)?.add(parent);
  const ordered: string[] = [];
  const done = new Set<string>();
  while (ordered.length < tables.length) {
    const ready = tables.filter((t) => !done.has(t) && [...(parents.get(t) ?? [])].every((p) => done.has(p)));
    if (ready.length === 0) {
      const left = tables.filter((t) => !done.has(t));
      throw new Error(`foreign keys form a cycle between ${left.join(', ')}; no load order exists`);
    }
    for (const t of ready) {
      ordered.push(t);
      done.add(t);
    }
  }
  return ordered;
}

export async function sequenceValues(session: StoreSession): Promise<SequenceValue[]> {
  const rows = await session.query<{ name: string; value: string | null; called: boolean }>(
    `SELECT sequencename AS name, last_value::text AS value, last_value IS NOT NULL AS called
       FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename`,
  );
  // A sequence never used has no last_value: its start is restored by leaving it alone.
  return rows.filter((r) => r.value !== null).map((r) => ({ name: r.name, value: r.value ?? '1', called: r.called }));
}

export async function restoreSequences(session: StoreSession, values: readonly SequenceValue[]): Promise<void> {
  for (const s of values) {
    await session.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [quoteIdent(s.name), s.value, s.called]);
  }
}

/**
 * Count and checksum of one table, computed by the database in one pass (no row leaves it). Rows are rendered by
 * row_to_json in a UTC session, which gives the same text on PGlite and PostgreSQL for the same values.
 */
export async function tableChecksum(session: StoreSession, table: string): Promise<TableChecksum> {
  const [row] = await session.query<{ rows: string; checksum: string }>(
    `SELECT count(*)::text AS rows,
            coalesce(sum(('x' || substr(md5(row_to_json(t)::text), 1, 15))::bit(60)::bigint::numeric), 0)::text AS checksum
       FROM ${quoteIdent(table)} t`,
  );
  return { table, rows: Number(row?.rows ?? 0), checksum: row?.checksum ?? '0' };
}

/** Tables that hold at least one row (a restore or copy target must have none). */
export async function nonEmptyTables(session: StoreSession, tables: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const t of tables) {
    const rows = await session.query(`SELECT 1 FROM ${quoteIdent(t)} LIMIT 1`);
    if (rows.length > 0) found.push(t);
  }
  return found;
}

/**
 * Reads a table in batches of rows as JSON text, through a cursor of the caller's open transaction (so every
 * table is read from the same snapshot). Memory stays at one batch.
 */
export async function* readTable(session: StoreSession, table: string, batch: number): AsyncGenerator<string[]> {
  const cursor = `keyhaven_read_${table.replace(/\W/g, '_')}`;
  await session.query(
    `DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS r FROM ${quoteIdent(table)} t`,
  );
  try {
    for (;;) {
      const rows = await session.query<{ r: string }>(`FETCH FORWARD ${batch} FROM ${cursor}`);
      if (rows.length === 0) break;
      yield rows.map((r) => r.r);
      if (rows.length < batch) break;
    }
  } finally {
    await session.query(`CLOSE ${cursor}`);
  }
}

/** The JSON array text of a batch from readTable. */
export const rowsJson = (rows: readonly string[]): string => `[${rows.join(',')}]`;

/** Inserts a batch of rows (a JSON array of row objects, see rowsJson) in one statement. */
export async function insertRows(session: StoreSession, table: string, json: string): Promise<void> {
  const q = quoteIdent(table);
  await session.query(`INSERT INTO ${q} SELECT * FROM json_populate_recordset(NULL::${q}, $1::json)`, [json]);
}
