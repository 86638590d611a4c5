import { parse } from 'csv-parse/sync';
import type { ImportFailure } from '../model';

export interface CsvRow {
  /** The file line the record starts on (1-based, the header is line 1). */
  readonly line: number;
  readonly values: Record<string, string>;
}

/**
 * Reads a CSV export with a header row (names lower-cased and trimmed). A record that cannot be read (a
 * wrong number of columns, a stray quote) is reported with its line and skipped; the others are kept.
 */
export function readCsv(data: Buffer | string): {
  rows: CsvRow[];
  failures: ImportFailure[];
  /** The header's own spelling of each lower-cased name (custom field names keep their case). */
  headers: Map<string, string>;
} {
  const failures: ImportFailure[] = [];
  const headers = new Map<string, string>();
  const records = parse(data, {
    bom: true,
    columns: (header: string[]) =>
      header.map((h) => {
        const name = h.trim().toLowerCase();
        if (!headers.has(name)) headers.set(name, h.trim());
        return name;
      }),
    info: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      const lines = (error as { lines?: number } | undefined)?.lines;
      failures.push({
        where: `line ${lines ?? '?'}`,
        reason: (error?.message ?? 'unreadable record').replace(/\s*at line \d+/, '').slice(0, 200),
      });
      return undefined;
    },
  }) as unknown as { record: Record<string, string>; info: { lines: number; records: number } }[];
  // info.lines is the line the record ended on; a multi-line record started earlier.
  return {
    rows: records.map(({ record, info }) => ({ line: startLine(record, info.lines), values: record })),
    failures,
    headers,
  };
}

function startLine(record: Record<string, string>, endLine: number): number {
  const extra = Object.values(record).reduce((n, v) => n + (v.match(/\n/g)?.length ?? 0), 0);
  return endLine - extra;
}

/** The first non-empty value among these column names. */
export function pick(row: Record<string, string>, names: readonly string[]): string | null {
  for (const n of names) {
    const v = row[n];
    if (v !== undefined && v.trim() !== '') return v;
  }
  return null;
}
