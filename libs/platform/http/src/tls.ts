import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type * as Forge from 'node-forge';
import type { Logger } from 'pino';

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
  /** Set when Keyhaven made its own CA: the file clients must trust. */
  readonly caPath?: string;
}

/**
 * What the HTTPS listener negotiates: TLS 1.2 and 1.3 only, and on TLS 1.2 only ECDHE key exchange (forward
 * secrecy) with AEAD ciphers (GCM, ChaCha20-Poly1305) — no CBC, no static RSA key exchange. TLS 1.3's suites are
 * all ECDHE + AEAD. The server's order wins.
 */
export const TLS_HARDENING = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} as const;

export interface TlsSettings {
  readonly tls: 'on' | 'off';
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly dataDir: string;
  readonly domain: string;
}

/**
 * The official clients refuse plain http, so the all-in-one serves HTTPS itself. Given no certificate,
 * it makes a local CA once and a server certificate for localhost, 127.0.0.1, ::1 and DOMAIN's host,
 * re-issued when DOMAIN changes; clients trust the CA through NODE_EXTRA_CA_CERTS.
 */
export function loadTls(settings: TlsSettings, logger: Logger): TlsMaterial | undefined {
  if (settings.tls === 'off') return undefined;
  if (settings.certFile || settings.keyFile) {
    if (!settings.certFile || !settings.keyFile) throw new Error('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
    return { cert: readFileSync(settings.certFile, 'utf8'), key: readFileSync(settings.keyFile, 'utf8') };
  }
  const dir = resolve(settings.dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const paths = {
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
  };
  const hosts = uniqueHosts(settings.domain);
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
    const ca = makeCertificate({ commonName: 'Keyhaven local CA', isCa: true, hosts: [] });
    writeFileSync(paths.caKey, ca.key, { mode: 0o600 });
    writeFileSync(paths.caCert, ca.cert);
    logger.info({ ca: paths.caCert }, 'created a local certificate authority for HTTPS');
  }
  if (!existsSync(paths.cert) || !existsSync(paths.key) || !coversHosts(readFileSync(paths.cert, 'utf8'), hosts)) {
    const issuer = { cert: readFileSync(paths.caCert, 'utf8'), key: readFileSync(paths.caKey, 'utf8') };
    const server = makeCertificate({ commonName: hosts[0] ?? 'localhost', isCa: false, hosts, issuer });
    writeFileSync(paths.key, server.key, { mode: 0o600 });
    writeFileSync(paths.cert, server.cert + issuer.cert);
  }
  logger.info(
    { ca: paths.caCert },
    `HTTPS with Keyhaven's local CA: clients must trust ${paths.caCert} (for the bw CLI: export NODE_EXTRA_CA_CERTS=${paths.caCert})`,
  );
  return { cert: readFileSync(paths.cert, 'utf8'), key: readFileSync(paths.key, 'utf8'), caPath: paths.caCert };
}

function uniqueHosts(domain: string): string[] {
  const host = new URL(domain).hostname.replace(/^\[|\]$/g, '');
  return [...new Set([host, 'localhost', '127.0.0.1', '::1'])];
}

function coversHosts(pem: string, hosts: string[]): boolean {
  const cert = new X509Certificate(pem);
  if (new Date(cert.validTo).getTime() < Date.now() + 7 * 24 * 3600 * 1000) return false;
  return hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h) !== undefined));
}

interface CertRequest {
  commonName: string;
  isCa: boolean;
  hosts: string[];
  issuer?: { cert: string; key: string };
}

/**
 * node-forge, loaded the first time a certificate is made: a restart with its certificates in place never loads
 * it (about 10 MB resident). Synchronous, as loadTls is.
 */
function loadForge(): typeof Forge {
  return createRequire(__filename)('node-forge') as typeof Forge;
}

function makeCertificate(request: CertRequest): { cert: string; key: string } {
  const forge = loadForge();
  // node:crypto makes the key quickly; forge only assembles and signs the certificate.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + (request.isCa ? 3650 : 825) * 24 * 3600 * 1000);
  const subject = [
    { name: 'commonName', value: request.commonName },
    { name: 'organizationName', value: 'Keyhaven' },
  ];
  cert.setSubject(subject);
  const extensions: object[] = request.isCa
    ? [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ]
    : [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: request.hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })),
        },
      ];
  cert.setExtensions(extensions);
  if (request.issuer) {
    const issuerCert = forge.pki.certificateFromPem(request.issuer.cert);
    cert.setIssuer(issuerCert.subject.attributes);
    cert.sign(forge.pki.privateKeyFromPem(request.issuer.key), forge.md.sha256.create());
  } else {
    cert.setIssuer(subject);
    cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  }
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}
