import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadTls } from '@keyhaven/http';
import { freePort } from './server-process';

export interface PrefixRouter {
  readonly url: string;
  readonly caPath: string;
  close(): Promise<void>;
}

/**
 * The load balancer of a split deployment, reduced to what the tests need: HTTPS termination with a
 * local CA, and each path prefix forwarded unchanged to its service over plain HTTP.
 */
export async function startPrefixRouter(routes: Record<string, string>, port?: number): Promise<PrefixRouter> {
  const listenPort = port ?? (await freePort());
  const url = `https://localhost:${listenPort}`;
  const tlsDir = mkdtempSync(join(tmpdir(), 'keyhaven-router-'));
  const tls = loadTls({ tls: 'on', dataDir: tlsDir, domain: url }, pino({ level: 'silent' }));
  if (!tls?.caPath) throw new Error('router TLS material missing');
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = req.url ?? '/';
    const prefix = Object.keys(routes).find((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}?`));
    const upstream = prefix ? routes[prefix] : undefined;
    if (!upstream) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"message":"No service here.","validationErrors":null,"object":"error"}');
      return;
    }
    const forwarded = httpRequest(
      new URL(path, upstream),
      {
        method: req.method,
        headers: { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '' },
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    forwarded.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  return {
    url,
    caPath: tls.caPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(tlsDir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
