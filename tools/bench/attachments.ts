/**
 * Attachments benchmark: upload and download throughput of one file through the all-in-one (files on
 * local disk), next to the floor of copying the same bytes with `fs` streams on the same disk, in the
 * same run.
 *
 *   npm run bench:attachments                       # 64 MiB, 3 rounds, HTTPS as the clients use it
 *   npm run bench:attachments -- --mb 256 --rounds 5
 *   npm run bench:attachments -- --plain            # plain HTTP (TLS=off), to see what TLS costs
 *
 * Upload = `POST ciphers/{id}/attachment/{attachmentId}` with the file streamed as multipart part `data`
 * (after the `attachment/v2` announcement, not timed); download = the anonymous GET of the signed link,
 * streamed to a file. The floor writes with fsync like the server's store (`flush`). Loopback only;
 * bounded loops; every file is removed at the end.
 */
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { passwordLogin, registerAccount, startServer, type ServerProcess } from '@keyhaven/testing';
import { encryptType2 } from '@keyhaven/vault-crypto';

interface Options {
  readonly mb: number;
  readonly rounds: number;
  readonly plain: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(name);
    const parsed = at >= 0 ? Number(argv[at + 1]) : fallback;
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} needs a positive integer`);
    return parsed;
  };
  return {
    mb: Math.min(value('--mb', 64), 1024),
    rounds: Math.min(value('--rounds', 3), 20),
    plain: argv.includes('--plain'),
  };
}

const BOUNDARY = '----keyhaven-bench';

/** One streamed HTTP(S) request to the server; resolves with the response (body unread). */
function send(
  server: ServerProcess,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Readable,
): Promise<IncomingMessage> {
  const url = new URL(path, server.url);
  const ca = server.caPath ? readFileSync(server.caPath) : undefined;
  return new Promise((resolve, reject) => {
    const options = { method, hostname: '127.0.0.1', port: url.port, path: url.pathname + url.search, headers };
    const req =
      url.protocol === 'https:'
        ? httpsRequest({ ...options, servername: 'localhost', ca }, resolve)
        : httpRequest(options, resolve);
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

async function json<T>(res: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString();
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text}`);
  return JSON.parse(text) as T;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const bytes = options.mb * 1024 * 1024;
  const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-bench-attachments-'));
  const server = await startServer({
    tls: !options.plain,
    dataDir: join(scratch, 'data'),
    env: { LOG_LEVEL: 'error', ATTACHMENTS_MAX_FILE_BYTES: String(bytes) },
  });
  try {
    const source = join(scratch, 'source.bin');
    writeFileSync(source, randomBytes(bytes));
    const account = await registerAccount(
      server.http,
      `bench-${Date.now()}@example.com`,
      'correct horse battery staple',
    );
    const token = (await passwordLogin(server.http, account)).accessToken;
    const auth = { authorization: `Bearer ${token}` };
    const item = await server.http.post<{ id: string }>('/api/ciphers', {
      token,
      json: { type: 2, name: encryptType2(account.userKey, 'bench'), secureNote: { type: 0 } },
    });
    const cipherId = item.body.id;

    const floor: number[] = [];
    const upload: number[] = [];
    const download: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const copy = join(scratch, 'data', `floor-${round}.bin`);
      floor.push(await timed(() => pipeline(createReadStream(source), createWriteStream(copy, { flush: true }))));
      rmSync(copy);

      const created = await json<{ attachmentId: string }>(
        await send(
          server,
          'POST',
          `/api/ciphers/${cipherId}/attachment/v2`,
          { ...auth, 'content-type': 'application/json' },
          Readable.from([
            JSON.stringify({
              key: encryptType2(account.userKey, 'k'),
              fileName: encryptType2(account.userKey, 'f'),
              fileSize: bytes,
            }),
          ]),
        ),
      );
      const head = Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="data"; filename="f"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
      upload.push(
        await timed(async () => {
          const body = new PassThrough();
          const res = send(
            server,
            'POST',
            `/api/ciphers/${cipherId}/attachment/${created.attachmentId}`,
            {
              ...auth,
              'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
              'content-length': String(head.length + bytes + tail.length),
            },
            body,
          );
          body.write(head);
          await pipeline(createReadStream(source), body, { end: false });
          body.end(tail);
          const answer = await res;
          answer.resume();
          if (answer.statusCode !== 200) throw new Error(`upload: HTTP ${answer.statusCode}`);
        }),
      );

      const meta = await json<{ url: string }>(
        await send(server, 'GET', `/api/ciphers/${cipherId}/attachment/${created.attachmentId}`, auth),
      );
      const target = join(scratch, `download-${round}.bin`);
      download.push(
        await timed(async () => {
          const res = await send(server, 'GET', meta.url, {});
          if (res.statusCode !== 200) throw new Error(`download: HTTP ${res.statusCode}`);
          await pipeline(res, createWriteStream(target, { flush: true }));
        }),
      );
      if (statSync(target).size !== bytes) throw new Error('the download is not the whole file');
      rmSync(target);
      await json(await send(server, 'DELETE', `/api/ciphers/${cipherId}/attachment/${created.attachmentId}`, auth));
    }

    const mbps = (seconds: number): string => `${(options.mb / seconds).toFixed(0).padStart(5)} MiB/s`;
    const f = median(floor);
    const u = median(upload);
    const d = median(download);
    console.log(
      `attachments: ${options.mb} MiB file, ${options.rounds} rounds, ${options.plain ? 'HTTP' : 'HTTPS'}, local disk (median)`,
    );
    console.log(`  floor (fs stream copy, fsync)  ${mbps(f)}`);
    console.log(`  upload (multipart, streamed)   ${mbps(u)}   ${(u / f).toFixed(2)}x the floor's time`);
    console.log(`  download (signed link)         ${mbps(d)}   ${(d / f).toFixed(2)}x the floor's time`);
  } finally {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
