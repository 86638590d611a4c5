import { Secret, TOTP, URI } from 'otpauth';

/**
 * The TOTP code a client shows for a login's `totp` value. A bare base32 secret uses Bitwarden's defaults (SHA-1,
 * 6 digits, 30 s); an `otpauth://totp/...` URI keeps its own parameters. `time` is a Date or epoch milliseconds.
 */
export function totpCode(secretBase32OrOtpauthUri: string, time: Date | number = Date.now()): string {
  const timestamp = time instanceof Date ? time.getTime() : time;
  const value = secretBase32OrOtpauthUri.trim();
  if (/^otpauth:\/\//i.test(value)) {
    const otp = URI.parse(value);
    if (!(otp instanceof TOTP)) throw new Error('only otpauth://totp URIs are supported');
    return otp.generate({ timestamp });
  }
  // Authenticator apps show secrets in spaced groups, sometimes lowercase or padded.
  const base32 = value.replace(/[\s=-]/g, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(base32)) throw new Error('TOTP secret is not base32');
  const totp = new TOTP({ secret: Secret.fromBase32(base32), algorithm: 'SHA1', digits: 6, period: 30 });
  return totp.generate({ timestamp });
}
