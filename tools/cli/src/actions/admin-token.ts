import { hashAdminToken } from '@keyhaven/service-admin';
import { CliError, EXIT } from '../context';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export interface HashAdminTokenOptions {
  readonly token?: string;
  readonly json?: boolean;
}

export async function runHashAdminToken(options: HashAdminTokenOptions): Promise<void> {
  const token = options.token ?? (process.stdin.isTTY ? '' : await readStdin());
  if (token.length < 16) throw new CliError('the admin token must be at least 16 characters', EXIT.usage);
  const hash = await hashAdminToken(token);
  process.stdout.write(options.json ? `${JSON.stringify({ hash })}\n` : `${hash}\n`);
}
