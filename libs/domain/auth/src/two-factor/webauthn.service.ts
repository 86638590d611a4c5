import { Inject, Injectable } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { CACHE_STORE, type CacheStore } from '@keyhaven/cache';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { badRequest } from '@keyhaven/contracts';
import type { User } from '../users/user';
import { TwoFactorProviderRepository } from './provider.repository';
import { TwoFactorProvider } from './two-factor.service';
import { WebAuthnCredentialRepository, type WebAuthnCredentialRow } from './webauthn-credential.repository';

/** The Chromium extension origins Bitwarden's own server accepts next to the vault's. */
const EXTENSION_ORIGINS = [
  'chrome-extension://nngceckbapebfimnlniiiahkandclblb',
  'chrome-extension://hccnnhgbibccigepcmlgppchkpfdophk',
  'chrome-extension://jbkfoedolllekgbhcbcoahefnbanhhlh',
  'chrome-extension://ccnckbpmaceehanjmeomladnmlffdjgn',
];
const CHALLENGE_TTL_MS = 5 * 60 * 1000;
const MAX_KEYS = 5;
const MAX_KEYS_PREMIUM = 10;
const REGISTRATION_FAILED = 'Unable to complete WebAuthn registration.';

/** What the clients upload on `PUT two-factor/webauthn` (Bitwarden's casing). */
export interface WebAuthnDeviceResponse {
  id: string;
  rawId: string;
  type: string;
  extensions?: Record<string, unknown> | null | undefined;
  response: { AttestationObject: string; clientDataJson: string; transports?: string[] | null | undefined };
}

const guidBytes = (id: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(id.replace(/-/g, ''), 'hex'));
const stripPadding = (value: string): string => value.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/**
 * WebAuthn (provider 7) with @simplewebauthn/server. The relying party is the host of `DOMAIN`;
 * pending challenges live in the shared cache (Redis in production), taken once, never in memory.
 */
@Injectable()
export class WebAuthnService {
  constructor(
    private readonly credentials: WebAuthnCredentialRepository,
    private readonly providers: TwoFactorProviderRepository,
    @Inject(CACHE_STORE) private readonly cacheStore: CacheStore,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
  ) {}

  private get rpId(): string {
    return new URL(this.config.DOMAIN).hostname;
  }

  private get origins(): string[] {
    return [new URL(this.config.DOMAIN).origin, ...EXTENSION_ORIGINS];
  }

  async keys(userId: string): Promise<WebAuthnCredentialRow[]> {
    return this.credentials.forUser(userId);
  }

