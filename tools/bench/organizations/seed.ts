// The organizations the measured cases run on, written straight into PostgreSQL (outside any measurement).
import { randomUUID } from 'node:crypto';
import { type Pool } from 'pg';

/** N confirmed members with accounts, 20 collections, 10 groups: two collections and one group each. */
export async function seedMembers(pool: Pool, orgId: string, size: number): Promise<void> {
  const tag = randomUUID().slice(0, 8);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO app_user (id, email, name, master_password_hash, key, public_key, kdf, kdf_iterations, security_stamp, api_key,
         totp_secret, creation_date, revision_date, account_revision_date)
       SELECT gen_random_uuid(), 'member' || i || '-' || $2::text || '@bench.example.com', 'Member ' || i, 'hash', '2.aaaa|bbbb|cccc',
         'publickey' || i, 0, 600000, md5(i::text), md5('k' || i), CASE WHEN i % 3 = 0 THEN 'SECRET' END, now(), now(), now()
       FROM generate_series(1, $1::int) i`,
      [size, tag],
    );
    await client.query(
      `INSERT INTO organization_user (id, organization_id, user_id, key, status, type, external_id, creation_date, revision_date)
       SELECT gen_random_uuid(), $1, u.id, '4.wrappedorgkey', 2, CASE WHEN row_number() OVER () % 50 = 0 THEN 1 ELSE 2 END,
         'ext-' || u.email, now(), now()
       FROM app_user u WHERE u.email LIKE 'member%-' || $2::text || '@bench.example.com'`,
      [orgId, tag],
    );
    await client.query(
      `INSERT INTO collection (id, organization_id, name, creation_date, revision_date)
       SELECT gen_random_uuid(), $1, '2.collection' || i || '|iv|mac', now(), now() FROM generate_series(1, 20) i`,
      [orgId],
    );
    await client.query(
      `INSERT INTO org_group (id, organization_id, name, creation_date, revision_date)
       SELECT gen_random_uuid(), $1, 'Group ' || i, now(), now() FROM generate_series(1, 10) i`,
      [orgId],
    );
    await client.query(
      `WITH m AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM organization_user WHERE organization_id = $1 AND type <> 0),
            c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM collection WHERE organization_id = $1)
       INSERT INTO collection_user (collection_id, organization_user_id, read_only, hide_passwords, manage)
       SELECT c.id, m.id, m.n % 4 = 0, m.n % 7 = 0, m.n % 11 = 0 FROM m JOIN c ON c.n IN (m.n % 20, (m.n + 7) % 20)
       ON CONFLICT DO NOTHING`,
      [orgId],
    );
    await client.query(
      `WITH m AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM organization_user WHERE organization_id = $1 AND type <> 0),
            g AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM org_group WHERE organization_id = $1)
       INSERT INTO group_user (group_id, organization_user_id) SELECT g.id, m.id FROM m JOIN g ON g.n = m.n % 10`,
      [orgId],
    );
    await client.query(
      `WITH g AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM org_group WHERE organization_id = $1),
            c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM collection WHERE organization_id = $1)
       INSERT INTO collection_group (collection_id, group_id, read_only, hide_passwords, manage)
       SELECT c.id, g.id, false, false, g.n % 2 = 0 FROM g JOIN c ON c.n IN (g.n % 20, (g.n * 3) % 20)
       ON CONFLICT DO NOTHING`,
      [orgId],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE');
  } finally {
    client.release();
  }
}

/** N members who accepted an invitation and await confirmation (with accounts and public keys). */
export async function seedAccepted(pool: Pool, orgId: string, size: number): Promise<string[]> {
  const tag = randomUUID().slice(0, 8);
  await pool.query(
    `INSERT INTO app_user (id, email, name, master_password_hash, key, public_key, kdf, kdf_iterations, security_stamp, api_key,
       creation_date, revision_date, account_revision_date)
     SELECT gen_random_uuid(), 'accepted' || i || '-' || $1::text || '@bench.example.com', 'Accepted ' || i, 'hash',
       '2.aaaa|bbbb|cccc', 'publickey', 0, 600000, md5(i::text), md5('k' || i), now(), now(), now()
     FROM generate_series(1, $2::int) i`,
    [tag, size],
  );
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO organization_user (id, organization_id, user_id, status, type, creation_date, revision_date)
     SELECT gen_random_uuid(), $1, u.id, 1, 2, now(), now() FROM app_user u
     WHERE u.email LIKE 'accepted%-' || $2::text || '@bench.example.com'
     RETURNING id`,
    [orgId, tag],
  );
  return rows.map((r) => r.id);
}
