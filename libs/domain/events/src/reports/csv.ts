import type { Report, ReportCell } from './report';

/**
 * Characters a spreadsheet takes as the start of a formula (`=`, `+`, `-`, `@`) or that some treat
 * so after trimming (tab, carriage return). A text cell starting with one gets a leading apostrophe,
 * so an email or name such as `=HYPERLINK(...)` stays text when an auditor opens the file.
 * Numbers are not text and are written as they are (a negative count never occurs anyway).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

function text(cell: ReportCell): string {
  if (cell === null) return '';
  if (typeof cell === 'string') return FORMULA_START.test(cell) ? `'${cell}` : cell;
  return String(cell);
}

/** RFC 4180: a field with a comma, quote, CR or LF is quoted and its quotes doubled. */
function field(cell: ReportCell): string {
  const value = text(cell);
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The report as an RFC 4180 CSV document: a header line, then one line per row, CRLF after each. */
export function toCsv(report: Pick<Report, 'columns' | 'rows'>): string {
  const lines = [report.columns.map((c) => field(c)).join(',')];
  for (const row of report.rows) lines.push(report.columns.map((c) => field(row[c] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
