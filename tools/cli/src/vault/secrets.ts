import { readFileSync } from 'node:fs';
import { CliError, EXIT } from '../context';

/** Reads a line from the terminal without echoing it. */
export function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let value = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error): void => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          return;
        }
        if (ch === '\u0003') {
          done(new CliError('interrupted', EXIT.failure));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** A yes/no question on the terminal; false without one. */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/**
 * The master password, never from the command line (it would show in the process list and shell
 * history): a file (its first line), an environment variable, or a prompt on the terminal.
 */
export async function masterPassword(options: { file?: string; envName: string; label: string }): Promise<string> {
  if (options.file) {
    const text = readFileSync(options.file, 'utf8').replace(/\r?\n[\s\S]*$/, '');
    if (!text) throw new CliError(`${options.file} is empty`, EXIT.usage);
    return text;
  }
  const fromEnv = process.env[options.envName];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY)
    throw new CliError(
      `the master password for ${options.label} is needed: --password-file, ${options.envName}, or run on a terminal`,
      EXIT.usage,
    );
  return askHidden(`Master password for ${options.label}: `);
}
