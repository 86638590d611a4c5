import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type JWK, type CryptoKey } from 'jose';
import { Database } from '@keyhaven/db';

const ALGORITHM = 'ES256';
/** A new key signs from this age on; older keys still verify until they retire. */
const ROTATE_AFTER_MS = 30 * 24 * 3600 * 1000;
const RETIRE_AFTER_MS = 60 * 24 * 3600 * 1000;
const RELOAD_AFTER_MS = 5 * 60 * 1000;
const UNKNOWN_KID_RELOAD_MS = 30 * 1000;
const KEY_CREATION_LOCK = 7_245_160_102;

interface KeyRow {
  id: string;
  public_jwk: JWK;
  private_pkcs8: string;
  created_at: Date;
  retires_at: Date;
}

export interface LoadedKey {
  readonly kid: string;
  readonly createdAt: number;
  readonly retiresAt: number;
  readonly publicJwk: JWK;
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}

/**
 * Asymmetric signing keys kept in the database, so every instance of every service signs and
 * verifies with the same set; rotation adds a key and old ones keep verifying until they retire.
 */
@Injectable()
export class SigningKeys {
  readonly algorithm = ALGORITHM;
  private keys: LoadedKey[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(private readonly db: Database) {}

  async current(): Promise<LoadedKey> {
    await this.fresh();
    const newest = this.keys[0];
    if (newest && Date.now() - newest.createdAt <= ROTATE_AFTER_MS) return newest;
    await this.rotate();
    const rotated = this.keys[0];
    if (!rotated) throw new Error('no signing key available');
    return rotated;
  }

  /** The verification key for a `kid`; an unknown kid triggers one reload (another instance may have rotated). */
  async byKid(kid: string): Promise<CryptoKey | null> {
    await this.fresh();
    let key = this.keys.find((k) => k.kid === kid);
    // At most one reload per interval for unknown kids, so forged tokens cannot hammer the database.
    if (!key && Date.now() - this.loadedAt > UNKNOWN_KID_RELOAD_MS) {
      await this.reload();
      key = this.keys.find((k) => k.kid === kid);
    }
    return key && key.retiresAt > Date.now() ? key.publicKey : null;
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    await this.fresh();
    return { keys: this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: ALGORITHM, use: 'sig' })) };
  }

  private async fresh(): Promise<void> {
    if (this.keys.length === 0 || Date.now() - this.loadedAt > RELOAD_AFTER_MS) await this.reload();
  }

  private reload(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.db.rows<KeyRow>(
      'SELECT * FROM signing_key WHERE retires_at > $1 ORDER BY created_at DESC',
      [new Date()],
    );
    this.keys = await Promise.all(
      rows.map(async (r) => ({
        kid: r.id,
        createdAt: new Date(r.created_at).getTime(),
        retiresAt: new Date(r.retires_at).getTime(),
        publicJwk: r.public_jwk,
        publicKey: (await importJWK(r.public_jwk, ALGORITHM)) as CryptoKey,
        privateKey: await importPKCS8(r.private_pkcs8, ALGORITHM),
      })),
    );
    this.loadedAt = Date.now();
  }

  /** Under a transaction-scoped advisory lock, so instances starting together create one key, not several. */
  private async rotate(): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.rows('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
      const newest = await this.db.rows<{ created_at: Date }>(
        'SELECT created_at FROM signing_key ORDER BY created_at DESC LIMIT 1',
      );
      const newestAt = newest[0] ? new Date(newest[0].created_at).getTime() : 0;
      if (Date.now() - newestAt <= ROTATE_AFTER_MS) return;
      const { publicKey, privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
      const now = Date.now();
      await this.db.execute(
        'INSERT INTO signing_key (id, algorithm, public_jwk, private_pkcs8, created_at, retires_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [
          randomUUID(),
          ALGORITHM,
          JSON.stringify(await exportJWK(publicKey)),
          await exportPKCS8(privateKey),
          new Date(now),
          new Date(now + RETIRE_AFTER_MS),
        ],
      );
    });
    await this.reload();
  }
}