  async registrationOptions(user: User): Promise<Record<string, unknown>> {
    const existing = await this.credentials.forUser(user.id);
    const options = await generateRegistrationOptions({
      rpName: 'Bitwarden',
      rpID: this.rpId,
      userID: guidBytes(user.id),
      userName: user.email,
      userDisplayName: user.name ?? user.email,
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.credentialId })),
      authenticatorSelection: { requireResidentKey: false, userVerification: 'discouraged' },
      timeout: 60_000,
    });
    await this.cacheStore.cache.set(`webauthn-register:${user.id}`, options.challenge, CHALLENGE_TTL_MS);
    return { ...options, excludeCredentials: options.excludeCredentials ?? [], status: 'ok', errorMessage: '' };
  }

  /** Verifies the attestation against the pending challenge and stores the key in the slot. */
  async register(user: User, slot: number, name: string, device: WebAuthnDeviceResponse): Promise<void> {
    const limit = user.premium ? MAX_KEYS_PREMIUM : MAX_KEYS;
    if (slot < 1 || slot > limit) throw badRequest(`A key slot must be between 1 and ${limit}.`);
    const challenge = await this.cacheStore.cache.take<string>(`webauthn-register:${user.id}`);
    if (!challenge) throw badRequest(REGISTRATION_FAILED);
    const response: RegistrationResponseJSON = {
      id: stripPadding(device.id),
      rawId: stripPadding(device.rawId),
      type: 'public-key',
      response: {
        attestationObject: stripPadding(device.response.AttestationObject),
        clientDataJSON: stripPadding(device.response.clientDataJson),
        transports: device.response.transports ?? [],
      },
      clientExtensionResults: {},
    };
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        requireUserVerification: false,
      });
    } catch {
      throw badRequest(REGISTRATION_FAILED);
    }
    if (!verified.verified) throw badRequest(REGISTRATION_FAILED);
    const info = verified.registrationInfo;
    if (await this.credentials.credentialIdTaken(info.credential.id)) throw badRequest(REGISTRATION_FAILED);
    await this.credentials.put(user.id, {
      slot,
      name: name.slice(0, 50),
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      signCount: info.credential.counter,
      transports: info.credential.transports ?? [],
      aaguid: info.aaguid,
    });
    await this.providers.save(user.id, TwoFactorProvider.WebAuthn, true, {});
  }

  /** Removes one key; the provider goes off with the last one. True when it went off. */
  async remove(userId: string, slot: number): Promise<boolean> {
    await this.credentials.remove(userId, slot);
    if ((await this.credentials.forUser(userId)).length > 0) return false;
    await this.providers.remove(userId, TwoFactorProvider.WebAuthn);
    return true;
  }

  async removeAll(userId: string): Promise<void> {
    await this.credentials.removeAll(userId);
    await this.providers.remove(userId, TwoFactorProvider.WebAuthn);
  }

  /** The assertion options of a login challenge (`TwoFactorProviders2["7"]`), or null with no keys. */
  async loginOptions(user: User): Promise<Record<string, unknown> | null> {
    const keys = await this.credentials.forUser(user.id);
    if (keys.length === 0) return null;
    const options = await generateAuthenticationOptions({
      rpID: this.rpId,
      allowCredentials: keys.map((k) => ({ id: k.credentialId, transports: k.transports })),
      userVerification: 'discouraged',
      timeout: 60_000,
    });
    await this.cacheStore.cache.set(`webauthn-login:${user.id}`, options.challenge, CHALLENGE_TTL_MS);
    return { ...options, status: 'ok', errorMessage: '' };
  }

  /**
   * The `twoFactorToken` of a WebAuthn login: one of this user's keys must have signed the pending
   * challenge with a counter above the stored one (a cloned key shows up as a regression).
   */
  async verifyLogin(user: User, token: string): Promise<boolean> {
    let parsed: { id?: unknown; rawId?: unknown; response?: Record<string, unknown> };
    try {
      parsed = JSON.parse(token) as typeof parsed;
    } catch {
      return false;
    }
    const id = typeof parsed.id === 'string' ? stripPadding(parsed.id) : '';
    const key = (await this.credentials.forUser(user.id)).find((k) => k.credentialId === id);
    // Another user's key, or none at all: refused like a wrong code.
    if (!key || !parsed.response) return false;
    const challenge = await this.cacheStore.cache.take<string>(`webauthn-login:${user.id}`);
    if (!challenge) return false;
    const field = (name: string): string => {
      const value = parsed.response?.[name];
      return typeof value === 'string' ? stripPadding(value) : '';
    };
    const response: AuthenticationResponseJSON = {
      id,
      rawId: typeof parsed.rawId === 'string' ? stripPadding(parsed.rawId) : id,
      type: 'public-key',
      response: {
        authenticatorData: field('authenticatorData'),
        clientDataJSON: field('clientDataJson') || field('clientDataJSON'),
        signature: field('signature'),
      },
      clientExtensionResults: {},
    };
    try {
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.rpId,
        credential: {
          id: key.credentialId,
          publicKey: new Uint8Array(Buffer.from(key.publicKey, 'base64url')),
          counter: key.signCount,
          transports: key.transports,
        },
        requireUserVerification: false,
      });
      if (!result.verified) return false;
      await this.credentials.advanceCounter(user.id, key.credentialId, result.authenticationInfo.newCounter);
      return true;
    } catch {
      // Bad signature, wrong origin or challenge, or a counter that went backwards.
      return false;
    }
  }
}
