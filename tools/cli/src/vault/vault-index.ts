import {
  cipherKeyOf,
  decryptCipher,
  decryptType2Utf8,
  type CipherView,
  type EncryptedCipher,
  type SymmetricKey,
} from '@keyhaven/vault-crypto';
import { fingerprint } from './fingerprint';
import type { Session, SyncCipher } from './session';

/** An item already in the target, decrypted only as far as deduplication needs (names of its attachments). */
export interface VaultEntry {
  readonly id: string;
  readonly name: string | null;
  readonly key: SymmetricKey;
  readonly attachmentNames: string[];
  readonly revisionDate: string | null;
}

/**
 * What the target already holds: a fingerprint per live item (trash excluded), and the folders (or the
 * organization's collections) by decrypted name. Items that do not decrypt (a newer item type) are counted.
 */
export interface VaultIndex {
  readonly byFingerprint: Map<string, VaultEntry[]>;
  readonly containers: Map<string, string>;
  undecryptable: number;
}

interface ListBody<T> {
  data: T[];
}

/** Decrypts one item for comparison; null if it cannot be (the caller counts it). */
export function decryptForIndex(
  key: SymmetricKey,
  cipher: SyncCipher,
): { view: CipherView; itemKey: SymmetricKey } | null {
  try {
    return {
      view: decryptCipher(key, cipher as unknown as EncryptedCipher),
      itemKey: cipherKeyOf(key, cipher as { key?: string | null }),
    };
  } catch {
    return null;
  }
}

export async function loadVaultIndex(session: Session, orgId: string | null): Promise<VaultIndex> {
  const index: VaultIndex = { byFingerprint: new Map(), containers: new Map(), undecryptable: 0 };
  let ciphers: SyncCipher[];
  let key: SymmetricKey;
  if (orgId) {
    const orgKey = session.orgKeys.get(orgId);
    if (!orgKey) throw new Error(`${session.email} is not a confirmed member of organization ${orgId}`);
    key = orgKey;
    const listed = await session.api.ok<ListBody<SyncCipher>>(
      'GET',
      `/api/ciphers/organization-details?organizationId=${encodeURIComponent(orgId)}`,
    );
    ciphers = listed.data;
    const collections = await session.api.ok<ListBody<{ id: string; name: string }>>(
      'GET',
      `/api/organizations/${encodeURIComponent(orgId)}/collections`,
    );
    for (const c of collections.data) index.containers.set(decryptType2Utf8(orgKey, c.name), c.id);
  } else {
    key = session.userKey;
    const sync = await session.sync();
    ciphers = sync.ciphers.filter((c) => !c.organizationId);
    for (const f of sync.folders) index.containers.set(decryptType2Utf8(key, f.name), f.id);
  }
  for (const cipher of ciphers) {
    if (cipher.deletedDate) continue;
    const decrypted = decryptForIndex(key, cipher);
    if (!decrypted) {
      index.undecryptable++;
      continue;
    }
    const names = (cipher.attachments ?? []).flatMap((a) => {
      try {
        return [decryptType2Utf8(decrypted.itemKey, a.fileName)];
      } catch {
        return [];
      }
    });
    const entry: VaultEntry = {
      id: cipher.id,
      name: decrypted.view.name,
      key: decrypted.itemKey,
      attachmentNames: names,
      revisionDate: typeof cipher['revisionDate'] === 'string' ? cipher['revisionDate'] : null,
    };
    const fp = fingerprint(decrypted.view);
    index.byFingerprint.set(fp, [...(index.byFingerprint.get(fp) ?? []), entry]);
  }
  return index;
}
