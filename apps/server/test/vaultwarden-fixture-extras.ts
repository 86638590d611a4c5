import { randomUUID } from 'node:crypto';
import { createSendKey, encryptType2, type SymmetricKey } from '@keyhaven/vault-crypto';
import {
  decodeAttestationObject,
  decodeCredentialPublicKey,
  parseAuthenticatorData,
} from '@simplewebauthn/server/helpers';
import { SoftwareAuthenticator } from './software-authenticator';
import type { InsertRow } from './vaultwarden-fixture-org';
import type { VaultwardenPerson } from './vaultwarden-fixture';

/**
 * webauthn-rs's serialized Passkey (0.5) for a software key, as Vaultwarden keeps it in `twofactor.data`:
 * the credential id and the EC2 coordinates in base64url, the COSE algorithm by name.
 */
function vaultwardenPasskey(key: SoftwareAuthenticator): Record<string, unknown> {
  const response = key.register('unused') as { response: { AttestationObject: string } };
  const attestation = decodeAttestationObject(Buffer.from(response.response.AttestationObject, 'base64url'));
  const parsed = parseAuthenticatorData(attestation.get('authData'));
  // Read as the plain CBOR map it is (the library types it by COSE label enums).
  const cose = decodeCredentialPublicKey(parsed.credentialPublicKey ?? new Uint8Array()) as unknown as Map<
    number,
    unknown
  >;
  const coordinate = (label: number): string => Buffer.from(cose.get(label) as Uint8Array).toString('base64url');
  return {
    cred: {
      cred_id: key.credentialId.toString('base64url'),
      cred: { type_: 'ES256', key: { EC_EC2: { curve: 'SECP256R1', x: coordinate(-2), y: coordinate(-3) } } },
      counter: 0,
      transports: ['usb'],
      user_verified: false,
      backup_eligible: false,
      backup_state: false,
      registration_policy: 'discouraged',
      extensions: { cred_protect: 'Ignored', hmac_create_secret: 'NotRequested', appid: 'NotRequested' },
      attestation: { data: 'None', metadata: 'None' },
      attestation_format: 'none',
    },
  };
}

/**
 * What the importer carries over only in part, one of each: Alice's email and WebAuthn two-step login (with a
 * pending login challenge), Bob's YubiKey OTP; Alice's archive of her own item and Bob's of the shared one;
 * an organization Send. The WebAuthn key's relying party is `localhost`, the test server's.
 */
export function addVaultwardenExtras(
  insert: InsertRow,
  people: { alice: VaultwardenPerson; bob: VaultwardenPerson },
  ids: { orgId: string; orgKey: SymmetricKey; sharedId: string; archivedId: string },
  stamps: { now: string; later: string },
): { aliceWebAuthn: SoftwareAuthenticator; aliceTwoStepEmail: string } {
  const { alice, bob } = people;
  const twoFactor = (userId: string, atype: number, data: string): void => {
    insert('twofactor', { uuid: randomUUID(), user_uuid: userId, atype, enabled: true, data, last_used: 0 });
  };
  const aliceTwoStepEmail = alice.email.replace('@', '+codes@');
  twoFactor(alice.id, 1, JSON.stringify({ email: aliceTwoStepEmail, last_token: null, token_sent: 0, attempts: 0 }));
  const aliceWebAuthn = new SoftwareAuthenticator('localhost', 'https://localhost');
  twoFactor(
    alice.id,
    7,
    JSON.stringify([{ id: 1, name: 'Desk key', migrated: false, credential: vaultwardenPasskey(aliceWebAuthn) }]),
  );
  // WebauthnLoginChallenge: a login that was under way when Vaultwarden stopped.
  twoFactor(alice.id, 1004, JSON.stringify({ ast: { challenge: 'pending' } }));
  twoFactor(bob.id, 3, JSON.stringify({ yubikeys: ['cccccccbbbbb'], nfc: false }));

  insert('archives', { user_uuid: alice.id, cipher_uuid: ids.archivedId, archived_at: stamps.now });
  insert('archives', { user_uuid: bob.id, cipher_uuid: ids.sharedId, archived_at: stamps.now });

  const send = createSendKey(ids.orgKey);
  insert('sends', {
    uuid: randomUUID(),
    user_uuid: alice.id,
    organization_uuid: ids.orgId,
    name: encryptType2(send.sendKey, 'Team note'),
    atype: 0,
    data: JSON.stringify({ text: encryptType2(send.sendKey, 'for the team'), hidden: false }),
    akey: send.key,
    access_count: 0,
    creation_date: stamps.now,
    revision_date: stamps.now,
    deletion_date: stamps.later,
    disabled: false,
    hide_email: false,
  });
  return { aliceWebAuthn, aliceTwoStepEmail };
}
