/**
 * What every command shares, kept free of imports: the action modules and the vault client load it, and so does
 * the start-up (`main.ts`), which must not pay for server libraries a command does not use.
 */

/** Exit codes every command shares. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, unauthorized: 4 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface ServerOptions {
  readonly server?: string;
  readonly token?: string;
  readonly insecure?: boolean;
}

export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}
