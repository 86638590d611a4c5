import { Foundation1763800000000 } from './1763800000000-Foundation';
import { AccountsAndVault1763800100000 } from './1763800100000-AccountsAndVault';
import { Organizations1763800200000 } from './1763800200000-Organizations';
import { RefreshTokenFamilies1796170000000 } from './1796170000000-RefreshTokenFamilies';
import { AuthRequests1796180000000 } from './1796180000000-AuthRequests';

/** Every migration, oldest first. Committed, forward-only, the same for PostgreSQL and PGlite. */
export const migrations = [
  Foundation1763800000000,
  AccountsAndVault1763800100000,
  Organizations1763800200000,
  RefreshTokenFamilies1796170000000,
  AuthRequests1796180000000,
];

/** Names of every migration, as recorded in schema_migrations. */
export function migrationsForTest(): string[] {
  return migrations.map((m) => new m().name);
}
