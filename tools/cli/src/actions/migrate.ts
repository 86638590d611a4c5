import { loadConfig, serverConfigSchema } from '@keyhaven/config';
import { createDataSource, runMigrations } from '@keyhaven/db';

export async function runMigrate(): Promise<void> {
  const config = loadConfig(serverConfigSchema);
  const dataSource = createDataSource({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  await dataSource.initialize();
  try {
    const { applied } = await runMigrations(dataSource);
    process.stdout.write(applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
  } finally {
    await dataSource.destroy();
  }
}
