import { createHmac, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from '@keyhaven/db';

/** The secrets in use; each names one purpose, so a value never serves two. */
export type ServerSecretName =
  | 'refresh-successor'
  | 'prelogin-kdf'
  | 'admin-session'
  | 'user-verification'
  | 'two-factor-code'
  | 'blob-url'
  | 'sso-config';

/**
 * Random HMAC keys kept in the database (`server_secret`), created by whichever instance needs one
 * first, so every instance of every service derives the same values. A key never changes once made,
 * so each process caches it after the first read.
 *
 * Call `hmac` outside any open transaction: a key created inside one that then rolled back would
 * stay cached here while the database forgot it.
 */
@Injectable()
export class ServerSecrets {
  private readonly keys = new Map<ServerSecretName, Promise<Buffer>>();

  constructor(private readonly db: Database) {}

  async hmac(name: ServerSecretName, value: string): Promise<Buffer> {
    return createHmac('sha256', await this.key(name))
      .update(value)
      .digest();
  }

  private key(name: ServerSecretName): Promise<Buffer> {
    let key = this.keys.get(name);
    if (!key) {
      key = this.load(name);
      this.keys.set(name, key);
      // A failed read (database down) is retried by the next caller, not cached.
      key.catch(() => this.keys.delete(name));
    }
    return key;
  }

  private async load(name: ServerSecretName): Promise<Buffer> {
    await this.db.execute('INSERT INTO server_secret (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
      name,
      randomBytes(32).toString('base64'),
    ]);
    const rows = await this.db.rows<{ value: string }>('SELECT value FROM server_secret WHERE name = $1', [name]);
    const value = rows[0]?.value;
    if (!value) throw new Error(`server secret ${name} is missing`);
    return Buffer.from(value, 'base64');
  }
}
