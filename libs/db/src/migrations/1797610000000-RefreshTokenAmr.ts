import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How the login a refresh token descends from was authenticated (the access token's `amr`), so a
 * refreshed access token keeps it: the clients read `amr: ["external"]` from the current token to
 * decide whether an SSO user must move to Key Connector, and a refresh used to reset it to
 * `Application`. Rows from before this migration were password or API-key logins, or SSO logins
 * whose refresh already lost it.
 */
export class RefreshTokenAmr1797610000000 implements MigrationInterface {
  name = 'RefreshTokenAmr1797610000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_token ADD COLUMN amr text NOT NULL DEFAULT 'Application'`);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
