import { loadConfig, serverConfigSchema } from '@keyhaven/config';
import { createDataSource, runMigrations } from '@keyhaven/db';
import { runMain } from '@keyhaven/http';

/** Operator commands. `migrate`: apply pending migrations (as a one-off job before a rollout) and exit. */
const commands: Record<string, () => Promise<void>> = {
  migrate: async () => {
    const config = loadConfig(serverConfigSchema);
    const dataSource = createDataSource({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
    await dataSource.initialize();
    try {
      const { applied } = await runMigrations(dataSource);
      process.stdout.write(applied.length > 0 ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
    } finally {
      await dataSource.destroy();
    }
  },
};

const name = process.argv[2] ?? '';
const command = commands[name];
if (!command) {
  process.stderr.write(`usage: keyhaven-cli <${Object.keys(commands).join('|')}>\n`);
  process.exit(2);
}
runMain(`cli ${name}`, command);
