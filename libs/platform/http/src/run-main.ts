import { ConfigError, StartupError } from '@keyhaven/config';

/**
 * Process entry for every app: configuration and dependency failures end in one line naming the
 * variable and a non-zero exit; nothing else prints a stack trace either.
 */
export function runMain(name: string, start: () => Promise<void>): void {
  start().catch((error: unknown) => {
    const message =
      error instanceof ConfigError || error instanceof StartupError
        ? error.message
        : `failed to start: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`keyhaven ${name}: ${message}\n`);
    process.exit(1);
  });
}
