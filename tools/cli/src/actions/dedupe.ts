import { print } from '../context';
import { confirm, masterPassword } from '../vault/secrets';
import { login } from '../vault/session';
import { loadVaultIndex, type VaultEntry } from '../vault/vault-index';
import { required, type ClientOptions } from './client-common';

export interface DedupeOptions extends ClientOptions {
  readonly yes?: boolean;
}

/** Which copy stays: the one with the most attachments, then the oldest. */
function keeperFirst(entries: readonly VaultEntry[]): VaultEntry[] {
  return [...entries].sort(
    (a, b) =>
      b.attachmentNames.length - a.attachmentNames.length ||
      (a.revisionDate ?? '').localeCompare(b.revisionDate ?? '') ||
      a.id.localeCompare(b.id),
  );
}

export async function runDedupe(options: DedupeOptions): Promise<void> {
  const server = required(options.server, '--server');
  const email = required(options.email, '--email');
  const password = await masterPassword({ file: options.passwordFile, envName: 'KEYHAVEN_PASSWORD', label: email });
  const session = await login(server, email, password, { insecure: options.insecure === true });
  const index = await loadVaultIndex(session, null);
  const groups = [...index.byFingerprint.values()]
    .filter((entries) => entries.length > 1)
    .map((entries) => {
      const [keep, ...extras] = keeperFirst(entries);
      return { name: keep?.name ?? '', keep: keep?.id ?? '', trash: extras.map((e) => e.id) };
    });
  const extras = groups.flatMap((g) => g.trash);
  const go =
    extras.length > 0 &&
    (options.yes === true ||
      (!options.json && (await confirm(`Move ${extras.length} duplicate item(s) to the trash?`))));
  if (go) {
    // The clients' bulk call; at most 500 ids per request keeps each body small.
    for (let i = 0; i < extras.length; i += 500)
      await session.api.ok('PUT', '/api/ciphers/delete', { json: { ids: extras.slice(i, i + 500) } });
  }
  const result = {
    groups: groups.length,
    duplicates: extras.length,
    trashed: go ? extras.length : 0,
    undecryptable: index.undecryptable,
    detail: groups,
  };
  print(options.json === true, result, () =>
    [
      `duplicate groups: ${groups.length}, extra copies: ${extras.length}`,
      ...groups.map((g) => `  ${g.name}: keep ${g.keep}, extra ${g.trash.join(', ')}`),
      go
        ? `moved ${extras.length} to the trash`
        : extras.length > 0
          ? 'nothing changed (confirm, or run with --yes)'
          : 'nothing to do',
    ].join('\n'),
  );
}
