import { Foundation1763800000000 } from './1763800000000-Foundation';
import { AccountsAndVault1763800100000 } from './1763800100000-AccountsAndVault';
import { Organizations1763800200000 } from './1763800200000-Organizations';
import { RefreshTokenFamilies1796170000000 } from './1796170000000-RefreshTokenFamilies';
import { AuthRequests1796180000000 } from './1796180000000-AuthRequests';
import { Events1796190000000 } from './1796190000000-Events';
import { EventStreaming1796190100000 } from './1796190100000-EventStreaming';
import { Attachments1796190200000 } from './1796190200000-Attachments';
import { Sends1796190300000 } from './1796190300000-Sends';
import { TwoFactorProviders1796190400000 } from './1796190400000-TwoFactorProviders';
import { EmergencyAccess1796190500000 } from './1796190500000-EmergencyAccess';
import { AdminPortal1796190600000 } from './1796190600000-AdminPortal';
import { ImportStaging1796190700000 } from './1796190700000-ImportStaging';
import { Scim1797000000000 } from './1797000000000-Scim';
import { Sso1797100000000 } from './1797100000000-Sso';
import { ClaimedDomains1797200000000 } from './1797200000000-ClaimedDomains';
import { TrustedDevices1797200100000 } from './1797200100000-TrustedDevices';
import { KeyConnector1797200200000 } from './1797200200000-KeyConnector';
import { Billing1797300000000 } from './1797300000000-Billing';
import { JobRuns1797550000000 } from './1797550000000-JobRuns';
import { RefreshTokenAmr1797610000000 } from './1797610000000-RefreshTokenAmr';
import { UniqueExternalIds1797630000000 } from './1797630000000-UniqueExternalIds';
import { PushOutbox1797650000000 } from './1797650000000-PushOutbox';

/** Every migration, oldest first. Committed, forward-only, the same for PostgreSQL and PGlite. */
export const migrations = [
  Foundation1763800000000,
  AccountsAndVault1763800100000,
  Organizations1763800200000,
  RefreshTokenFamilies1796170000000,
  AuthRequests1796180000000,
  Events1796190000000,
  EventStreaming1796190100000,
  Attachments1796190200000,
  Sends1796190300000,
  TwoFactorProviders1796190400000,
  EmergencyAccess1796190500000,
  AdminPortal1796190600000,
  ImportStaging1796190700000,
  Scim1797000000000,
  Sso1797100000000,
  ClaimedDomains1797200000000,
  TrustedDevices1797200100000,
  KeyConnector1797200200000,
  Billing1797300000000,
  JobRuns1797550000000,
  RefreshTokenAmr1797610000000,
  UniqueExternalIds1797630000000,
  PushOutbox1797650000000,
];

/** Names of every migration, as recorded in schema_migrations. */
export function migrationsForTest(): string[] {
  return migrations.map((m) => new m().name);
}
