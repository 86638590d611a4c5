/**
 * Organization benchmarks, each next to its floor measured in the same run on the same database:
 *
 * - members list: p50/p95 of `GET /api/organizations/{id}/users` for an organization of N confirmed
 *   members, each with two collections and one group; floor: the same rows (members, accounts,
 *   collection and group assignments) read by one query in this process and serialised the same way.
 * - directory import: `POST /api/public/organization/import` of N new users in G groups with the
 *   organization's API key, into a fresh organization each round, then the same body again (a
 *   re-sync where everyone matches); floor: parsing the same JSON and writing the same member, group
 *   and group-member rows with one statement each in one transaction in this process (rolled back).
 *   The server also signs and "sends" (logs) one invitation per new member after commit; the floor
 *   does not.
 *
 * The server reaches PostgreSQL through a small proxy in this process that counts the statements it
 * sends (simple queries and extended-protocol executes, BEGIN/COMMIT included): the figure printed
 * is statements per request. A first table gives that figure for every list and bulk path of the
 * admin console and the public API at two organization sizes.
 *
 *   npm run bench:orgs                                   # 5,000-member list, 10,000-user import
 *   npm run bench:orgs -- --members 1000 --import 2000 --import-rounds 1
 *   npm run bench:orgs -- --members 0 --import 0        # only the statements-per-path table
 *   npm run bench:orgs -- --paths 0                      # without that table
 *
 * Needs the PostgreSQL on 127.0.0.1 (TEST_DATABASE_URL); the server runs as the all-in-one on it.
 */
import { Pool } from 'pg';
import { createScratchDatabase, passwordLogin, registerAccount, serviceUrls, startServer } from '@keyhaven/testing';
import { type Context } from './organizations/context';
import { benchImport } from './organizations/directory-import';
import { benchMembersList } from './organizations/members-list';
import { StatementCounter } from './organizations/statement-counter';
import { benchStatements } from './organizations/statements';

// The set-up (seeding, the statement counter) and each measured case live in ./organizations; this file
// starts the server on a scratch database and runs the cases the options ask for.

const PASSWORD = 'benchmark password';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

async function main(): Promise<void> {
  const members = option('members', 5000);
  const importSize = option('import', 10000);
  const importGroups = option('import-groups', 20);
  const rounds = option('rounds', 30);
  const importRounds = option('import-rounds', 3);
  const warmup = 3;
  const database = await createScratchDatabase();
  const target = new URL(serviceUrls.postgres());
  const counter = new StatementCounter(target.hostname, Number(target.port || 5432));
  const proxyPort = await counter.listen();
  const proxied = new URL(database.url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxyPort);
  const server = await startServer({ env: { DATABASE_URL: proxied.toString(), LOG_LEVEL: 'warn' } });
  const pool = new Pool({ connectionString: database.url, max: 3 });
  try {
    const owner = await registerAccount(server.http, 'bench-owner@example.com', PASSWORD);
    const session = await passwordLogin(server.http, owner);
    const ctx: Context = { server, pool, counter, owner, session };
    process.stdout.write(`organization benchmarks: all-in-one on PostgreSQL; statements counted on the wire\n`);
    const pathSizes = option('paths', 1) > 0 ? [50, 500] : [];
    if (pathSizes.length > 0) await benchStatements(ctx, pathSizes);
    if (members > 0) await benchMembersList(ctx, members, rounds, warmup);
    if (importSize > 0) await benchImport(ctx, importSize, importGroups, importRounds);
  } catch (error) {
    process.stderr.write(`server log (tail):\n${server.output().slice(-4000)}\n`);
    throw error;
  } finally {
    await pool.end().catch(() => undefined);
    await server.stop('SIGKILL');
    server.cleanup();
    await counter.close();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
