import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cipherKeyOf, decryptCipher, encryptCipher } from './cipher';
import type { CipherRequest, CipherView, PlainCipher } from './cipher-types';
import { decryptType2Utf8, encryptType2 } from './enc-string';
import { isWellFormedEncString } from './enc-string-format';
import { decryptFolderName, encryptFolder } from './folder';
import { SymmetricKey } from './symmetric-key';

// Members of the request that are not encrypted.
const CLEAR = new Set(['folderId', 'organizationId', 'lastKnownRevisionDate', 'passwordRevisionDate', 'lastUsedDate']);

/** Every string leaf except the clear members must be a type-2 EncString. */
function assertAllLeavesEncrypted(value: unknown, path = ''): void {
  if (typeof value === 'string') {
    const member = path.split('.').pop() ?? '';
    if (!CLEAR.has(member)) assert.ok(isWellFormedEncString(value, [2]), `${path} = ${value}`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      assertAllLeavesEncrypted(v, `${path}[${i}]`);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertAllLeavesEncrypted(v, path ? `${path}.${k}` : k);
  }
}

function roundTrip(key: SymmetricKey, plain: PlainCipher): { request: CipherRequest; view: CipherView } {
  const request = encryptCipher(key, plain);
  assertAllLeavesEncrypted(request);
  // Through JSON, as it would travel.
  const view = decryptCipher(key, JSON.parse(JSON.stringify(request)) as CipherRequest);
  return { request, view };
}

const common = {
  notes: null,
  favorite: false,
  reprompt: 0,
  folderId: null,
  organizationId: null,
  fields: null,
  passwordHistory: null,
} as const;

void test('login: all leaves encrypted, URIs carry checksums, content round-trips', () => {
  const key = SymmetricKey.generate();
  const { request, view } = roundTrip(key, {
    type: 1,
    name: 'GitHub',
    notes: 'work account',
    favorite: true,
    reprompt: 1,
    folderId: '6c1b1f3a-6f0e-4a4f-9a51-3a1b2d3c4e5f',
    login: {
      username: 'alice',
      password: 'p@ss',
      totp: 'otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP',
      uris: [{ uri: 'https://github.com/login', match: 0 }, { uri: 'https://gist.github.com' }],
    },
    fields: [
      { type: 0, name: 'pin', value: '1234' },
      { type: 2, name: 'flag', value: 'true' },
      { type: 3, name: 'linked', linkedId: 100 },
    ],
    passwordHistory: [{ password: 'old', lastUsedDate: '2026-01-01T00:00:00.000Z' }],
  });
  assert.equal(request.type, 1);
  assert.equal(request.key, null);
  assert.equal(request.favorite, true);
  assert.equal(request.reprompt, 1);
  assert.equal(request.card, undefined);
  const uri0 = request.login?.uris?.[0];
  assert.equal(
    decryptType2Utf8(key, uri0?.uriChecksum ?? ''),
    createHash('sha256').update('https://github.com/login').digest('base64'),
  );
  assert.deepEqual(view, {
    ...common,
    type: 1,
    name: 'GitHub',
    notes: 'work account',
    favorite: true,
    reprompt: 1,
    folderId: '6c1b1f3a-6f0e-4a4f-9a51-3a1b2d3c4e5f',
    login: {
      username: 'alice',
      password: 'p@ss',
      totp: 'otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP',
      uris: [
        { uri: 'https://github.com/login', match: 0 },
        { uri: 'https://gist.github.com', match: null },
      ],
      passwordRevisionDate: null,
      autofillOnPageLoad: null,
    },
    fields: [
      { type: 0, name: 'pin', value: '1234', linkedId: null },
      { type: 2, name: 'flag', value: 'true', linkedId: null },
      { type: 3, name: 'linked', value: null, linkedId: 100 },
    ],
    passwordHistory: [{ password: 'old', lastUsedDate: '2026-01-01T00:00:00.000Z' }],
  });
});

void test('secure note, card, identity and SSH key round-trip; empty strings are sent as null', () => {
  const key = SymmetricKey.generate();
  assert.deepEqual(roundTrip(key, { type: 2, name: 'Note', notes: 'body' }).view, {
    ...common,
    type: 2,
    name: 'Note',
    notes: 'body',
    secureNote: { type: 0 },
  });

  const card = roundTrip(key, { type: 3, name: 'Visa', card: { cardholderName: 'A', number: '4111', code: '' } });
  assert.equal(card.request.card?.code, null);
  assert.deepEqual(card.view, {
    ...common,
    type: 3,
    name: 'Visa',
    card: { cardholderName: 'A', brand: null, number: '4111', expMonth: null, expYear: null, code: null },
  });

  const identity = roundTrip(key, { type: 4, name: 'Me', identity: { firstName: 'Ann', ssn: '123', email: 'a@b.c' } });
  assert.ok(identity.view.type === 4);
  assert.equal(identity.view.identity.firstName, 'Ann');
  assert.equal(identity.view.identity.ssn, '123');
  assert.equal(identity.view.identity.licenseNumber, null);
  assert.equal(Object.keys(identity.request.identity ?? {}).length, 18);

  const sshKey = {
    privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\n…',
    publicKey: 'ssh-ed25519 AAAA',
    keyFingerprint: 'SHA256:x',
  };
  assert.deepEqual(roundTrip(key, { type: 5, name: 'Server', sshKey }).view, {
    ...common,
    type: 5,
    name: 'Server',
    sshKey,
  });
});

void test('item keys: fields under a per-item key that is wrapped under the user/org key', () => {
  const orgKey = SymmetricKey.generate();
  const request = encryptCipher(orgKey, { type: 2, name: 'Shared', organizationId: 'org-1' }, { itemKey: true });
  assert.ok(isWellFormedEncString(request.key, [2]));
  const itemKey = cipherKeyOf(orgKey, request);
  assert.equal(itemKey.equals(orgKey), false);
  assert.equal(decryptType2Utf8(itemKey, request.name ?? ''), 'Shared');
  assert.throws(() => decryptType2Utf8(orgKey, request.name ?? ''), /MAC mismatch/);
  assert.equal(decryptCipher(orgKey, request).name, 'Shared');

  const given = SymmetricKey.generate();
  const withGiven = encryptCipher(orgKey, { type: 2, name: 'x' }, { itemKey: given, encryptedFor: 'user-1' });
  assert.ok(cipherKeyOf(orgKey, withGiven).equals(given));
  assert.equal(withGiven.encryptedFor, 'user-1');
  assert.equal('encryptedFor' in request, false);
});

void test('decryption refuses tampering, wrong keys, bad URI checksums and unknown types', () => {
  const key = SymmetricKey.generate();
  const request = encryptCipher(key, { type: 1, name: 'n', login: { uris: [{ uri: 'https://a.example' }] } });
  assert.throws(() => decryptCipher(SymmetricKey.generate(), request), /MAC mismatch/);

  const swapped = structuredClone(request);
  const uri = swapped.login?.uris?.[0];
  assert.ok(uri);
  uri.uri = encryptType2(key, 'https://evil.example');
  assert.throws(() => decryptCipher(key, swapped), /checksum/);

  const unknown = { ...request, type: 6 } as unknown as CipherRequest;
  assert.throws(() => decryptCipher(key, unknown), /unsupported cipher type 6/);
  assert.throws(() => decryptCipher(key, { type: 3, name: request.name }), /no card data/);
});

void test('folder names are type 2 under the user key', () => {
  const key = SymmetricKey.generate();
  const folder = encryptFolder(key, 'Work / Ünïcode');
  assert.ok(isWellFormedEncString(folder.name, [2]));
  assert.equal(decryptFolderName(key, folder), 'Work / Ünïcode');
});
