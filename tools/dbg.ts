import { createDataSource, runMigrations, Database } from '@keyhaven/db';
void (async () => {
  const ds = createDataSource({ dataDir: '/tmp/kh2' });
  await ds.initialize();
  await runMigrations(ds);
  const db = new Database(ds);
  console.log('a', await db.rows('SELECT 1 AS x'));
  console.log(
    'b',
    await db.execute(
      'INSERT INTO signing_key (id, algorithm, public_jwk, private_pkcs8, created_at, retires_at) VALUES (gen_random_uuid(), $1, $2, $3, now(), now())',
      ['x', '{}', 'y'],
    ),
  );
  console.log(
    'c',
    await db.rows('SELECT count(*) FROM signing_key WHERE id = ANY($1::uuid[])', [
      ['6f1c3b9e-3c7e-4d0b-9c1e-2f6c1b2a3d4e'],
    ]),
  );
  await ds.destroy();
})().catch((e: unknown) => {
  console.error('ERR', e);
});
