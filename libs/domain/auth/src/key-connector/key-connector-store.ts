import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Database } from '@keyhaven/db';
import { badRequest, notFound } from '@keyhaven/contracts';

/** The Key Connector key as the clients send it: base64 of 32 bytes (a master key) or 64 (a user key). */
export const keyConnectorKeySchema = z.object({
  key: z
    .string()
    .max(200)
    .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && [32, 64].includes(Buffer.from(v, 'base64').length), {
      message: 'must be a base64 key',
    }),
});

/**
 * Keyhaven as its own Key Connector (`KEY_CONNECTOR_ENABLED`): each user's Key Connector key, sealed
 * with AES-256-GCM under the operator's KEY_CONNECTOR_ENCRYPTION_KEY and bound to the user id (as
 * associated data, so a sealed key copied to another row does not open). The plain key exists only
 * in the request that carries it; it is never stored or logged.
 */
@Injectable()
export class KeyConnectorStore {
  private readonly sealingKey: Buffer | null;

  constructor(
    private readonly db: Database,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {
    this.sealingKey =
      config.KEY_CONNECTOR_ENABLED && config.KEY_CONNECTOR_ENCRYPTION_KEY
        ? Buffer.from(config.KEY_CONNECTOR_ENCRYPTION_KEY, 'base64')
        : null;
  }

  /** `GET user-keys`: 404 until the user stored one (or when this server hosts no Key Connector). */
  async get(userId: string): Promise<string> {
    const key = this.requireKey();
    const [row] = await this.db.rows<{ sealed_key: string }>(
      'SELECT sealed_key FROM key_connector_user_key WHERE user_id = $1',
      [userId],
    );
    if (!row) throw notFound('User key');
    return this.open(key, row.sealed_key, userId);
  }

  /** `POST user-keys`: the first key of the user; `PUT` replaces an existing one (key rotation). */
  async put(userId: string, plain: string, mode: 'create' | 'replace'): Promise<void> {
    const sealed = this.seal(this.requireKey(), plain, userId);
    const now = new Date();
    const written =
      mode === 'create'
        ? await this.db.execute(
            `INSERT INTO key_connector_user_key (user_id, sealed_key, creation_date, revision_date)
             VALUES ($1, $2, $3, $3) ON CONFLICT (user_id) DO NOTHING`,
            [userId, sealed, now],
          )
        : await this.db.execute(
            'UPDATE key_connector_user_key SET sealed_key = $2, revision_date = $3 WHERE user_id = $1',
            [userId, sealed, now],
          );
    if (written === 0) throw mode === 'create' ? badRequest('User key already exists.') : notFound('User key');
  }

  private requireKey(): Buffer {
    if (!this.sealingKey) throw notFound('Key Connector');
    return this.sealingKey;
  }

  private seal(key: Buffer, plain: string, userId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`key-connector:${userId}`));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), ct.toString('base64'), cipher.getAuthTag().toString('base64')].join('.');
  }

  private open(key: Buffer, sealed: string, userId: string): string {
    const [version, iv, ct, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || !ct || !tag) throw new Error('sealed Key Connector key has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(`key-connector:${userId}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
  }
}
