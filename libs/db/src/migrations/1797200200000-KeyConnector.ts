import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Key Connector. `app_user.uses_key_connector`: the account unlocks with a key the Key Connector
 * holds instead of a master password. `key_connector_user_key`: Keyhaven acting as its own Key
 * Connector keeps each user's Key Connector key sealed (AES-256-GCM under the operator's
 * KEY_CONNECTOR_ENCRYPTION_KEY, bound to the user id); the plain key is never stored.
 */
export class KeyConnector1797200200000 implements MigrationInterface {
  name = 'KeyConnector1797200200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE app_user ADD COLUMN IF NOT EXISTS uses_key_connector boolean NOT NULL DEFAULT false;
      CREATE TABLE key_connector_user_key (
        user_id uuid PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
        sealed_key text NOT NULL,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
