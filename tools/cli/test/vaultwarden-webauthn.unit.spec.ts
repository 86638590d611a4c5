import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { decodeCredentialPublicKey, verifySignature } from '@simplewebauthn/server/helpers';
import { convertWebAuthnKeys } from '../src/vaultwarden/webauthn';

/**
 * Vaultwarden's WebAuthn registrations (webauthn-rs's serialized Passkey, both the 0.5 shape and the older one)
 * become COSE keys that @simplewebauthn — what Keyhaven verifies logins with — accepts: each converted key checks
 * a signature made by its private key.
 */
const jwk = (key: KeyObject): Record<string, string> => key.export({ format: 'jwk' }) as Record<string, string>;
const bytes = (b64url: string | undefined): number[] => [...Buffer.from(b64url ?? '', 'base64url')];

async function verifies(publicKey: string, privateKey: KeyObject, algorithm: string | null): Promise<boolean> {
  const data = randomBytes(64);
  return verifySignature({
    signature: new Uint8Array(sign(algorithm, data, privateKey)),
    data: new Uint8Array(data),
    credentialPublicKey: new Uint8Array(Buffer.from(publicKey, 'base64url')),
  });
}

describe('Vaultwarden WebAuthn keys', () => {
  test('an ES256 passkey (webauthn-rs 0.5: base64url fields, wrapped in `cred`) keeps its id, key, counter', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const { x, y } = jwk(pair.publicKey);
    const id = randomBytes(32);
    const { keys, refused } = convertWebAuthnKeys([
      {
        id: 2,
        name: 'Desk key',
        migrated: false,
        credential: {
          cred: {
            cred_id: id.toString('base64url'),
            cred: { type_: 'ES256', key: { EC_EC2: { curve: 'SECP256R1', x, y } } },
            counter: 41,
            transports: ['usb', 'NFC'],
          },
        },
      },
    ]);
    assert.deepEqual(refused, []);
    assert.equal(keys.length, 1);
    const key = keys[0];
    assert.ok(key);
    assert.deepEqual(
      [key.slot, key.name, key.credentialId, key.signCount, key.transports],
      [2, 'Desk key', id.toString('base64url'), 41, ['usb', 'nfc']],
    );
    const cose = decodeCredentialPublicKey(new Uint8Array(Buffer.from(key.publicKey, 'base64url'))) as unknown as Map<
      number,
      unknown
    >;
    assert.deepEqual([cose.get(1), cose.get(3), cose.get(-1)], [2, -7, 1]);
    assert.ok(await verifies(key.publicKey, pair.privateKey, 'sha256'));
  });

  test('the older Credential (no `cred` wrapper, byte arrays) converts the same', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const { x, y } = jwk(pair.publicKey);
    const id = randomBytes(16);
    const { keys } = convertWebAuthnKeys([
      {
        id: 1,
        name: 'Old key',
        credential: {
          cred_id: [...id],
          cred: { type_: 'ES256', key: { EC_EC2: { curve: 'SECP256R1', x: bytes(x), y: bytes(y) } } },
          counter: 3,
        },
      },
    ]);
    const [key] = keys;
    assert.ok(key);
    assert.equal(key.credentialId, id.toString('base64url'));
    assert.ok(await verifies(key.publicKey, pair.privateKey, 'sha256'));
  });

  test('Ed25519 and RS256 keys convert too', async () => {
    const ed = generateKeyPairSync('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { keys, refused } = convertWebAuthnKeys([
      {
        id: 1,
        name: 'ed',
        credential: {
          cred: {
            cred_id: 'AQID',
            cred: { type_: 'EDDSA', key: { EC_OKP: { curve: 'ED25519', x: jwk(ed.publicKey)['x'] } } },
          },
        },
      },
      {
        id: 2,
        name: 'rsa',
        credential: {
          cred: {
            cred_id: 'BAUG',
            cred: { type_: 'RS256', key: { RSA: { n: jwk(rsa.publicKey)['n'], e: bytes(jwk(rsa.publicKey)['e']) } } },
          },
        },
      },
    ]);
    assert.deepEqual(refused, []);
    const [edKey, rsaKey] = keys;
    assert.ok(edKey && rsaKey);
    assert.ok(await verifies(edKey.publicKey, ed.privateKey, null));
    assert.ok(await verifies(rsaKey.publicKey, rsa.privateKey, 'sha256'));
  });

  test('what cannot be converted is refused with a reason, the rest still converts', () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const { x, y } = jwk(pair.publicKey);
    const { keys, refused } = convertWebAuthnKeys([
      { id: 1, name: 'no id', credential: { cred: { cred: {} } } },
      { id: 2, name: 'odd', credential: { cred: { cred_id: 'AQID', cred: { type_: 'INSECURE_RS1', key: {} } } } },
      {
        id: 3,
        name: 'good',
        credential: {
          cred: { cred_id: 'AQID', cred: { type_: 'ES256', key: { EC_EC2: { curve: 'SECP256R1', x, y } } } },
        },
      },
    ]);
    assert.deepEqual(
      keys.map((k) => k.slot),
      [3],
    );
    assert.deepEqual(
      refused.map((r) => [r.slot, r.reason]),
      [
        [1, 'a WebAuthn registration without a slot or credential id'],
        [2, 'a WebAuthn key with an unsupported key algorithm (INSECURE_RS1)'],
      ],
    );
    assert.equal(convertWebAuthnKeys('not a list').refused[0]?.reason, 'unreadable WebAuthn data');
  });
});
