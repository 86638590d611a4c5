/**
 * nginx for the test bed: deploy/nginx/keyhaven.conf, the file the deployment ships, rendered for this machine
 * (fixed instance addresses instead of Docker's DNS names, loopback ports, a certificate and log paths of its
 * own) and run as a child process with its own prefix, pid, temp and log files, on 127.0.0.1 only.
 *
 * Only the lines below are changed, and each change must apply exactly as expected: a shipped config that no
 * longer matches makes the rendering fail instead of silently testing something else.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SHIPPED_NGINX_CONF = 'deploy/nginx/keyhaven.conf';

/** Debian's nginx lives in /usr/sbin, which a non-root PATH may not include. */
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

export interface NginxRendering {
  /** `keyhaven_api` → the loopback ports of its instances. Every upstream of the shipped file must be given. */
  readonly upstreams: Readonly<Record<string, readonly number[]>>;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly logDir: string;
  /** [major, minor, patch] of the nginx that will run it: before 1.25.1 HTTP/2 is a `listen` parameter. */
  readonly version: readonly [number, number, number];
}

function replaceExactly(source: string, pattern: RegExp, replacement: string, expected: number, what: string): string {
  let count = 0;
  const out = source.replace(pattern, () => {
    count++;
    return replacement;
  });
  if (count !== expected) throw new Error(`${SHIPPED_NGINX_CONF}: expected ${expected} ${what}, found ${count}`);
  return out;
}

const atLeast = (v: readonly [number, number, number], w: readonly [number, number, number]): boolean =>
  v[0] !== w[0] ? v[0] > w[0] : v[1] !== w[1] ? v[1] > w[1] : v[2] >= w[2];

/** The shipped configuration with this machine's addresses, ports and paths. */
export function renderNginxConf(source: string, r: NginxRendering): string {
  let out = source;
  // Docker's embedded DNS is not here; the instances are named by address.
  out = replaceExactly(out, /^resolver\s[^;]*;\n/m, '', 1, '`resolver` line');
  out = replaceExactly(out, /^resolver_timeout\s[^;]*;\n/m, '', 1, '`resolver_timeout` line');
  const seen = new Set<string>();
  out = out.replace(/^upstream (\w+) \{\n([\s\S]*?)^\}/gm, (_all, name: string, body: string) => {
    const ports = r.upstreams[name];
    if (!ports || ports.length === 0) throw new Error(`${SHIPPED_NGINX_CONF}: no instances given for ${name}`);
    seen.add(name);
    const servers = [...body.matchAll(/^(\s*)server\s+\S+((?:\s+[^;\s]+)*);\n/gm)];
    const [first] = servers;
    if (servers.length !== 1 || !first) throw new Error(`${SHIPPED_NGINX_CONF}: ${name} should name one server`);
    // `resolve` re-resolves a DNS name (nginx >= 1.27.3); the other parameters (max_fails, fail_timeout) stay.
    const params = (first[2] ?? '')
      .split(/\s+/)
      .filter((p) => p !== '' && p !== 'resolve')
      .join(' ');
    const indent = first[1] ?? '    ';
    const lines = ports.map((p) => `${indent}server 127.0.0.1:${String(p)}${params ? ` ${params}` : ''};\n`).join('');
    return `upstream ${name} {\n${body.replace(first[0], lines)}}`;
  });
  for (const name of Object.keys(r.upstreams)) {
    if (!seen.has(name)) throw new Error(`${SHIPPED_NGINX_CONF}: has no upstream ${name}`);
  }
  out = replaceExactly(
    out,
    /^ {4}listen 80 default_server;/m,
    `    listen 127.0.0.1:${String(r.httpPort)} default_server;`,
    1,
    'plain-HTTP listen',
  );
  const http2Directive = atLeast(r.version, [1, 25, 1]);
  out = out.replace(/^(\s*)listen 443 ssl default_server;/m, (_all, indent: string) => {
    return `${indent}listen 127.0.0.1:${String(r.httpsPort)} ssl${http2Directive ? '' : ' http2'} default_server;`;
  });
  if (!out.includes(`listen 127.0.0.1:${String(r.httpsPort)} ssl`)) {
    throw new Error(`${SHIPPED_NGINX_CONF}: expected one \`listen 443 ssl default_server\``);
  }
  if (!http2Directive) out = replaceExactly(out, /^\s*http2 on;\n/m, '', 1, '`http2 on` line');
  out = replaceExactly(out, /\/run\/secrets\/tls_cert;/g, `${r.certFile};`, 1, 'ssl_certificate path');
  out = replaceExactly(out, /\/run\/secrets\/tls_key;/g, `${r.keyFile};`, 1, 'ssl_certificate_key path');
  out = out.replace(/\/var\/log\/nginx\//g, `${r.logDir}/`);
  return out;
}

/** The version of the nginx on the PATH, or undefined when there is none. */
export function nginxVersion(binary = NGINX): [number, number, number] | undefined {
  const result = spawnSync(binary, ['-v'], { encoding: 'utf8' });
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(`${result.stderr}${result.stdout}`);
  if (result.error || !match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export interface RunningNginx {
  readonly prefix: string;
  readonly child: ChildProcess;
  readonly accessLog: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Writes the main configuration around the rendered file (its own pid, temp and log paths under `prefix`, one
 * worker, in the foreground) and starts nginx; resolves once `nginx -t` passed and the master is running.
 */
export async function startNginx(options: {
  readonly prefix: string;
  readonly rendered: string;
  readonly binary?: string;
}): Promise<RunningNginx> {
  const { prefix } = options;
  const binary = options.binary ?? NGINX;
  for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir), { recursive: true });
  // When run as root, the workers run as nginx's default unprivileged user and must reach the temp paths.
  chmodSync(prefix, 0o755);
  writeFileSync(join(prefix, 'keyhaven.conf'), options.rendered);
  const temp = (name: string): string => join(prefix, 'tmp', name);
  writeFileSync(
    join(prefix, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${join(prefix, 'nginx.pid')};`,
      `error_log ${join(prefix, 'logs', 'error.log')} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      `    client_body_temp_path ${temp('body')};`,
      `    proxy_temp_path ${temp('proxy')};`,
      `    fastcgi_temp_path ${temp('fastcgi')};`,
      `    uwsgi_temp_path ${temp('uwsgi')};`,
      `    scgi_temp_path ${temp('scgi')};`,
      `    include ${join(prefix, 'keyhaven.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const args = ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'logs', 'error.log')];
  const check = spawnSync(binary, [...args, '-t'], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nginx -t failed:\n${check.stderr}${check.stdout}`);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((done) => {
    child.once('exit', () => {
      done();
    });
  });
  // The pid file appears once the master has bound its sockets.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${String(child.exitCode)}:\n${output}`);
    try {
      if (readFileSync(join(prefix, 'nginx.pid'), 'utf8').trim() !== '') break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start within 10 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    prefix,
    child,
    accessLog: join(prefix, 'logs', 'access.log'),
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      // SIGTERM is nginx's fast shutdown: the hub's long-lived connections do not hold it up.
      child.kill('SIGTERM');
      await exited;
    },
  };
}
