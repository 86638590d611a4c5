import { Controller, Get, Inject } from '@nestjs/common';
import { KEYHAVEN_CONFIG, type KeyhavenConfig } from '@keyhaven/config';
import { Public } from '@keyhaven/platform-auth';

/** The server version the clients compare against to enable features; keep it a recent Bitwarden version. */
export const REPORTED_SERVER_VERSION = '2026.8.0';

@Public()
@Controller('config')
export class ConfigController {
  constructor(@Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig) {}

  @Get()
  get(): Record<string, unknown> {
    const base = this.config.DOMAIN;
    return {
      version: REPORTED_SERVER_VERSION,
      gitHash: 'keyhaven',
      server: { name: 'Keyhaven', url: base },
      environment: {
        cloudRegion: null,
        vault: base,
        api: `${base}/api`,
        identity: `${base}/identity`,
        notifications: `${base}/notifications`,
        sso: '',
      },
      // Empty flags keep every client on the REST paths this server implements.
      featureStates: {},
      push: { pushTechnology: 0, vapidPublicKey: null },
      settings: { disableUserRegistration: !this.config.SIGNUPS_ALLOWED, suppressOnboardingInterstitials: false },
      communication: null,
      object: 'config',
    };
  }
}
