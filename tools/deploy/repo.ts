import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  SECRET_KEYS,
  serverConfigSchema,
  serviceConfigSchema,
  SERVICE_PORTS,
  type ServiceName,
} from '@keyhaven/config';

/** The repository root (this file is tools/deploy/repo.ts). */
export const ROOT = resolve(__dirname, '../..');

export function repoPath(relative: string): string {
  return resolve(ROOT, relative);
}

export function readRepoFile(relative: string): string {
  const path = repoPath(relative);
  assert.ok(existsSync(path), `${relative} is missing`);
  return readFileSync(path, 'utf8');
}

export interface SplitService {
  readonly name: ServiceName;
  readonly port: number;
  /** URL prefix with a leading slash, or null for the worker that has no public routes. */
  readonly prefix: string | null;
}

/** The split services as the README and ARCHITECTURE describe them. */
const PREFIXES: Record<ServiceName, string | null> = {
  api: '/api',
  identity: '/identity',
  admin: '/admin',
  notifications: '/notifications',
  events: '/events',
  'events-processor': null,
  sso: '/sso',
  scim: '/scim',
  billing: '/billing',
  icons: '/icons',
};

/** Every split service, with the port the config schema gives it. */
export const SPLIT_SERVICES: readonly SplitService[] = (Object.keys(SERVICE_PORTS) as ServiceName[]).map((name) => ({
  name,
  port: SERVICE_PORTS[name],
  prefix: PREFIXES[name],
}));

export const PUBLIC_SERVICES = SPLIT_SERVICES.filter((s): s is SplitService & { prefix: string } => s.prefix !== null);

/** Every configuration variable a Keyhaven process reads (the zod schemas' keys). */
export const CONFIG_VARIABLES: ReadonlySet<string> = new Set([
  ...Object.keys(serverConfigSchema.shape),
  ...Object.keys(serviceConfigSchema('api').shape),
]);

/** Variables whose values are secrets: only ever given as NAME_FILE in deployment files. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set<string>(SECRET_KEYS);

/** `X` for a known variable X, `X` for `X_FILE` when X is known, otherwise undefined. */
export function configVariableOf(envName: string): { variable: string; viaFile: boolean } | undefined {
  if (CONFIG_VARIABLES.has(envName)) return { variable: envName, viaFile: false };
  if (envName.endsWith('_FILE')) {
    const base = envName.slice(0, -'_FILE'.length);
    if (CONFIG_VARIABLES.has(base)) return { variable: base, viaFile: true };
  }
  return undefined;
}

// ---- typed access to parsed YAML

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown, where: string): Record<string, unknown> {
  if (!isRecord(value)) assert.fail(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

export function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) assert.fail(`${where}: expected a list, got ${JSON.stringify(value)}`);
  return value as unknown[];
}

export function text(value: unknown, where: string): string {
  if (typeof value !== 'string') assert.fail(`${where}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** A YAML scalar (string, number, boolean) as the string an environment variable would hold. */
export function scalar(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  assert.fail(`${where}: expected a scalar, got ${JSON.stringify(value)}`);
}

export function strings(value: unknown, where: string): string[] {
  return list(value, where).map((item, i) => text(item, `${where}[${i}]`));
}

/** Parses a YAML file (merge keys on, as Docker Compose reads them); a syntax error or duplicate key fails. */
export function loadYaml(relative: string): unknown {
  const source = readRepoFile(relative);
  try {
    const parsed: unknown = parseYaml(source, { merge: true });
    return parsed;
  } catch (error) {
    assert.fail(`${relative} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Docker Compose interpolation with an empty environment: `${X:-default}` and `${X-default}` give the default,
 * `${X}` gives '', `$$` is a literal `$`.
 */
export function interpolate(value: string, env: Readonly<Record<string, string>> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match: string, braced?: string, colon?: string, fallback?: string, bare?: string) => {
      if (match === '$$') return '$';
      const name = braced ?? bare ?? '';
      const current = env[name];
      if (fallback !== undefined) {
        const unset = current === undefined || (colon === ':' && current === '');
        return unset ? fallback : current;
      }
      return current ?? '';
    },
  );
}

/** Splits a command line the way package.json scripts are written here (plain words, no quoting). */
export function words(commandLine: string): string[] {
  return commandLine.trim().split(/\s+/);
}
