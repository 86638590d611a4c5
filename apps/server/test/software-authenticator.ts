import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** Minimal CBOR (RFC 8949) encoder: unsigned/negative ints, byte and text strings, maps. Enough for WebAuthn. */
type Cbor = number | string | Buffer | Map<Cbor, Cbor>;

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(length, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(length, 1);
  return b;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  const parts: Buffer[] = [head(5, value.size)];
  for (const [k, v] of value) parts.push(cbor(k), cbor(v));
  return Buffer.concat(parts);
}

const b64url = (b: Buffer): string => b.toString('base64url');
const sha256 = (b: Buffer | string): Buffer => createHash('sha256').update(b).digest();

/**
 * A software FIDO2 authenticator made with Node's crypto (an ES256 key per credential), answering
 * in the shapes the Bitwarden clients upload: registration `deviceResponse` and the login token.
 */
export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly publicJwk: { x: string; y: string };
  counter = 0;

  constructor(
    private readonly rpId: string,
    private readonly origin: string,
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.privateKey = pair.privateKey;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    this.publicJwk = { x: String(jwk.x), y: String(jwk.y) };
  }

  private coseKey(): Buffer {
    return cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(this.publicJwk.x, 'base64url')],
        [-3, Buffer.from(this.publicJwk.y, 'base64url')],
      ]),
    );
  }

  private counterBytes(): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.counter);
    return b;
  }

  /** The `deviceResponse` of `PUT two-factor/webauthn` for the challenge of `get-webauthn-challenge`. */
  register(challenge: string, attestation: 'none' | 'packed' = 'none'): Record<string, unknown> {
    const credentialIdLength = Buffer.alloc(2);
    credentialIdLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      sha256(this.rpId),
      Buffer.from([0x41]), // user present + attested credential data
      this.counterBytes(),
      Buffer.alloc(16), // AAGUID
      credentialIdLength,
      this.credentialId,
      this.coseKey(),
    ]);
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.create', challenge, origin: this.origin, crossOrigin: false }),
    );
    const attStmt =
      attestation === 'packed'
        ? new Map<Cbor, Cbor>([
            ['alg', -7],
            ['sig', sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey)],
          ])
        : new Map<Cbor, Cbor>();
    const attestationObject = cbor(
      new Map<Cbor, Cbor>([
        ['fmt', attestation],
        ['attStmt', attStmt],
        ['authData', authData],
      ]),
    );
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      extensions: {},
      response: {
        AttestationObject: b64url(attestationObject),
        clientDataJson: b64url(clientData),
        transports: ['usb'],
      },
    };
  }

  /** The login `twoFactorToken` (a JSON string) for the assertion challenge of `TwoFactorProviders2["7"]`. */
  assert(challenge: string, options: { counter?: number; origin?: string } = {}): string {
    this.counter = options.counter ?? this.counter + 1;
    const authData = Buffer.concat([sha256(this.rpId), Buffer.from([0x01]), this.counterBytes()]);
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge, origin: options.origin ?? this.origin, crossOrigin: false }),
    );
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey);
    return JSON.stringify({
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      extensions: {},
      response: {
        authenticatorData: b64url(authData),
        clientDataJson: b64url(clientData),
        signature: b64url(signature),
      },
    });
  }
}
