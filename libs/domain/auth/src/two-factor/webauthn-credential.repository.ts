import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

/** A stored WebAuthn key; also the shape the Vaultwarden importer converts keys into (tools/cli). */
export interface WebAuthnCredentialRow {
  readonly slot: number;
  readonly name: string;
  readonly credentialId: string;
  /** The COSE_Key, base64url: what @simplewebauthn verifies assertions with. */
  readonly publicKey: string;
  readonly signCount: number;
  readonly transports: string[];
}

interface Row {
  slot: number;
  name: string;
  credential_id: string;
  public_key: string;
  sign_count: string | number;
  transports: string[];
}

const toCredential = (r: Row): WebAuthnCredentialRow => ({
  slot: r.slot,
  name: r.name,
  credentialId: r.credential_id,
  publicKey: r.public_key,
  signCount: Number(r.sign_count),
  transports: r.transports,
});

/** A user's WebAuthn keys, one per small-integer slot (the web vault's "id"); always scoped to the user. */
@Injectable()
export class WebAuthnCredentialRepository {
  constructor(private readonly db: Database) {}

  async forUser(userId: string): Promise<WebAuthnCredentialRow[]> {
    const rows = await this.db.rows<Row>(
      `SELECT slot, name, credential_id, public_key, sign_count, transports FROM webauthn_credential
       WHERE user_id = $1 ORDER BY slot`,
      [userId],
    );
    return rows.map(toCredential);
  }

  /** Replaces whatever the slot held (the web vault re-registers into a slot it names). */
  async put(
    userId: string,
    credential: Omit<WebAuthnCredentialRow, 'signCount'> & { signCount: number; aaguid: string },
  ): Promise<void> {
    await this.db.execute('DELETE FROM webauthn_credential WHERE user_id = $1 AND slot = $2', [
      userId,
      credential.slot,
    ]);
    await this.db.execute(
      `INSERT INTO webauthn_credential (user_id, slot, name, credential_id, public_key, sign_count, transports, aaguid)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        userId,
        credential.slot,
        credential.name,
        credential.credentialId,
        credential.publicKey,
        credential.signCount,
        JSON.stringify(credential.transports),
        credential.aaguid,
      ],
    );
  }

  /** Only moves forward: a concurrent login with an older counter value cannot roll it back. */
  async advanceCounter(userId: string, credentialId: string, signCount: number): Promise<void> {
    await this.db.execute(
      `UPDATE webauthn_credential SET sign_count = GREATEST(sign_count, $3)
       WHERE user_id = $1 AND credential_id = $2`,
      [userId, credentialId, signCount],
    );
  }

  async remove(userId: string, slot: number): Promise<void> {
    await this.db.execute('DELETE FROM webauthn_credential WHERE user_id = $1 AND slot = $2', [userId, slot]);
  }

  async removeAll(userId: string): Promise<void> {
    await this.db.execute('DELETE FROM webauthn_credential WHERE user_id = $1', [userId]);
  }

  async credentialIdTaken(credentialId: string): Promise<boolean> {
    const rows = await this.db.rows('SELECT 1 FROM webauthn_credential WHERE credential_id = $1', [credentialId]);
    return rows.length > 0;
  }
}
