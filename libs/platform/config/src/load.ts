import { readFileSync } from 'node:fs';
import { type z } from 'zod';

/** A configuration problem, reported as one line naming the variable; never a stack trace. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/**
 * Resolves `NAME_FILE` variants (Docker/Kubernetes secrets) for every key the schema knows,
 * then validates once. A value and its `_FILE` twin together is ambiguous and refused.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const direct = env[key];
    const file = env[`${key}_FILE`];
    if (file !== undefined && file !== '') {
      if (direct !== undefined && direct !== '')
        throw new ConfigError(key, `set either ${key} or ${key}_FILE, not both`);
      try {
        raw[key] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch {
        throw new ConfigError(`${key}_FILE`, `cannot read ${file}`);
      }
    } else if (direct !== undefined && direct !== '') {
      raw[key] = direct;
    }
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = issue?.path.map(String).join('.') ?? 'configuration';
    throw new ConfigError(variable, issue?.message ?? 'invalid');
  }
  return result.data;
}

/** A dependency that configuration names but that cannot be reached at boot. */
export class StartupError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Cannot start: ${variable}: ${detail}`);
    this.name = 'StartupError';
  }
}
