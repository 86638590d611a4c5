import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Login with device: the pending auth requests, in the database so that the requesting and the
 * approving device may sit on different instances. `approved` is null until answered and
 * `response_date` stays null until then (clients read "answered" from both); `authentication_date`
 * marks the one password grant the request may complete. Requests expire 15 minutes after creation.
 */
export class AuthRequests1796180000000 implements MigrationInterface {
  name = 'AuthRequests1796180000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth_request (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        type smallint NOT NULL,
        request_device_identifier text NOT NULL,
        request_device_type smallint NOT NULL,
        request_ip_address text,
        access_code text NOT NULL,
        public_key text NOT NULL,
        key text,
        master_password_hash text,
        approved boolean,
        response_device_id uuid REFERENCES device (id) ON DELETE SET NULL,
        creation_date timestamptz NOT NULL,
        response_date timestamptz,
        authentication_date timestamptz
      );
      CREATE INDEX auth_request_user_idx ON auth_request (user_id, creation_date);
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
