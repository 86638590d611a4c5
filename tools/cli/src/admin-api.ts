import { Agent } from 'undici';
import { CliError, EXIT, type ServerOptions } from './context';

/** Server mode: the running server's admin API with the admin token (`--token` or KEYHAVEN_ADMIN_TOKEN). */
export async function callServer(
  options: ServerOptions,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; body: string }> {
  const token = options.token ?? process.env['KEYHAVEN_ADMIN_TOKEN'];
  if (!options.server) throw new CliError('--server is required', EXIT.usage);
  if (!token) throw new CliError('the admin token is required: --token or KEYHAVEN_ADMIN_TOKEN', EXIT.usage);
  const url = `${options.server.replace(/\/+$/, '')}/admin/${path}`;
  const dispatcher = options.insecure ? new Agent({ connect: { rejectUnauthorized: false } }) : undefined;
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    ...(dispatcher ? { dispatcher } : {}),
  } as RequestInit);
  const body = await response.text();
  if (response.status === 404) throw new CliError(`not found (${path})`, EXIT.notFound);
  if (response.status === 401 || response.status === 429)
    throw new CliError(`the server refused the admin token (${response.status})`, EXIT.unauthorized);
  if (response.status >= 400)
    throw new CliError(`the server answered ${response.status}: ${body.slice(0, 300)}`, EXIT.failure);
  return { status: response.status, body };
}
