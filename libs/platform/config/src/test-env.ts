import { z } from 'zod';

/**
 * Where the test suites find the real services. Read here so that no test reads process.env itself.
 * `CI` makes tests that need a service fail (never skip) when it is unreachable.
 */
const testEnvSchema = z.object({
  CI: z
    .string()
    .optional()
    .transform((v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'),
  TEST_DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/postgres'),
  TEST_REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  TEST_AMQP_URL: z.string().default('amqp://guest:guest@127.0.0.1:5672'),
  /** MySQL/MariaDB, for import-vaultwarden's MySQL source; the account may create `keyhaven_*` databases. */
  TEST_MYSQL_URL: z.string().default('mysql://keyhaven:keyhaven@127.0.0.1:3306/'),
  /**
   * A Vaultwarden checkout (a directory holding its `migrations/`): when set, the import-vaultwarden fixture builds
   * its SQLite, PostgreSQL and MySQL databases with Vaultwarden's own migrations instead of the hand-written schema.
   * Never committed or fetched by CI (no network there); an empty value counts as unset.
   */
  VAULTWARDEN_SRC: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v)),
  /** The databases the suites that run on both run on: `postgres,pglite` (both), or one of them. */
  TEST_BACKENDS: z
    .string()
    .default('postgres,pglite')
    .transform((v) => v.split(',').map((b) => b.trim()))
    .pipe(z.array(z.enum(['postgres', 'pglite'])).min(1)),
});

export type TestEnv = z.infer<typeof testEnvSchema>;

/** The test process's environment, to hand on to the server processes a test starts. */
export function inheritedEnvironment(exclude: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !exclude.includes(k)) env[k] = v;
  return env;
}

export function loadTestEnv(env: NodeJS.ProcessEnv = process.env): TestEnv {
  return testEnvSchema.parse(env);
}
