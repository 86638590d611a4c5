import { passwordLogin, registerAccount, type HttpClient, type Session } from '@keyhaven/testing';
import { encryptCipher, encryptFolder, type Account } from '@keyhaven/vault-crypto';

/**
 * Registers an account and imports `items` realistic items into it over HTTP, as a client would:
 * every one a separately encrypted login with URIs, a custom field and (every fifth) notes, spread
 * over 20 folders. The benchmarks that time a sync share it, so their vaults are the same shape.
 */
export async function fillRealisticVault(
  http: HttpClient,
  email: string,
  items: number,
): Promise<{ account: Account; session: Session }> {
  const account = await registerAccount(http, email, 'benchmark password');
  const session = await passwordLogin(http, account);
  const folders = Array.from({ length: 20 }, (_, i) => encryptFolder(account.userKey, `Folder ${i}`));
  const ciphers = Array.from({ length: items }, (_, i) =>
    encryptCipher(account.userKey, {
      type: 1,
      name: `Item ${i}`,
      notes: i % 5 === 0 ? `Notes for item ${i} `.repeat(5) : null,
      fields: [{ type: 0, name: 'customer id', value: String(100000 + i) }],
      login: {
        username: `user${i}@example.com`,
        password: `pw-${i}-${'x'.repeat(16)}`,
        uris: [{ uri: `https://site${i}.example.com/login` }],
      },
    }),
  );
  for (let offset = 0; offset < items; offset += 2000) {
    const chunk = ciphers.slice(offset, offset + 2000);
    const res = await http.post('/api/ciphers/import', {
      token: session.accessToken,
      json: {
        ciphers: chunk,
        folders: offset === 0 ? folders : [],
        folderRelationships: offset === 0 ? chunk.map((_, i) => ({ key: i, value: i % 20 })) : [],
      },
    });
    if (res.status !== 200) throw new Error(`import failed: ${res.status} ${res.text}`);
  }
  return { account, session };
}
