/** Bitwarden's KDF numbers and the limits the official server enforces. */
export const KdfType = { Pbkdf2: 0, Argon2id: 1 } as const;
export type KdfType = (typeof KdfType)[keyof typeof KdfType];

export interface KdfSettings {
  readonly kdf: KdfType;
  readonly iterations: number;
  readonly memory: number | null;
  readonly parallelism: number | null;
}

export const KDF_LIMITS = {
  pbkdf2: { minIterations: 600_000, maxIterations: 2_000_000 },
  argon2: {
    minIterations: 2,
    maxIterations: 10,
    minMemory: 15,
    maxMemory: 1024,
    minParallelism: 1,
    maxParallelism: 16,
  },
} as const;

export const DEFAULT_KDF: KdfSettings = { kdf: KdfType.Pbkdf2, iterations: 600_000, memory: null, parallelism: null };

/** Null when acceptable, else the message for a 400. */
export function kdfProblem(settings: {
  kdf: number;
  iterations: number;
  memory?: number | null;
  parallelism?: number | null;
}): string | null {
  const { pbkdf2, argon2 } = KDF_LIMITS;
  if (settings.kdf === KdfType.Pbkdf2) {
    if (
      !Number.isInteger(settings.iterations) ||
      settings.iterations < pbkdf2.minIterations ||
      settings.iterations > pbkdf2.maxIterations
    ) {
      return `PBKDF2 iterations must be between ${pbkdf2.minIterations} and ${pbkdf2.maxIterations}.`;
    }
    return null;
  }
  if (settings.kdf === KdfType.Argon2id) {
    if (
      !Number.isInteger(settings.iterations) ||
      settings.iterations < argon2.minIterations ||
      settings.iterations > argon2.maxIterations
    ) {
      return `Argon2 iterations must be between ${argon2.minIterations} and ${argon2.maxIterations}.`;
    }
    const memory = settings.memory ?? NaN;
    if (!Number.isInteger(memory) || memory < argon2.minMemory || memory > argon2.maxMemory) {
      return `Argon2 memory must be between ${argon2.minMemory} and ${argon2.maxMemory} MiB.`;
    }
    const parallelism = settings.parallelism ?? NaN;
    if (!Number.isInteger(parallelism) || parallelism < argon2.minParallelism || parallelism > argon2.maxParallelism) {
      return `Argon2 parallelism must be between ${argon2.minParallelism} and ${argon2.maxParallelism}.`;
    }
    return null;
  }
  return 'Unsupported KDF type.';
}
