import { Inject, Injectable } from '@nestjs/common';
import { KEYHAVEN_CONFIG, SECRET_KEYS, describeConfig, type KeyhavenConfig } from '@keyhaven/config';
import { Database, migrationsForTest } from '@keyhaven/db';
import { HEALTH_CHECKS, runHealthChecks, type HealthCheck } from '@keyhaven/http';

const startedAt = Date.now();
/** package.json's version (the bundle does not read package.json at run time). */
const KEYHAVEN_VERSION = '0.1.0';
/** Secret values shorter than this are not searched for in free text (they would mask ordinary words). */
const MIN_SCRUB_LENGTH = 4;

/**
 * What an operator checks first when something is off. Nothing secret leaves: the configuration is
 * `describeConfig`'s (secrets masked, URLs without credentials), and every string of the report is
 * scrubbed of every secret value and URL password as a second line of defence (a driver error that
 * echoes a connection string).
 */
@Injectable()
export class DiagnosticsService {
  constructor(
    private readonly db: Database,
    @Inject(KEYHAVEN_CONFIG) private readonly config: KeyhavenConfig,
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[],
  ) {}

  async report(): Promise<Record<string, unknown>> {
    const [health, migrations, clock] = await Promise.all([
      runHealthChecks(this.checks),
      this.migrationState(),
      this.clockDrift(),
    ]);
    const report = {
      object: 'adminDiagnostics',
      versions: {
        keyhaven: KEYHAVEN_VERSION,
        node: process.versions.node,
        platform: `${process.platform} ${process.arch}`,
      },
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      serverTime: new Date().toISOString(),
      health,
      migrations,
      clock,
      adminTokenHashed: /^\$argon2/.test(this.config.ADMIN_TOKEN ?? ''),
      config: describeConfig(this.config),
    };
    return this.scrub(report) as Record<string, unknown>;
  }

  private async migrationState(): Promise<Record<string, unknown>> {
    const known = migrationsForTest();
    try {
      const rows = await this.db.rows<{ name: string }>('SELECT name FROM schema_migrations');
      const applied = new Set(rows.map((r) => r.name));
      return {
        known: known.length,
        applied: applied.size,
        pending: known.filter((n) => !applied.has(n)),
        latest: [...known].reverse().find((n) => applied.has(n)) ?? null,
      };
    } catch (error) {
      return { known: known.length, error: error instanceof Error ? error.message : 'unavailable' };
    }
  }

  /** The database's clock against this process's: TOTP codes and token expiry need them to agree. */
  private async clockDrift(): Promise<Record<string, unknown>> {
    const before = Date.now();
    const rows = await this.db.rows<{ now: Date }>('SELECT now() AS now');
    const after = Date.now();
    const dbTime = rows[0] ? new Date(rows[0].now).getTime() : NaN;
    const driftMs = Math.round(dbTime - (before + after) / 2);
    return { databaseDriftMs: driftMs, roundTripMs: after - before, ok: Math.abs(driftMs) < 2000 + (after - before) };
  }

  private scrub(value: unknown): unknown {
    const secrets = this.secretValues();
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return secrets.reduce((s, secret) => s.split(secret).join('***'), v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object')
        return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value);
  }

  private secretValues(): string[] {
    const values: string[] = [];
    const config = this.config as unknown as Record<string, unknown>;
    for (const key of SECRET_KEYS) {
      const value = config[key];
      if (typeof value !== 'string') continue;
      if (value.length >= MIN_SCRUB_LENGTH) values.push(value);
      try {
        const url = new URL(value);
        if (url.password.length >= MIN_SCRUB_LENGTH) values.push(url.password, decodeURIComponent(url.password));
      } catch {
        // not a URL
      }
    }
    return values;
  }
}
