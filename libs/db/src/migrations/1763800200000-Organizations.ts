import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Organizations, members, collections, groups, policies, and org ownership of items. */
export class Organizations1763800200000 implements MigrationInterface {
  name = 'Organizations1763800200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        billing_email text NOT NULL,
        public_key text,
        private_key text,
        api_key text NOT NULL,
        seats integer,
        max_collections integer,
        enabled boolean NOT NULL DEFAULT true,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );

      CREATE TABLE organization_user (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        user_id uuid REFERENCES app_user (id) ON DELETE CASCADE,
        email text,
        key text,
        reset_password_key text,
        status smallint NOT NULL,
        type smallint NOT NULL,
        permissions jsonb,
        external_id text,
        revoked_reason text,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX organization_user_org_user_key ON organization_user (organization_id, user_id) WHERE user_id IS NOT NULL;
      CREATE UNIQUE INDEX organization_user_org_email_key ON organization_user (organization_id, email) WHERE user_id IS NULL;
      CREATE INDEX organization_user_user_idx ON organization_user (user_id);

      CREATE TABLE collection (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        name text NOT NULL,
        external_id text,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE INDEX collection_org_idx ON collection (organization_id);

      CREATE TABLE collection_user (
        collection_id uuid NOT NULL REFERENCES collection (id) ON DELETE CASCADE,
        organization_user_id uuid NOT NULL REFERENCES organization_user (id) ON DELETE CASCADE,
        read_only boolean NOT NULL DEFAULT false,
        hide_passwords boolean NOT NULL DEFAULT false,
        manage boolean NOT NULL DEFAULT false,
        PRIMARY KEY (collection_id, organization_user_id)
      );
      CREATE INDEX collection_user_member_idx ON collection_user (organization_user_id);

      CREATE TABLE org_group (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        name text NOT NULL,
        external_id text,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE INDEX org_group_org_idx ON org_group (organization_id);

      CREATE TABLE group_user (
        group_id uuid NOT NULL REFERENCES org_group (id) ON DELETE CASCADE,
        organization_user_id uuid NOT NULL REFERENCES organization_user (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, organization_user_id)
      );
      CREATE INDEX group_user_member_idx ON group_user (organization_user_id);

      CREATE TABLE collection_group (
        collection_id uuid NOT NULL REFERENCES collection (id) ON DELETE CASCADE,
        group_id uuid NOT NULL REFERENCES org_group (id) ON DELETE CASCADE,
        read_only boolean NOT NULL DEFAULT false,
        hide_passwords boolean NOT NULL DEFAULT false,
        manage boolean NOT NULL DEFAULT false,
        PRIMARY KEY (collection_id, group_id)
      );
      CREATE INDEX collection_group_group_idx ON collection_group (group_id);

      CREATE TABLE collection_cipher (
        collection_id uuid NOT NULL REFERENCES collection (id) ON DELETE CASCADE,
        cipher_id uuid NOT NULL REFERENCES cipher (id) ON DELETE CASCADE,
        PRIMARY KEY (collection_id, cipher_id)
      );
      CREATE INDEX collection_cipher_cipher_idx ON collection_cipher (cipher_id);

      CREATE TABLE policy (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
        type smallint NOT NULL,
        data jsonb,
        enabled boolean NOT NULL,
        creation_date timestamptz NOT NULL,
        revision_date timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX policy_org_type_key ON policy (organization_id, type);

      ALTER TABLE cipher ADD CONSTRAINT cipher_organization_fk FOREIGN KEY (organization_id) REFERENCES organization (id) ON DELETE CASCADE;
    `);
  }

  down(): Promise<void> {
    return Promise.reject(new Error('migrations are forward-only'));
  }
}
