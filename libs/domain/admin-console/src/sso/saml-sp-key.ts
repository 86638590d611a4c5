import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Injectable } from '@nestjs/common';
import type * as Forge from 'node-forge';
import { Database } from '@keyhaven/db';
import { SecretBox } from './secret-box';

export interface SamlSpKeyPair {
  /** PKCS#8 PEM. */
  readonly key: string;
  /** Self-signed X.509 PEM, published in the SP metadata. */
  readonly cert: string;
}

const NAME = 'saml-sp-key';
const VALID_YEARS = 10;

/**
 * Keyhaven's own SAML service-provider key and certificate: signs AuthnRequests when the
 * configuration asks for it and decrypts encrypted assertions. Made by whichever instance needs it
 * first and kept in `server_secret`, sealed with the SSO configuration's server key, so every
 * instance signs with and publishes the same certificate. It never changes once made, so the
 * process keeps it after the first read (as ServerSecrets does).
 */
@Injectable()
export class SamlSpKey {
  private cached: Promise<SamlSpKeyPair> | undefined;

  constructor(
    private readonly db: Database,
    private readonly box: SecretBox,
  ) {}

  get(): Promise<SamlSpKeyPair> {
    if (!this.cached) {
      const loading = this.load();
      this.cached = loading;
      // A failed read (database down) is retried by the next caller, not cached.
      loading.catch(() => {
        if (this.cached === loading) this.cached = undefined;
      });
    }
    return this.cached;
  }

  private async load(): Promise<SamlSpKeyPair> {
    let sealed = await this.read();
    if (!sealed) {
      const made = await this.box.seal(JSON.stringify(makeSpCertificate()), NAME);
      // Two instances racing: the first insert wins and both read it back.
      await this.db.execute('INSERT INTO server_secret (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
        NAME,
        made,
      ]);
      sealed = await this.read();
    }
    if (!sealed) throw new Error('the SAML SP key is missing');
    return JSON.parse(await this.box.open(sealed, NAME)) as SamlSpKeyPair;
  }

  private async read(): Promise<string | null> {
    const rows = await this.db.rows<{ value: string }>('SELECT value FROM server_secret WHERE name = $1', [NAME]);
    return rows[0]?.value ?? null;
  }
}

/** RSA 2048 by node:crypto; forge (loaded only here) assembles and self-signs the certificate. */
function makeSpCertificate(): SamlSpKeyPair {
  const forge = createRequire(__filename)('node-forge') as typeof Forge;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + VALID_YEARS * 365 * 24 * 3600 * 1000);
  const subject = [
    { name: 'commonName', value: 'Keyhaven SAML service provider' },
    { name: 'organizationName', value: 'Keyhaven' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  return { key, cert: forge.pki.certificateToPem(cert) };
}
