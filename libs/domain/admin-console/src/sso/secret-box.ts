import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ServerSecrets } from '@keyhaven/domain-auth';

const VERSION = 'v1';

/**
 * Encrypts configuration secrets at rest (AES-256-GCM) under a key derived from a server secret, so
 * a database dump alone (for example a backup of `sso_config`) does not hand out the IdP's client
 * secret. The organization id is bound as associated data: a ciphertext moved to another row fails.
 */
@Injectable()
export class SecretBox {
  constructor(private readonly secrets: ServerSecrets) {}

  async seal(plain: string, boundTo: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.key(), iv);
    cipher.setAAD(Buffer.from(boundTo));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  async open(sealed: string, boundTo: string): Promise<string> {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || body === undefined)
      throw new Error('sealed secret has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', await this.key(), Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }

  private key(): Promise<Buffer> {
    return this.secrets.hmac('sso-config', 'aes-256-gcm key');
  }
}
