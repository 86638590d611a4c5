import { randomBytes } from 'node:crypto';
import type { StoreSession } from '@keyhaven/runtime';
import type { BlobStore } from '@keyhaven/storage';
import type { SourceKind, VaultwardenSource } from './sources/source';

export interface EntityCount {
  read: number;
  created: number;
  /** Already in Keyhaven (an earlier run): left as they are. */
  existing: number;
  /** Not imported; the reasons are in `skipped`. */
  skipped: number;
}

export interface VaultwardenSummary {
  dryRun: boolean;
  source: SourceKind;
  entities: Record<string, EntityCount>;
  skipped: { what: string; reason: string }[];
  /** Vaultwarden data this importer does not carry over (each with why). */
  notMigrated: string[];
  ms: number;
}

export interface ImportVaultwardenOptions {
  /** Vaultwarden's data folder (attachments under `attachments/<cipher>/<id>`); attachments are skipped without it. */
  readonly dataDir?: string | undefined;
  readonly dryRun: boolean;
  readonly progress?: (phase: string, done: number, total: number) => void;
}

export type Row = Record<string, unknown>;

export const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : '';
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : str(v));
export const buf = (v: unknown): Buffer =>
  Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.alloc(0);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const API_KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new 30-character API key, for the rows Vaultwarden has none for. */
export function apiKey(): string {
  return [...randomBytes(30)].map((b) => API_KEY_CHARS[b % API_KEY_CHARS.length]).join('');
}

const BATCH = 500;

/** What one step learnt that a later step needs (which accounts, organizations, items made it in). */
export interface ImportState {
  /** Vaultwarden user ids imported as Keyhaven accounts. */
  readonly accounts: Set<string>;
  /** Every Vaultwarden user id's email, invited ones included. */
  readonly emailOf: Map<string, string>;
  readonly folderOwner: Map<string, string>;
  readonly orgIds: Set<string>;
  /** Collection id → its organization. */
  readonly collectionOrg: Map<string, string>;
  /** `${user}/${org}` → membership id. */
  readonly memberOf: Map<string, string>;
  /** Imported membership ids. */
  readonly memberIds: Set<string>;
  readonly cipherIds: Set<string>;
}

/** The counters, the skip list and the insert every step shares. */
export class ImportContext {
  readonly entities: Record<string, EntityCount> = {};
  readonly skipped: VaultwardenSummary['skipped'] = [];
  readonly notMigrated: string[] = [];
  readonly now = new Date().toISOString();
  readonly state: ImportState = {
    accounts: new Set(),
    emailOf: new Map(),
    folderOwner: new Map(),
    orgIds: new Set(),
    collectionOrg: new Map(),
    memberOf: new Map(),
    memberIds: new Set(),
    cipherIds: new Set(),
  };
  readonly progress: (phase: string, done: number, total: number) => void;

  constructor(
    readonly source: VaultwardenSource,
    readonly target: StoreSession,
    readonly blobs: BlobStore | null,
    readonly options: ImportVaultwardenOptions,
  ) {
    this.progress = options.progress ?? (() => undefined);
  }

  count(name: string): EntityCount {
    return (this.entities[name] ??= { read: 0, created: 0, existing: 0, skipped: 0 });
  }

  /** A row read and not imported: counted under its entity and listed with the reason. */
  skip(name: string, what: string, reason: string): void {
    this.count(name).skipped++;
    this.skipped.push({ what, reason });
  }

  async rowsOf(table: string): Promise<Row[]> {
    return (await this.source.has(table)) ? this.source.rows<Row>(table) : [];
  }

  /** Inserts rows (keys = columns) that are not there yet; answers the `returning` values of the new ones. */
  async insert(name: string, table: string, rows: Row[], returning: string): Promise<string[]> {
    const entity = this.count(name);
    entity.read += rows.length;
    const created: string[] = [];
    if (rows.length === 0) return created;
    const columns = Object.keys(rows[0] ?? {}).join(', ');
    for (let i = 0; i < rows.length; i += BATCH) {
      this.progress(name, i, rows.length);
      const batch = rows.slice(i, i + BATCH);
      const out = await this.target.query<{ k: string }>(
        `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::${table}, $1::json)
         ON CONFLICT DO NOTHING RETURNING (${returning})::text AS k`,
        [JSON.stringify(batch)],
      );
      created.push(...out.map((r) => r.k));
    }
    this.progress(name, rows.length, rows.length);
    entity.created += created.length;
    entity.existing += rows.length - created.length;
    return created;
  }
}
