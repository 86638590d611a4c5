import type { Command } from 'commander';
import { hashAdminToken } from '@keyhaven/service-admin';
import { CliError, EXIT } from '../context';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerHashAdminToken(program: Command): void {
  program
    .command('hash-admin-token')
    .description('print the Argon2id PHC string to put in ADMIN_TOKEN (the token is read from standard input)')
    .option('--token <token>', 'the token itself (visible in the process list: prefer standard input)')
    .action(async (options: { token?: string; json?: boolean }) => {
      const token = options.token ?? (process.stdin.isTTY ? '' : await readStdin());
      if (token.length < 16) throw new CliError('the admin token must be at least 16 characters', EXIT.usage);
      const hash = await hashAdminToken(token);
      process.stdout.write(options.json ? `${JSON.stringify({ hash })}\n` : `${hash}\n`);
    });
}
