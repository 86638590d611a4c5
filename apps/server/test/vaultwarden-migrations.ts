import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testEnv } from '@keyhaven/testing';
import { SQLITE_SCHEMA, mysqlSchema, postgresSchema } from './vaultwarden-schema';

/** Vaultwarden's names for its three backends (the folders under its `migrations/`). */
export type VaultwardenBackend = 'sqlite' | 'postgresql' | 'mysql';

/**
 * Vaultwarden's own migrations for one backend, read from a checkout (`VAULTWARDEN_SRC`): each folder's `up.sql`,
 * folders sorted by name, which is the order diesel applies them in (the name starts with the version). Nothing
 * of Vaultwarden's is in this repository: CI has no network, so this runs only where someone points it at a
 * checkout. A checkout without the backend's migrations, or a folder without `up.sql`, is an error, not a
 * fallback, so a wrong path never passes as the hand-written schema.
 */
export function vaultwardenMigrations(backend: VaultwardenBackend, src: string): { name: string; sql: string }[] {
  const dir = join(src, 'migrations', backend);
  if (!existsSync(dir)) throw new Error(`VAULTWARDEN_SRC=${src} has no migrations/${backend} folder`);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  if (names.length === 0) throw new Error(`${dir} holds no migrations`);
  return names.map((name) => {
    const file = join(dir, name, 'up.sql');
    if (!existsSync(file)) throw new Error(`${file} is missing`);
    return { name, sql: readFileSync(file, 'utf8') };
  });
}

/** Whether the fixture builds its databases from Vaultwarden's migrations (and from which checkout). */
export const vaultwardenSource: string | undefined = testEnv.VAULTWARDEN_SRC;

/**
 * The SQL scripts that create an empty Vaultwarden database on a backend, run one after the other: Vaultwarden's
 * migrations when `VAULTWARDEN_SRC` is set, else the hand-written schema (one script).
 */
export function vaultwardenSchemaScripts(backend: VaultwardenBackend): { name: string; sql: string }[] {
  if (vaultwardenSource !== undefined) return vaultwardenMigrations(backend, vaultwardenSource);
  const sql = { sqlite: SQLITE_SCHEMA, postgresql: postgresSchema(), mysql: mysqlSchema() }[backend];
  return [{ name: 'hand-written schema', sql }];
}
