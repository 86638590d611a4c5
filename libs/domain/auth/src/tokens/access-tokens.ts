import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { SignJWT, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import {
  ORGANIZATION_CREDENTIALS,
  type OrganizationCredentials,
  type Principal,
  type TokenVerifier,
} from '@keyhaven/platform-auth';
import { SigningKeys } from './signing-keys';
import { UserRepository } from '../users/user.repository';
import { ActivityService } from '../users/activity.service';
import type { User } from '../users/user';

/** The clients refresh when under 5 minutes remain; an hour keeps refresh traffic low. */
export const ACCESS_TOKEN_LIFETIME_S = 3600;

export interface AccessTokenSubject {
  readonly user: User;
  readonly clientId: string;
  readonly scopes: string[];
  readonly deviceIdentifier: string | null;
  readonly deviceId: string | null;
  readonly deviceType: number | null;
  readonly amr: string[];
}

interface AccessClaims extends JWTPayload {
  kind?: 'organization';
  email: string;
  sstamp: string;
  client_id: string;
  scope: string[];
  device?: string;
  device_id?: string;
  devicetype?: string;
}

@Injectable()
export class AccessTokens implements TokenVerifier {
  private readonly issuer: string;

  constructor(
    private readonly keys: SigningKeys,
    private readonly users: UserRepository,
    private readonly activity: ActivityService,
    @Inject(KEYHAVEN_CONFIG) config: KeyhavenConfig,
    @Optional() @Inject(ORGANIZATION_CREDENTIALS) private readonly organizationCredentials?: OrganizationCredentials,
  ) {
    this.issuer = `${config.DOMAIN}/identity`;
  }

  async issue(subject: AccessTokenSubject): Promise<{ token: string; expiresIn: number }> {
    const key = await this.keys.current();
    const { user } = subject;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      email: user.email,
      name: user.name ?? '',
      email_verified: user.emailVerified,
      premium: user.premium,
      sstamp: user.securityStamp,
      client_id: subject.clientId,
      scope: subject.scopes,
      amr: subject.amr,
      ...(subject.deviceIdentifier ? { device: subject.deviceIdentifier } : {}),
      ...(subject.deviceId ? { device_id: subject.deviceId } : {}),
      ...(subject.deviceType !== null ? { devicetype: String(subject.deviceType) } : {}),
    })
      .setProtectedHeader({ alg: this.keys.algorithm, kid: key.kid, typ: 'at+jwt' })
      .setSubject(user.id)
      .setIssuer(this.issuer)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ACCESS_TOKEN_LIFETIME_S)
      .setJti(randomUUID())
      .sign(key.privateKey);
    // Every grant and refresh of a user's token passes here: the one place that marks them active.
    await this.activity.touch(user.id);
    return { token, expiresIn: ACCESS_TOKEN_LIFETIME_S };
  }

  /** Valid signature, an `exp` not yet passed, and issued under the user's current security stamp. */
  async verify(token: string): Promise<Principal | null> {
    const claims = await this.verifySignature<AccessClaims>(token, 'at+jwt');
    if (!claims?.sub || typeof claims.sstamp !== 'string') return null;
    if (claims.kind === 'organization') {
      const stamp = await this.organizationCredentials?.stampOf(claims.sub);
      if (!stamp || stamp !== claims.sstamp) return null;
      return {
        kind: 'organization',
        userId: claims.sub,
        deviceId: null,
        clientId: claims.client_id,
        scopes: claims.scope,
        email: '',
      };
    }
    const stamp = await this.users.securityStampOf(claims.sub);
    if (stamp === null || stamp !== claims.sstamp) return null;
    return {
      kind: 'user',
      userId: claims.sub,
      deviceId: claims.device_id ?? null,
      deviceIdentifier: claims.device ?? null,
      deviceType: deviceTypeOf(claims.devicetype),
      clientId: claims.client_id,
      scopes: claims.scope,
      email: claims.email,
    };
  }

  /** A token for an organization's API key: public API only, dead once the key rotates. */
  async issueForOrganization(
    organizationId: string,
    stamp: string,
    clientId: string,
  ): Promise<{ token: string; expiresIn: number }> {
    const key = await this.keys.current();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      kind: 'organization',
      sstamp: stamp,
      client_id: clientId,
      scope: ['api.organization'],
    })
      .setProtectedHeader({ alg: this.keys.algorithm, kid: key.kid, typ: 'at+jwt' })
      .setSubject(organizationId)
      .setIssuer(this.issuer)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ACCESS_TOKEN_LIFETIME_S)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresIn: ACCESS_TOKEN_LIFETIME_S };
  }

  /** Short-lived signed tokens for other purposes (e-mail verification), bound to `purpose`. */
  async signPurpose(purpose: string, claims: Record<string, string>, lifetimeSeconds: number): Promise<string> {
    const key = await this.keys.current();
    return new SignJWT({ ...claims, purpose })
      .setProtectedHeader({ alg: this.keys.algorithm, kid: key.kid, typ: 'purpose+jwt' })
      .setIssuer(this.issuer)
      .setIssuedAt()
      .setExpirationTime(`${lifetimeSeconds}s`)
      .sign(key.privateKey);
  }

  async verifyPurpose(purpose: string, token: string): Promise<Record<string, unknown> | null> {
    const claims = await this.verifySignature(token, 'purpose+jwt');
    return claims?.['purpose'] === purpose ? claims : null;
  }

  private async verifySignature<T extends JWTPayload>(token: string, typ: string): Promise<T | null> {
    try {
      const { kid } = decodeProtectedHeader(token);
      if (!kid) return null;
      const key = await this.keys.byKid(kid);
      if (!key) return null;
      // jose checks `exp` only when present: a token we signed without one would never expire.
      const { payload } = await jwtVerify<T>(token, key, {
        issuer: this.issuer,
        algorithms: [this.keys.algorithm],
        typ,
        requiredClaims: ['exp'],
      });
      return payload;
    } catch {
      return null;
    }
  }
}

/** The login's device type from the `devicetype` claim (a decimal string), or null when absent or malformed. */
function deviceTypeOf(claim: unknown): number | null {
  return typeof claim === 'string' && /^\d{1,5}$/.test(claim) ? Number(claim) : null;
}
