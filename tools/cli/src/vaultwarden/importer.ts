import type { StoreSession } from '@keyhaven/runtime';
import type { BlobStore } from '@keyhaven/storage';
import { importAccounts } from './accounts';
import { ImportContext, type ImportVaultwardenOptions, type VaultwardenSummary } from './context';
import { importGroupsAndPolicies } from './groups';
import { importEmergencyAccess, importEvents } from './history';
import { importAttachments, importItems } from './items';
import { importOrganizations } from './organizations';
import { importSends } from './sends';
import type { VaultwardenSource } from './sources/source';
import { importTwoFactor, readTwoFactor } from './two-factor';

export type { EntityCount, ImportVaultwardenOptions, VaultwardenSummary } from './context';

/**
 * Moves a whole Vaultwarden instance into Keyhaven's database in one transaction (rolled back for a dry run):
 * accounts with their keys, KDF settings, server-side password hashes and two-step login (authenticator, email,
 * WebAuthn); folders, items with their
 * folders, favourites and archived state, organizations, memberships with their keys, collections, groups, policies, emergency
 * access, Sends, the event log, and the attachment and Send files from the data folder. Ids are kept, and every
 * insert skips what is already there, so a second run creates nothing. Each step is its own file; the order
 * matters (later steps import only what hangs off rows an earlier step imported).
 */
export async function importVaultwarden(
  source: VaultwardenSource,
  target: StoreSession,
  blobs: BlobStore | null,
  options: ImportVaultwardenOptions,
): Promise<VaultwardenSummary> {
  const started = performance.now();
  const ctx = new ImportContext(source, target, blobs, options);
  await target.query('BEGIN');
  try {
    const twoFactor = await readTwoFactor(ctx);
    await importAccounts(ctx, twoFactor.totpOf);
    await importTwoFactor(ctx, twoFactor.rows);
    const collectionsOfOrg = await importOrganizations(ctx);
    await importGroupsAndPolicies(ctx, collectionsOfOrg);
    await importItems(ctx);
    await importAttachments(ctx);
    await importEmergencyAccess(ctx);
    await importSends(ctx);
    await importEvents(ctx);
    await target.query(options.dryRun ? 'ROLLBACK' : 'COMMIT');
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return {
    dryRun: options.dryRun,
    source: source.kind,
    entities: ctx.entities,
    skipped: ctx.skipped,
    notMigrated: ctx.notMigrated,
    ms: Math.round(performance.now() - started),
  };
}
