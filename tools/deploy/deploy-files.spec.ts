// Static checks of the deployment files: deploy/Dockerfile, .dockerignore, deploy/healthcheck.js,
// deploy/nginx/keyhaven.conf, deploy/env/keyhaven.env.example, docker-compose.yml,
// deploy/docker-compose.all-in-one.yml and the Helm chart in helm/keyhaven. Nothing here needs Docker or a
// cluster; the Helm chart is rendered by `helm` when it is installed and otherwise checked statically.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig, serverConfigSchema, serviceConfigSchema } from '@keyhaven/config';
import {
  CONFIG_VARIABLES,
  PUBLIC_SERVICES,
  ROOT,
  SECRET_VARIABLES,
  SPLIT_SERVICES,
  configVariableOf,
  interpolate,
  isRecord,
  list,
  loadYaml,
  readRepoFile,
  record,
  repoPath,
  scalar,
  strings,
  text,
  words,
} from './repo';
import {
  blocks,
  bytes,
  directives,
  effective,
  evaluateMap,
  matchLocation,
  parseNginx,
  proxyHeaders,
  seconds,
  variablesIn,
  type Directive,
} from './nginx-conf';
import { contextSources, dockerIgnored, envOf, execForm, parseDockerfile, stages } from './dockerfile';
import {
  controlErrors,
  definedTemplates,
  hasPath,
  includedTemplates,
  scanActions,
  valuesPaths,
  type Action,
} from './helm-static';

const ENTRYPOINT = ['node'];
const NODE_IMAGE = 'node:20-bookworm-slim';
/** The build tools: devDependencies, so a production install (`npm ci --omit=dev`) leaves them out. */
const BUILD_TOOLS = ['esbuild', '@swc/core', '@swc-node/register', 'typescript'];

/** Where `npm run build` puts each entry (tools/build/freshness.mjs): `server`, the split apps, `cli`. */
const buildEntries = (() => {
  const listed = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import { entries } from './tools/build/freshness.mjs'; console.log(JSON.stringify(entries()));",
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(listed.status, 0, `tools/build/freshness.mjs: ${listed.stderr}`);
  return JSON.parse(listed.stdout) as { name: string; source: string; output: string }[];
})();

/** The compiled file of an app, relative to the image's WORKDIR (and to the repository after a build). */
function distPath(name: string): string {
  const entry = buildEntries.find((e) => e.name === name);
  assert.ok(entry, `npm run build has no entry named ${name}`);
  return `dist/${entry.output}`;
}

/** Values that pass the config schema, for settings given as files. */
const SAMPLE_SECRETS: Record<string, string> = {
  DATABASE_URL: 'postgres://keyhaven:secret@postgres:5432/keyhaven',
  REDIS_URL: 'redis://:secret@redis:6379',
  AMQP_URL: 'amqp://keyhaven:secret@rabbitmq:5672',
  // 32 bytes, base64.
  KEY_CONNECTOR_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

const scratch = mkdtempSync(join(tmpdir(), 'keyhaven-deploy-spec-'));
process.on('exit', () => {
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * An environment as a process would see it, with every NAME_FILE pointing at a scratch file holding a valid
 * value, so it can be validated by the real config schema.
 */
function withSecretFiles(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const known = configVariableOf(name);
    if (known?.viaFile && value !== '') {
      const file = join(scratch, `${known.variable}-${Object.keys(out).length}`);
      writeFileSync(file, `${SAMPLE_SECRETS[known.variable] ?? 'secret-value'}\n`);
      out[name] = file;
    } else {
      out[name] = value;
    }
  }
  return out;
}

function configError(load: () => unknown): string | undefined {
  try {
    load();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Dockerfile, .dockerignore, healthcheck

const dockerfile = parseDockerfile(readRepoFile('deploy/Dockerfile'));
const dockerStages = stages(dockerfile);
const finalStage = dockerStages.at(-1);
const dockerignore = readRepoFile('.dockerignore').split('\n');
const packageJson = record(JSON.parse(readRepoFile('package.json')) as unknown, 'package.json');
const npmScripts = record(packageJson.scripts, 'package.json scripts');

function finalInstruction(keyword: string): string | undefined {
  return finalStage?.instructions.filter((i) => i.keyword === keyword).at(-1)?.rest;
}

/** Where the image puts a context path: WORKDIR of the final stage joined with the COPY destination. */
function imagePathOf(contextPath: string): string | undefined {
  if (!finalStage) return undefined;
  let workdir = '/';
  for (const i of finalStage.instructions) {
    if (i.keyword === 'WORKDIR') workdir = posix.resolve(workdir, i.rest);
    if (i.keyword !== 'COPY' || i.rest.includes('--from=')) continue;
    const paths = i.rest.split(/\s+/).filter((p) => !p.startsWith('--'));
    const destination = paths.at(-1) ?? '';
    for (const source of paths.slice(0, -1)) {
      const normalized = source.replace(/^\.\//, '').replace(/\/$/, '');
      if (contextPath === normalized || contextPath.startsWith(`${normalized}/`)) {
        const rest = contextPath.slice(normalized.length);
        const base =
          destination.endsWith('/') && rest === '' ? posix.join(destination, posix.basename(normalized)) : destination;
        return posix.resolve(workdir, base + rest);
      }
    }
  }
  return undefined;
}

void describe('deploy/Dockerfile', () => {
  void test('is a multi-stage build on node:20-bookworm-slim', () => {
    assert.ok(dockerStages.length >= 2, 'expected a dependency stage and a runtime stage');
    for (const stage of dockerStages) assert.equal(stage.image, NODE_IMAGE, `stage ${stage.name ?? '?'}`);
  });

  const buildStage = dockerStages.find((stage) =>
    stage.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.rest)),
  );

  void test('the build stage installs every dependency from the lockfile and compiles the apps (npm run build)', () => {
    assert.ok(buildStage, 'no stage runs `npm run build`');
    assert.ok(buildStage.name, 'the build stage needs a name for COPY --from');
    assert.notEqual(buildStage, finalStage, 'the image would carry the build tools');
    const runs = buildStage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.rest);
    const install = runs.findIndex((r) => /\bnpm ci\b/.test(r));
    assert.ok(install !== -1, 'no `npm ci` in the build stage');
    assert.doesNotMatch(runs[install] ?? '', /--omit[= ]dev|--production|--only[= ]prod/);
    assert.ok(install < runs.findIndex((r) => /\bnpm run build\b/.test(r)), 'npm run build before npm ci');
    // NODE_ENV=production before `npm ci` would make npm skip the build tools.
    assert.notEqual(envOf(buildStage).get('NODE_ENV'), 'production', 'NODE_ENV=production in the build stage');
    const sources = contextSources(buildStage);
    for (const needed of ['package-lock.json', 'tsconfig.json', 'tsconfig.base.json', 'apps', 'libs', 'tools/cli']) {
      assert.ok(sources.includes(needed), `the build stage lacks ${needed}`);
    }
    assert.ok(
      sources.some((s) => s === 'tools/build' || s === 'tools'),
      'the build stage lacks tools/build',
    );
    assert.equal(text(npmScripts.build, 'scripts.build'), 'node tools/build/build.mjs');
  });

  void test('the runtime stage holds production dependencies (npm ci --omit=dev) and dist/ only', () => {
    assert.ok(finalStage && buildStage);
    // After the build, the build stage's node_modules is replaced by a production install from the lockfile.
    const runs = buildStage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.rest);
    const build = runs.findIndex((r) => /\bnpm run build\b/.test(r));
    const production = runs.findLastIndex((r) => /\bnpm ci\b/.test(r));
    assert.ok(production > build, 'no `npm ci` after `npm run build`');
    assert.match(runs[production] ?? '', /--omit[= ]dev/);
    const dependencies = record(packageJson.dependencies, 'dependencies');
    const devDependencies = record(packageJson.devDependencies, 'devDependencies');
    for (const tool of BUILD_TOOLS) {
      assert.equal(dependencies[tool], undefined, `${tool} is a production dependency`);
      assert.ok(devDependencies[tool] !== undefined, `${tool} is expected among the devDependencies`);
    }
    // From the build stage come node_modules and dist/, where the commands expect them; nothing is installed here.
    const fromBuild = finalStage.instructions.filter((i) => i.keyword === 'COPY' && i.rest.includes('--from='));
    assert.deepEqual(
      fromBuild.map((i) => i.rest.split(/\s+/)),
      [
        [`--from=${buildStage.name ?? ''}`, '/app/node_modules', './node_modules'],
        [`--from=${buildStage.name ?? ''}`, '/app/dist', './dist'],
      ],
      'copy /app/node_modules and /app/dist from the build stage, and nothing else',
    );
    assert.ok(
      !finalStage.instructions.some((i) => i.keyword === 'RUN' && /\bnpm\b/.test(i.rest)),
      'npm runs at runtime',
    );
    for (const stage of [buildStage, finalStage]) {
      assert.ok(
        stage.instructions.some((i) => i.keyword === 'WORKDIR' && i.rest === '/app'),
        `stage ${stage.name ?? '?'} does not work in /app`,
      );
    }
    assert.deepEqual(
      contextSources(finalStage).sort(),
      ['deploy/healthcheck.js', 'deploy/keyhaven', 'package.json'],
      'the runtime stage copies sources from the context',
    );
    assert.equal(envOf(finalStage).get('NODE_ENV'), 'production');
  });

  void test('runs as a non-root user, numerically (Kubernetes can then verify runAsNonRoot)', () => {
    const user = finalInstruction('USER');
    assert.ok(user, 'the runtime stage has no USER');
    const [uid] = user.split(':');
    assert.match(uid ?? '', /^\d+$/, 'USER should be numeric');
    assert.notEqual(Number(uid), 0, 'USER is root');
    const lastUser = finalStage?.instructions.findLastIndex((i) => i.keyword === 'USER') ?? -1;
    const lastRun = finalStage?.instructions.findLastIndex((i) => i.keyword === 'RUN') ?? -1;
    assert.ok(lastUser > lastRun, 'USER comes before a later RUN: that RUN would run as the service user');
  });

  void test('one image for every app: node as ENTRYPOINT, the compiled all-in-one as CMD, the file npm start runs', () => {
    const entrypoint = execForm(finalInstruction('ENTRYPOINT') ?? '');
    const cmd = execForm(finalInstruction('CMD') ?? '');
    assert.deepEqual(entrypoint, ENTRYPOINT);
    assert.deepEqual(cmd, [distPath('server')]);
    // npm start and npm run migrate run the same compiled files, through the wrapper that builds a stale dist/.
    assert.deepEqual(words(text(npmScripts.start, 'scripts.start')), ['node', 'tools/build/start.mjs', 'server']);
    assert.deepEqual(words(text(npmScripts.migrate, 'scripts.migrate')), [
      'node',
      'tools/build/start.mjs',
      'cli',
      'migrate',
    ]);
    for (const { name } of [...SPLIT_SERVICES, { name: 'server' }]) {
      assert.equal(distPath(name), `dist/apps/${name}/main.js`, `npm run build does not compile ${name}`);
    }
  });

  void test('exposes 8443, keeps /data as DATA_DIR volume, and does not pin PORT for the split apps', () => {
    assert.ok(finalStage);
    const env = envOf(finalStage);
    assert.match(finalInstruction('EXPOSE') ?? '', /(^|\s)8443(\/tcp)?(\s|$)/);
    assert.match(finalInstruction('VOLUME') ?? '', /(^|\s|")\/data("|\s|]|$)/);
    assert.equal(env.get('DATA_DIR'), '/data');
    assert.equal(env.get('PORT'), undefined, 'PORT in the image would override every split app’s own port');
    assert.equal(env.get('TLS'), undefined, 'TLS in the image would override the split apps’ default (off)');
  });

  void test('HEALTHCHECK GETs /alive through deploy/healthcheck.js, which the image contains', () => {
    const healthcheck = finalInstruction('HEALTHCHECK');
    assert.ok(healthcheck, 'no HEALTHCHECK');
    const cmd = execForm(healthcheck.replace(/^(--\S+\s+)*CMD\s+/, ''));
    assert.ok(cmd, 'HEALTHCHECK should use the exec form');
    assert.equal(cmd[0], 'node');
    assert.ok(cmd.includes('/alive'), 'HEALTHCHECK does not check /alive');
    assert.equal(cmd[1], imagePathOf('deploy/healthcheck.js'), 'the script path is not where COPY puts it');
  });

  void test('puts the operator CLI on the PATH as keyhaven, a script that runs the compiled CLI', () => {
    const installed = finalStage?.instructions.find((i) => i.keyword === 'COPY' && /\bdeploy\/keyhaven\b/.test(i.rest));
    assert.ok(installed, 'the runtime stage does not copy deploy/keyhaven');
    assert.match(installed.rest, /--chmod=0?755\b/);
    assert.match(installed.rest, /\s\/usr\/local\/bin\/keyhaven$/);
    // The script runs the CLI that `npm run build` compiled: --help lists the operator commands.
    const run = spawnSync('sh', [repoPath('deploy/keyhaven'), '--help'], {
      env: { ...process.env, KEYHAVEN_HOME: repoPath('.') },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    for (const command of ['migrate', 'hash-admin-token', 'offboard', 'audit-report'])
      assert.match(run.stdout, new RegExp(command));
  });

  void test('copies only context files that exist and that .dockerignore keeps', () => {
    const sources = dockerStages.flatMap(contextSources);
    for (const needed of ['package.json', 'package-lock.json', '.npmrc', 'deploy/healthcheck.js']) {
      assert.ok(sources.includes(needed), `the build lacks ${needed}`);
    }
    for (const source of sources) {
      assert.ok(existsSync(repoPath(source)), `COPY ${source}: no such file`);
      assert.ok(!dockerIgnored(source, dockerignore), `COPY ${source}: excluded by .dockerignore`);
    }
  });
});

void describe('.dockerignore', () => {
  void test('keeps local state, secrets and VCS data out of the build context', () => {
    for (const path of [
      'node_modules',
      'node_modules/x',
      'data',
      '.git',
      'dist',
      'tmp',
      'coverage',
      'deploy/secrets/admin_token',
    ]) {
      assert.ok(dockerIgnored(path, dockerignore), `${path} is sent to the builder`);
    }
    for (const path of ['apps/api/src/main.ts', 'libs/db/src/index.ts', 'deploy/healthcheck.js', 'package-lock.json']) {
      assert.ok(!dockerIgnored(path, dockerignore), `${path} is excluded`);
    }
  });
});

void describe('deploy/healthcheck.js', () => {
  const script = repoPath('deploy/healthcheck.js');

  async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 15_000,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    return { code, stderr };
  }

  async function listen(server: Server): Promise<number> {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return (server.address() as AddressInfo).port;
  }

  async function close(server: Server): Promise<void> {
    server.closeAllConnections();
    await new Promise<void>((done) => {
      server.close(() => {
        done();
      });
    });
  }

  const answer =
    (statusByPath: Record<string, number>): RequestListener =>
    (req, res) => {
      res.writeHead(statusByPath[req.url ?? ''] ?? 404).end();
    };

  void test('exits 0 on a 2xx and 1 on a 503 or a refused connection (plain HTTP, as the split services)', async () => {
    const server = createHttpServer(answer({ '/alive': 200, '/healthz': 503 }));
    const port = await listen(server);
    try {
      assert.equal((await run([`http://127.0.0.1:${port}/alive`], {})).code, 0);
      assert.equal((await run(['/alive'], { PORT: String(port), TLS: 'off' })).code, 0);
      assert.equal((await run(['/alive'], { PORT: String(port), HEALTHCHECK_APP: 'api' })).code, 0, 'split: TLS off');
      const unhealthy = await run(['/healthz'], { PORT: String(port), TLS: 'off' });
      assert.equal(unhealthy.code, 1);
      assert.match(unhealthy.stderr, /503/);
    } finally {
      await close(server);
    }
    assert.equal((await run(['/alive'], { PORT: String(port), TLS: 'off' })).code, 1);
  });

  void test('speaks HTTPS to the all-in-one’s self-signed certificate (TLS on by default)', async () => {
    // A self-signed certificate, untrusted like the all-in-one's own local CA.
    const dir = mkdtempSync(join(scratch, 'tls-'));
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, `openssl: ${made.error?.message ?? made.stderr}`);
    const tls = { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
    const server = createHttpsServer({ key: tls.key, cert: tls.cert }, answer({ '/alive': 200 }));
    const port = await listen(server);
    try {
      const allInOne = { PORT: String(port), HEALTHCHECK_APP: 'server' };
      assert.equal((await run(['/alive'], allInOne)).code, 0);
      assert.equal((await run([], allInOne)).code, 0, 'the default path is /alive');
      assert.equal((await run(['/alive'], { ...allInOne, TLS: 'on' })).code, 0);
      assert.equal((await run(['/alive'], { ...allInOne, TLS: 'off' })).code, 1);
    } finally {
      await close(server);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// nginx

const nginx = parseNginx(readRepoFile('deploy/nginx/keyhaven.conf'));
const nginxServers = blocks(nginx, 'server');
const tlsServer = nginxServers.find((s) => directives(s.block, 'listen').some((l) => l.args.includes('ssl')));
const upstreams = new Map(blocks(nginx, 'upstream').map((u) => [u.args[0] ?? '', u.block]));

/** The service address (`api:4000`) behind a `proxy_pass http://upstream` value. */
function upstreamServers(proxyPass: string): string[] {
  const name = proxyPass.replace(/^https?:\/\//, '');
  const upstream = upstreams.get(name);
  if (!upstream) return [name];
  return directives(upstream, 'server').map((s) => s.args[0] ?? '');
}

function proxyPassOf(location: Directive | undefined): string | undefined {
  return location?.block ? directives(location.block, 'proxy_pass')[0]?.args[0] : undefined;
}

void describe('deploy/nginx/keyhaven.conf', () => {
  void test('parses, and terminates TLS 1.2+ on 443 with a certificate', () => {
    assert.ok(tlsServer, 'no server with `listen ... ssl`');
    assert.ok(directives(tlsServer.block, 'listen').some((l) => l.args[0]?.endsWith('443')));
    assert.equal(directives(tlsServer.block, 'ssl_certificate').length, 1);
    assert.equal(directives(tlsServer.block, 'ssl_certificate_key').length, 1);
    const protocols = directives(tlsServer.block, 'ssl_protocols')[0]?.args ?? [];
    assert.ok(protocols.length > 0, 'ssl_protocols not set');
    for (const p of protocols) assert.ok(['TLSv1.2', 'TLSv1.3'].includes(p), `${p} is enabled`);
  });

  void test('routes every public prefix unchanged to its own service, and the worker nowhere', () => {
    assert.ok(tlsServer);
    for (const service of PUBLIC_SERVICES) {
      for (const path of [`${service.prefix}/`, `${service.prefix}/some/route`]) {
        const location = matchLocation(tlsServer.block, path);
        const proxyPass = proxyPassOf(location?.directive);
        assert.ok(proxyPass, `${path} is not proxied`);
        // No URI part after the host: nginx then passes the request path as it came (no rewrite).
        assert.match(proxyPass, /^http:\/\/[\w.-]+(:\d+)?$/, `${path}: proxy_pass ${proxyPass} rewrites the path`);
        assert.deepEqual(upstreamServers(proxyPass), [`${service.name}:${service.port}`], `${path} goes elsewhere`);
      }
      assert.equal(matchLocation(tlsServer.block, `${service.prefix}/x`)?.path, `${service.prefix}/`);
    }
    const proxied = [...upstreams.values()].flatMap((u) => directives(u, 'server').map((s) => s.args[0] ?? ''));
    assert.ok(!proxied.some((s) => s.startsWith('events-processor')), 'the events worker is exposed');
    assert.equal(directives(tlsServer.block, 'rewrite').length, 0);
  });

  void test('passes WebSocket upgrades to the notifications hubs, with long timeouts', () => {
    assert.ok(tlsServer);
    const upgradeMap = blocks(nginx, 'map').find((m) => m.args[0] === '$http_upgrade');
    assert.ok(upgradeMap, 'no map $http_upgrade');
    const target = upgradeMap.args[1] ?? '';
    assert.equal(evaluateMap(upgradeMap, 'websocket'), 'upgrade');
    assert.equal(evaluateMap(upgradeMap, ''), '', 'without Upgrade the Connection header should be cleared');
    for (const path of ['/notifications/hub', '/notifications/anonymous-hub', '/notifications/hub/negotiate']) {
      const location = matchLocation(tlsServer.block, path);
      assert.ok(location, `${path} is not routed`);
      const chain: Directive[][] = [nginx, tlsServer.block, location.directive.block];
      const headers = proxyHeaders(chain);
      assert.equal(headers.get('upgrade'), '$http_upgrade', `${path}: Upgrade is not passed`);
      assert.equal(headers.get('connection'), target, `${path}: Connection is not ${target}`);
      assert.equal(effective(chain, 'proxy_http_version')[0]?.args[0], '1.1', `${path}: WebSocket needs HTTP/1.1`);
      const readTimeout = effective(chain, 'proxy_read_timeout')[0]?.args[0] ?? '60s';
      assert.ok(seconds(readTimeout) >= 300, `${path}: proxy_read_timeout ${readTimeout} drops idle hubs`);
    }
  });

  void test('every proxied location sends Host and X-Forwarded-*; X-Forwarded-For is overwritten, not appended', () => {
    assert.ok(tlsServer);
    let checked = 0;
    for (const location of blocks(tlsServer.block, 'location')) {
      if (directives(location.block, 'proxy_pass').length === 0) continue;
      checked++;
      const where = `location ${location.args.join(' ')}`;
      const headers = proxyHeaders([nginx, tlsServer.block, location.block]);
      assert.equal(headers.get('host'), '$host', `${where}: Host`);
      assert.equal(headers.get('x-forwarded-proto'), '$scheme', `${where}: X-Forwarded-Proto`);
      assert.ok(headers.has('x-forwarded-host'), `${where}: X-Forwarded-Host`);
      // The services trust X-Forwarded-For (TRUST_PROXY=true): a client-sent value would choose the IP that
      // the login rate limits count.
      assert.equal(headers.get('x-forwarded-for'), '$remote_addr', `${where}: X-Forwarded-For`);
    }
    assert.ok(checked >= PUBLIC_SERVICES.length);
    for (const server of nginxServers) {
      if (server === tlsServer) continue;
      for (const location of blocks(server.block, 'location')) {
        assert.equal(directives(location.block, 'proxy_pass').length, 0, 'a plain-HTTP server proxies requests');
      }
    }
  });

  void test('access logs never contain query strings (the hub’s ?access_token=)', () => {
    const forbidden = /\$(request|request_uri|args|query_string|request_body|http_authorization|http_cookie|arg_\w+)\b/;
    const formats = new Map<string, string>();
    for (const d of directives(nginx, 'log_format')) {
      const body = d.args
        .slice(1)
        .filter((a) => !a.startsWith('escape='))
        .join('');
      assert.doesNotMatch(body, forbidden, `log_format ${d.args[0] ?? ''} logs a raw request line or query`);
      formats.set(d.args[0] ?? '', body);
    }
    const maps = new Map(blocks(nginx, 'map').map((m) => [(m.args[1] ?? '').slice(1), m]));
    const samples: [string, string][] = [
      ['/notifications/hub?id=1&access_token=SECRET-A', '/notifications/hub'],
      ['/notifications/hub?ACCESS_TOKEN=SECRET-B', '/notifications/hub'],
      ['/identity/sso/callback?code=SECRET-C&state=x', '/identity/sso/callback'],
      ['/api/sync', '/api/sync'],
    ];
    for (const [name, body] of formats) {
      for (const variable of variablesIn(body)) {
        const map = maps.get(variable);
        if (!map) continue;
        assert.equal(map.args[0], '$request_uri', `$${variable} maps ${map.args[0] ?? ''}: cannot check it`);
        for (const [uri, path] of samples) {
          const logged = evaluateMap(map, uri);
          assert.doesNotMatch(logged, /SECRET/, `log_format ${name}: $${variable} logs ${logged}`);
          assert.ok(logged.startsWith(path), `log_format ${name}: $${variable} loses the path of ${uri}: ${logged}`);
        }
      }
    }
    // Every access_log names one of these formats (nginx's default `combined` logs $request).
    const accessLogs = [nginx, ...nginxServers.map((s) => s.block)].flatMap((scope) => [
      ...directives(scope, 'access_log'),
      ...blocks(scope, 'location').flatMap((l) => directives(l.block, 'access_log')),
    ]);
    for (const log of accessLogs) {
      if (log.args[0] === 'off') continue;
      assert.ok(
        formats.has(log.args[1] ?? 'combined'),
        `access_log on line ${log.line} uses ${log.args[1] ?? 'combined'}`,
      );
    }
    for (const server of nginxServers) {
      const own = directives(server.block, 'access_log').length > 0 || directives(nginx, 'access_log').length > 0;
      assert.ok(own, `server on line ${server.line} falls back to nginx's default log format`);
    }
  });

  void test('the hub’s error log does not quote its request line (it would carry the token)', () => {
    assert.ok(tlsServer);
    const location = matchLocation(tlsServer.block, '/notifications/hub');
    assert.ok(location);
    const errorLog = effective([nginx, tlsServer.block, location.directive.block], 'error_log')[0];
    assert.ok(
      errorLog && ['crit', 'alert', 'emerg'].includes(errorLog.args[1] ?? ''),
      'hub errors are logged at error level',
    );
  });

  void test('accepts 64 MiB bodies (imports, attachments) everywhere', () => {
    assert.ok(tlsServer);
    const size = effective([nginx, tlsServer.block], 'client_max_body_size')[0]?.args[0] ?? '1m';
    assert.equal(bytes(size), 64 * 1024 * 1024);
    for (const location of blocks(tlsServer.block, 'location')) {
      const own = directives(location.block, 'client_max_body_size')[0]?.args[0];
      if (own !== undefined) assert.ok(bytes(own) >= 64 * 1024 * 1024, `location ${location.args.join(' ')} lowers it`);
    }
  });

  void test('sends security headers on every answer, and no location drops them', () => {
    assert.ok(tlsServer);
    const headers = new Map(
      directives(tlsServer.block, 'add_header').map((d) => [(d.args[0] ?? '').toLowerCase(), d.args]),
    );
    for (const name of ['strict-transport-security', 'x-content-type-options', 'referrer-policy']) {
      assert.ok(headers.has(name), `no ${name}`);
    }
    const framing =
      headers.has('x-frame-options') || /frame-ancestors/.test(headers.get('content-security-policy')?.[1] ?? '');
    assert.ok(framing, 'no framing protection');
    for (const [name, args] of headers) assert.equal(args.at(-1), 'always', `${name} is missing on errors`);
    for (const location of blocks(tlsServer.block, 'location')) {
      // A location with its own add_header would inherit none of the server's.
      assert.equal(
        directives(location.block, 'add_header').length,
        0,
        `location ${location.args.join(' ')} has add_header`,
      );
    }
    assert.equal(directives(tlsServer.block, 'server_tokens')[0]?.args[0], 'off');
  });

  void test('passes /alive and /healthz through, and keeps /metrics and unknown paths inside', () => {
    assert.ok(tlsServer);
    for (const path of ['/alive', '/healthz']) {
      const proxyPass = proxyPassOf(matchLocation(tlsServer.block, path)?.directive);
      assert.ok(proxyPass, `${path} is not passed through`);
    }
    for (const path of ['/metrics', '/', '/unknown']) {
      const location = matchLocation(tlsServer.block, path);
      assert.equal(proxyPassOf(location?.directive), undefined, `${path} is proxied`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Environment template

const envExample = readRepoFile('deploy/env/keyhaven.env.example');
const envLines = envExample.split('\n').map((line, i) => {
  const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
  return m ? { active: m[1] === undefined, name: m[2] ?? '', value: m[3] ?? '', line: i + 1 } : undefined;
});
const envAssignments = envLines.filter((l) => l !== undefined);

void describe('deploy/env/keyhaven.env.example', () => {
  void test('documents every configuration variable, and nothing else', () => {
    for (const a of envAssignments) assert.ok(configVariableOf(a.name), `line ${a.line}: ${a.name} is not a setting`);
    const documented = new Set(envAssignments.map((a) => configVariableOf(a.name)?.variable));
    for (const variable of CONFIG_VARIABLES) assert.ok(documented.has(variable), `${variable} is not documented`);
  });

  void test('gives secrets only as *_FILE', () => {
    for (const a of envAssignments) {
      const known = configVariableOf(a.name);
      if (known && SECRET_VARIABLES.has(known.variable)) {
        assert.ok(known.viaFile, `line ${a.line}: ${a.name} holds a secret in the file itself; use ${a.name}_FILE`);
      }
    }
    for (const secret of SECRET_VARIABLES) {
      assert.ok(
        envAssignments.some((a) => a.name === `${secret}_FILE`),
        `${secret}_FILE is not shown`,
      );
    }
  });

  void test('is valid configuration for a split service, as written and with every default uncommented', () => {
    const active = Object.fromEntries(envAssignments.filter((a) => a.active).map((a) => [a.name, a.value]));
    const all = Object.fromEntries(envAssignments.map((a) => [a.name, a.value]));
    for (const [label, env] of [
      ['as written', active],
      ['uncommented', all],
    ] as const) {
      const problem = configError(() => loadConfig(serviceConfigSchema('api'), withSecretFiles(env)));
      assert.equal(problem, undefined, `${label}: ${problem ?? ''}`);
    }
    const config = loadConfig(serviceConfigSchema('api'), withSecretFiles(active));
    assert.equal(config.TLS, 'off');
    assert.equal(config.TRUST_PROXY, true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// docker-compose.yml

const compose = record(loadYaml('docker-compose.yml'), 'docker-compose.yml');
const composeServices = record(compose.services, 'services');
const composeSecrets = record(compose.secrets ?? {}, 'secrets');
const composeVolumes = record(compose.volumes ?? {}, 'volumes');

function composeService(name: string, file = composeServices): Record<string, unknown> {
  return record(file[name], `services.${name}`);
}

/** A service's environment after interpolation with an empty shell environment (defaults apply). */
function composeEnv(service: Record<string, unknown>): Record<string, string> {
  const raw = service.environment ?? {};
  const out: Record<string, string> = {};
  if (Array.isArray(raw)) {
    for (const entry of strings(raw, 'environment')) {
      const [name, ...value] = entry.split('=');
      out[name ?? ''] = interpolate(value.join('='));
    }
  } else {
    for (const [name, value] of Object.entries(record(raw, 'environment'))) {
      out[name] = value === null ? '' : interpolate(scalar(value, `environment.${name}`));
    }
  }
  return out;
}

function secretNames(service: Record<string, unknown>): string[] {
  return list(service.secrets ?? [], 'secrets').map((s) =>
    isRecord(s) ? text(s.source, 'secrets[].source') : text(s, 'secrets[]'),
  );
}

function dependsOn(service: Record<string, unknown>): Record<string, unknown> {
  return record(service.depends_on ?? {}, 'depends_on');
}

let generated: string | undefined;

/** Runs deploy/secrets/generate.sh on a scratch copy (once) and returns the directory it filled. */
function generatedSecrets(): string {
  if (generated !== undefined) return generated;
  const dir = join(scratch, 'secrets');
  mkdirSync(dir);
  copyFileSync(repoPath('deploy/secrets/generate.sh'), join(dir, 'generate.sh'));
  const run = spawnSync('sh', [join(dir, 'generate.sh'), 'vault.example.com'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `generate.sh failed:\n${run.stdout}${run.stderr}`);
  generated = dir;
  return dir;
}

/** A host file a compose file binds or mounts as a secret: in the repository, or made by generate.sh. */
function assertHostFile(path: string, where: string): void {
  const relative = path.replace(/^\.\//, '');
  if (relative.startsWith('deploy/secrets/')) {
    const name = relative.slice('deploy/secrets/'.length);
    assert.ok(existsSync(join(generatedSecrets(), name)), `${where}: generate.sh does not make ${relative}`);
  } else {
    assert.ok(existsSync(repoPath(relative)), `${where}: ${relative} does not exist`);
  }
}

const keyhavenServices = [...SPLIT_SERVICES.map((s) => s.name), 'migrate'];

void describe('docker-compose.yml', () => {
  void test('runs every split service from the one image, with its own command', () => {
    const images = new Set<string>();
    for (const { name } of SPLIT_SERVICES) {
      const service = composeService(name);
      assert.deepEqual(strings(service.command, `${name}.command`), [distPath(name)], name);
      const build = record(service.build, `${name}.build`);
      assert.equal(build.context, '.');
      assert.equal(build.dockerfile, 'deploy/Dockerfile');
      images.add(text(service.image, `${name}.image`));
    }
    assert.equal(images.size, 1, `services use different images: ${[...images].join(', ')}`);
  });

  void test('each service listens on its port with TLS off behind the proxy, and its environment passes the config schema', () => {
    for (const { name, port } of SPLIT_SERVICES) {
      const env = composeEnv(composeService(name));
      for (const variable of Object.keys(env)) {
        assert.ok(configVariableOf(variable), `${name}: ${variable} is not a setting`);
      }
      const config = loadConfig(serviceConfigSchema(name), withSecretFiles(env));
      assert.equal(config.PORT, port, `${name}: PORT`);
      assert.equal(config.TLS, 'off', `${name}: TLS`);
      assert.equal(config.TRUST_PROXY, true, `${name}: TRUST_PROXY`);
      assert.equal(config.DATA_DIR, '/data', `${name}: DATA_DIR`);
      assert.ok(config.DATABASE_URL && config.REDIS_URL && config.AMQP_URL, `${name}: a backing service is missing`);
    }
  });

  void test('every service has a /healthz healthcheck on its own port', () => {
    const script = imagePathOf('deploy/healthcheck.js');
    for (const { name, port } of SPLIT_SERVICES) {
      const healthcheck = record(composeService(name).healthcheck, `${name}.healthcheck`);
      const command = strings(healthcheck.test, `${name}.healthcheck.test`);
      assert.ok(command[0] === 'CMD' || command[0] === 'CMD-SHELL', `${name}: healthcheck.test`);
      assert.ok(
        command.some((arg) => arg.includes(`http://127.0.0.1:${port}/healthz`)),
        `${name}: healthcheck is not GET http://127.0.0.1:${port}/healthz`,
      );
      if (command.includes('node')) assert.ok(script && command.includes(script), `${name}: ${script ?? ''} not used`);
    }
  });

  void test('migrations run once before every service starts', () => {
    const migrate = composeService('migrate');
    // What `npm run migrate` runs: the compiled operator CLI with `migrate`.
    assert.deepEqual(strings(migrate.command, 'migrate.command'), [distPath('cli'), 'migrate']);
    assert.deepEqual(words(text(npmScripts.migrate, 'scripts.migrate')).slice(-2), ['cli', 'migrate']);
    assert.equal(migrate.restart, 'no');
    assert.equal(record(dependsOn(migrate).postgres, 'migrate.depends_on.postgres').condition, 'service_healthy');
    const env = withSecretFiles(composeEnv(migrate));
    const config = loadConfig(serverConfigSchema, env);
    assert.ok(config.DATABASE_URL, 'migrate would migrate an embedded database, not PostgreSQL');
    for (const { name } of SPLIT_SERVICES) {
      const migrateDependency = record(dependsOn(composeService(name)).migrate, `${name}.depends_on.migrate`);
      assert.equal(migrateDependency.condition, 'service_completed_successfully', name);
    }
  });

  void test('backing services: postgres:15, redis:7, RabbitMQ 3 without the management plugin, all with healthchecks', () => {
    assert.equal(composeService('postgres').image, 'postgres:15');
    assert.equal(composeService('redis').image, 'redis:7');
    const rabbit = text(composeService('rabbitmq').image, 'rabbitmq.image');
    assert.match(rabbit, /^rabbitmq:3(\.\d+)*(-alpine)?$/);
    for (const name of ['postgres', 'redis', 'rabbitmq']) {
      assert.ok(isRecord(composeService(name).healthcheck), `${name} has no healthcheck`);
      for (const { name: app } of SPLIT_SERVICES) {
        assert.equal(
          record(dependsOn(composeService(app))[name], `${app}.depends_on.${name}`).condition,
          'service_healthy',
        );
      }
      assert.equal(composeService(name).ports, undefined, `${name} publishes a port`);
    }
  });

  void test('secrets reach the containers as files (compose secrets and *_FILE), never as values', () => {
    for (const name of [...keyhavenServices, 'postgres']) {
      const service = composeService(name);
      const env = composeEnv(service);
      const mounted = secretNames(service);
      for (const [variable, value] of Object.entries(env)) {
        const known = configVariableOf(variable);
        if (known && SECRET_VARIABLES.has(known.variable)) {
          assert.ok(known.viaFile, `${name}: ${variable} is given as a value`);
        }
        if (/PASSWORD$/.test(variable)) assert.fail(`${name}: ${variable} is given as a value`);
        const secret = /^\/run\/secrets\/([\w.-]+)$/.exec(value)?.[1];
        if (variable.endsWith('_FILE') && secret !== undefined) {
          assert.ok(mounted.includes(secret), `${name}: ${variable} names ${secret}, which is not mounted`);
        }
      }
      for (const secret of mounted) {
        const file = text(record(composeSecrets[secret], `secrets.${secret}`).file, `secrets.${secret}.file`);
        assertHostFile(file, `secrets.${secret}`);
      }
    }
    assert.equal(composeEnv(composeService('admin')).ADMIN_TOKEN_FILE, '/run/secrets/admin_token');
    assert.equal(composeEnv(composeService('postgres')).POSTGRES_PASSWORD_FILE, '/run/secrets/postgres_password');
    for (const { name } of SPLIT_SERVICES.filter((s) => s.name !== 'admin')) {
      assert.ok(!secretNames(composeService(name)).includes('admin_token'), `${name} can read the admin token`);
    }
  });

  void test('nginx is the only published entry point, on 443, with the config from deploy/nginx', () => {
    for (const [name, value] of Object.entries(composeServices)) {
      const ports = list(record(value, name).ports ?? [], `${name}.ports`).map(String);
      if (name === 'nginx')
        assert.ok(
          ports.some((p) => /(^|:)443:443$/.test(p)),
          'nginx does not publish 443',
        );
      else assert.deepEqual(ports, [], `${name} publishes ${ports.join(', ')}`);
    }
    const mounts = strings(composeService('nginx').volumes ?? [], 'nginx.volumes');
    assert.ok(
      mounts.some((m) => m.startsWith('./deploy/nginx/keyhaven.conf:/etc/nginx/')),
      'nginx does not load keyhaven.conf',
    );
  });

  void test('volumes are named and declared, bind mounts exist, and data stores stay off the public network', () => {
    for (const [name, value] of Object.entries(composeServices)) {
      for (const mount of list(record(value, name).volumes ?? [], `${name}.volumes`)) {
        const source =
          (isRecord(mount) ? text(mount.source, `${name}.volumes[].source`) : text(mount, `${name}.volumes[]`)).split(
            ':',
          )[0] ?? '';
        if (source.startsWith('./') || source.startsWith('/')) assertHostFile(source, `${name}.volumes`);
        else assert.ok(source in composeVolumes, `${name}: volume ${source} is not declared`);
      }
    }
    const networks = record(compose.networks ?? {}, 'networks');
    for (const name of ['postgres', 'redis', 'rabbitmq']) {
      for (const network of strings(composeService(name).networks ?? [], `${name}.networks`)) {
        assert.equal(record(networks[network] ?? {}, `networks.${network}`).internal, true, `${name} is on ${network}`);
      }
    }
  });
});

void describe('deploy/secrets/generate.sh', () => {
  const read = (name: string): string => readFileSync(join(generatedSecrets(), name), 'utf8').trim();

  void test('makes matching passwords and URLs, readable by the containers’ non-root users', () => {
    const dir = generatedSecrets();
    const database = new URL(read('database_url'));
    assert.equal(database.protocol, 'postgres:');
    assert.equal(database.hostname, 'postgres');
    assert.equal(decodeURIComponent(database.password), read('postgres_password'));
    assert.ok(read('postgres_password').length >= 32);
    const redis = new URL(read('redis_url'));
    assert.match(read('redis.conf'), new RegExp(`^requirepass ${redis.password}$`, 'm'));
    const amqp = new URL(read('amqp_url'));
    assert.match(read('rabbitmq.conf'), new RegExp(`^default_user = ${amqp.username}$`, 'm'));
    assert.match(read('rabbitmq.conf'), new RegExp(`^default_pass = ${amqp.password}$`, 'm'));
    assert.match(read('tls_cert'), /BEGIN CERTIFICATE/);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'the secrets directory is open to other users');
    assert.equal(statSync(join(dir, 'tls_key')).mode & 0o077, 0, 'the TLS key is readable by others');
    assert.equal(
      statSync(join(dir, 'database_url')).mode & 0o044,
      0o044,
      'containers running as non-root cannot read it',
    );
  });

  void test('keeps existing files when run again', () => {
    const before = read('database_url');
    const run = spawnSync('sh', [join(generatedSecrets(), 'generate.sh')], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    assert.equal(read('database_url'), before);
  });

  void test('its files, mounted where docker-compose.yml puts them, configure every service', () => {
    for (const { name, port } of SPLIT_SERVICES) {
      const env = composeEnv(composeService(name));
      for (const [variable, value] of Object.entries(env)) {
        const secret = /^\/run\/secrets\/([\w.-]+)$/.exec(value)?.[1];
        if (secret === undefined) continue;
        const file = text(record(composeSecrets[secret], `secrets.${secret}`).file, 'file');
        env[variable] = join(generatedSecrets(), posix.basename(file));
      }
      const config = loadConfig(serviceConfigSchema(name), env);
      assert.equal(config.PORT, port);
      assert.equal(new URL(config.DATABASE_URL).hostname, 'postgres');
      if (name === 'admin') assert.ok(config.ADMIN_TOKEN, 'admin has no token');
    }
  });
});

void describe('deploy/docker-compose.all-in-one.yml', () => {
  void test('runs the single-process server from the same Dockerfile, on 8443 with its data in a volume', () => {
    const file = record(loadYaml('deploy/docker-compose.all-in-one.yml'), 'all-in-one');
    const services = record(file.services, 'services');
    const entries = Object.values(services);
    assert.equal(entries.length, 1);
    const server = record(entries[0], 'server');
    const build = record(server.build, 'build');
    assert.equal(resolve(repoPath('deploy'), text(build.context, 'build.context')), ROOT);
    assert.equal(build.dockerfile, 'deploy/Dockerfile');
    if (server.command !== undefined) assert.deepEqual(server.command, [distPath('server')]);
    assert.ok(
      list(server.ports, 'ports')
        .map(String)
        .some((p) => p.endsWith(':8443')),
    );
    const mounts = strings(server.volumes, 'volumes');
    assert.ok(
      mounts.some((m) => /^[\w-]+:\/data$/.test(m)),
      'no named volume on /data',
    );
    const env = composeEnv(server);
    const config = loadConfig(serverConfigSchema, withSecretFiles(env));
    assert.equal(config.TLS, 'on');
    assert.equal(config.DATA_DIR, '/data');
    assert.equal(config.DATABASE_URL, undefined, 'the all-in-one embeds its database');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Helm chart

const CHART = 'helm/keyhaven';
const chart = record(loadYaml(`${CHART}/Chart.yaml`), 'Chart.yaml');
const values = record(loadYaml(`${CHART}/values.yaml`), 'values.yaml');
const templateFiles = readdirSync(repoPath(`${CHART}/templates`)).sort();
const templates = new Map(templateFiles.map((f) => [f, readRepoFile(`${CHART}/templates/${f}`)]));

function template(name: string): string {
  const source = templates.get(name);
  assert.ok(source !== undefined, `${CHART}/templates/${name} is missing`);
  return source;
}

function valueAt(path: string): unknown {
  let node: unknown = values;
  for (const segment of path.split('.')) node = isRecord(node) ? node[segment] : undefined;
  return node;
}

function hookWeight(source: string): number {
  return Number(/helm\.sh\/hook-weight:\s*"?(-?\d+)"?/.exec(source)?.[1] ?? '0');
}

const helm = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
const helmMissing =
  helm.error !== undefined || helm.status !== 0
    ? `helm is not installed (${helm.error?.message ?? helm.stderr.trim()}); the chart is checked statically only`
    : false;

void describe('helm/keyhaven', () => {
  void test('Chart.yaml is a v2 application chart', () => {
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'keyhaven');
    assert.equal(chart.type ?? 'application', 'application');
    assert.match(text(chart.version, 'version'), /^\d+\.\d+\.\d+(-[\w.]+)?$/);
    assert.equal(typeof chart.appVersion, 'string');
  });

  void test('values list every service with its port, prefix, replicas, resources, autoscaling and PDB', () => {
    const services = record(values.services, 'services');
    assert.deepEqual(Object.keys(services).sort(), SPLIT_SERVICES.map((s) => s.name).sort());
    for (const { name, port, prefix } of SPLIT_SERVICES) {
      const service = record(services[name], `services.${name}`);
      assert.equal(service.enabled, true, `${name}.enabled`);
      assert.equal(service.port, port, `${name}.port`);
      assert.equal(service.path || null, prefix, `${name}.path`);
      assert.equal(typeof service.replicaCount, 'number', `${name}.replicaCount`);
      assert.ok(isRecord(record(service.resources, `${name}.resources`).requests), `${name}.resources.requests`);
      const autoscaling = record(service.autoscaling, `${name}.autoscaling`);
      assert.equal(typeof autoscaling.enabled, 'boolean');
      assert.ok(Number(autoscaling.minReplicas) <= Number(autoscaling.maxReplicas), `${name}.autoscaling`);
      assert.equal(typeof record(service.podDisruptionBudget, `${name}.podDisruptionBudget`).enabled, 'boolean');
    }
  });

  void test('pods run as non-root with a read-only root filesystem and drained shutdowns', () => {
    const pod = record(values.podSecurityContext, 'podSecurityContext');
    assert.equal(pod.runAsNonRoot, true);
    assert.ok(Number(pod.runAsUser) > 0);
    const container = record(values.securityContext, 'securityContext');
    assert.equal(container.readOnlyRootFilesystem, true);
    assert.equal(container.allowPrivilegeEscalation, false);
    assert.deepEqual(record(container.capabilities, 'capabilities').drop, ['ALL']);
    // preStop sleep, then up to 5 s of draining after SIGTERM, must fit in the grace period.
    const sleep = Number(values.preStopSleepSeconds);
    assert.ok(sleep >= 5, 'preStop sleep too short for endpoints to be removed');
    assert.ok(Number(values.terminationGracePeriodSeconds) >= sleep + 10, 'terminationGracePeriodSeconds too short');
    // /healthz gives up on a dependency after 3 s; the probe must wait longer to see the 503.
    assert.ok(Number(valueAt('probes.readiness.timeoutSeconds')) > 3);
  });

  void test('values: settings are real, non-secret ones; secrets are only keys of a Secret', () => {
    for (const key of Object.keys(record(values.config, 'config'))) {
      assert.ok(CONFIG_VARIABLES.has(key), `config.${key} is not a setting`);
      assert.ok(!SECRET_VARIABLES.has(key), `config.${key} is a secret: it belongs in the Secret`);
    }
    const secretKeys = record(valueAt('secrets.keys'), 'secrets.keys');
    for (const key of Object.keys(secretKeys)) assert.ok(SECRET_VARIABLES.has(key), `secrets.keys.${key}`);
    for (const required of ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL']) assert.ok(secretKeys[required], required);
    assert.equal(typeof valueAt('secrets.existingSecret'), 'string');
    assert.equal(typeof valueAt('ingress.className'), 'string');
    assert.ok(isRecord(valueAt('ingress.tls')));
  });

  void test('the ConfigMap plus the Secret files make a valid configuration for every service', () => {
    const literal = new Map<string, string>();
    const configmap = template('configmap.yaml');
    for (const m of configmap.matchAll(/^ {2}([A-Z][A-Z0-9_]*): "?([^"{\n]*)"?$/gm))
      literal.set(m[1] ?? '', m[2] ?? '');
    assert.equal(literal.get('TLS'), 'off');
    assert.equal(literal.get('TRUST_PROXY'), 'true');
    const env: Record<string, string> = { ...Object.fromEntries(literal), DOMAIN: text(values.domain, 'domain') };
    for (const [key, value] of Object.entries(record(values.config, 'config'))) {
      if (value !== '' && value !== null) env[key] = scalar(value, `config.${key}`);
    }
    for (const [setting, key] of Object.entries(record(valueAt('secrets.keys'), 'secrets.keys'))) {
      if (key) env[`${setting}_FILE`] = `/run/secrets/keyhaven/${text(key, setting)}`;
    }
    for (const { name, port } of SPLIT_SERVICES) {
      const problem = configError(() =>
        loadConfig(serviceConfigSchema(name), withSecretFiles({ ...env, PORT: String(port) })),
      );
      assert.equal(problem, undefined, `${name}: ${problem ?? ''}`);
    }
  });

  void test('templates: actions balanced, blocks closed, .Values paths exist, includes defined', () => {
    const allActions: Action[] = [];
    const problems: string[] = [];
    for (const [file, source] of templates) {
      const { actions, errors } = scanActions(source);
      problems.push(...errors.map((e) => `${file} ${e}`));
      problems.push(...controlErrors(actions).map((e) => `${file} ${e}`));
      for (const { path, line } of valuesPaths(actions)) {
        if (!hasPath(values, path))
          problems.push(`${file} line ${line}: .Values.${path.join('.')} is not in values.yaml`);
      }
      allActions.push(...actions);
    }
    const defined = definedTemplates(allActions);
    for (const [file, source] of templates) {
      for (const { name, line } of includedTemplates(scanActions(source).actions)) {
        if (!defined.has(name)) problems.push(`${file} line ${line}: include "${name}" is not defined`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(allActions.length > 100, 'the templates were not read');
  });

  void test('templates: a Deployment and Service per enabled service, probing /alive and /healthz, with preStop', () => {
    const deployment = template('deployment.yaml');
    assert.match(deployment, /range \$name, \$svc := \.Values\.services/);
    assert.match(deployment, /if \$svc\.enabled/);
    assert.match(deployment, /kind: Deployment/);
    assert.match(deployment, /args: \["dist\/apps\/\{\{ \$name \}\}\/main\.js"\]/);
    for (const { name } of SPLIT_SERVICES) assert.equal(distPath(name), `dist/apps/${name}/main.js`);
    assert.match(deployment, /livenessProbe:\s+httpGet:\s+path: \/alive\b/);
    assert.match(deployment, /readinessProbe:\s+httpGet:\s+path: \/healthz\b/);
    // /metrics is hidden on the public port: the scrape annotation names the management listener's port.
    assert.match(deployment, /prometheus\.io\/port: \{\{ \$\.Values\.metrics\.port \| quote \}\}/);
    assert.match(deployment, /name: MANAGEMENT_PORT\s+value: \{\{ \$\.Values\.metrics\.port \| quote \}\}/);
    assert.match(deployment, /name: MANAGEMENT_HOST\s+value: "0\.0\.0\.0"/);
    assert.match(deployment, /preStop:[\s\S]*?sleep/);
    assert.match(deployment, /terminationGracePeriodSeconds: \{\{ \$\.Values\.terminationGracePeriodSeconds \}\}/);
    assert.match(deployment, /configMapRef:/);
    assert.match(deployment, /readOnly: true/);
    assert.match(template('_helpers.tpl'), /name: \{\{ \$setting \}\}_FILE/);
    const service = template('service.yaml');
    assert.match(service, /range \$name, \$svc := \.Values\.services/);
    assert.match(service, /kind: Service/);
    assert.ok(templates.has('NOTES.txt'));
  });

  void test('templates: migrations are a pre-install/pre-upgrade hook Job that runs npm run migrate', () => {
    const job = template('migration-job.yaml');
    assert.match(job, /kind: Job/);
    assert.match(job, /helm\.sh\/hook: pre-install,pre-upgrade/);
    assert.match(job, /args: \["dist\/tools\/cli\/main\.js", "migrate"\]/);
    assert.equal(distPath('cli'), 'dist/tools/cli/main.js');
    assert.match(job, /DATABASE_URL_FILE/);
    assert.match(job, /restartPolicy: Never/);
    // The chart-made Secret must exist before the Job that reads it.
    const secret = template('secret.yaml');
    assert.match(secret, /helm\.sh\/hook: pre-install,pre-upgrade/);
    assert.ok(hookWeight(secret) < hookWeight(job), 'the Secret hook must run before the migration Job');
  });

  void test('templates: HPA, PDB and an Ingress per prefix (notifications apart), without rewrites', () => {
    const hpa = template('hpa.yaml');
    assert.match(hpa, /apiVersion: autoscaling\/v2/);
    assert.match(hpa, /\$svc\.autoscaling\.enabled/);
    assert.match(template('deployment.yaml'), /if not \$svc\.autoscaling\.enabled/);
    assert.match(template('pdb.yaml'), /apiVersion: policy\/v1/);
    const ingress = template('ingress.yaml');
    assert.match(ingress, /ingressClassName: \{\{ \.Values\.ingress\.className \}\}/);
    assert.match(ingress, /pathType: Prefix/);
    assert.match(ingress, /tls:/);
    assert.match(ingress, /services\.notifications\.path/);
    const everything = [...templates.values(), readRepoFile(`${CHART}/values.yaml`)].join('\n');
    assert.doesNotMatch(everything, /rewrite-target/);
  });

  void test('helm lint and helm template render the chart', { skip: helmMissing }, () => {
    const valuesFile = join(scratch, 'helm-values.yaml');
    writeFileSync(
      valuesFile,
      [
        'secrets:',
        '  existingSecret: keyhaven-secrets',
        'services:',
        '  api:',
        '    autoscaling:',
        '      enabled: true',
        '',
      ].join('\n'),
    );
    const lint = spawnSync('helm', ['lint', '--strict', repoPath(CHART), '-f', valuesFile], { encoding: 'utf8' });
    assert.equal(lint.status, 0, `helm lint:\n${lint.stdout}${lint.stderr}`);
    const rendered = spawnSync('helm', ['template', 'kh', repoPath(CHART), '-f', valuesFile], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.equal(rendered.status, 0, `helm template:\n${rendered.stderr}`);
    const docs = parseAllDocuments(rendered.stdout)
      .map((d) => {
        assert.deepEqual(d.errors, [], 'helm template printed invalid YAML');
        const parsed: unknown = d.toJSON();
        return parsed;
      })
      .filter(isRecord);
    const kinds = (kind: string): Record<string, unknown>[] => docs.filter((d) => d.kind === kind);
    assert.equal(kinds('Deployment').length, SPLIT_SERVICES.length);
    assert.equal(kinds('Service').length, SPLIT_SERVICES.length);
    assert.equal(kinds('HorizontalPodAutoscaler').length, 1);
    assert.ok(kinds('Ingress').length >= 1);
    const job = kinds('Job')[0];
    assert.ok(job, 'no migration Job');
    assert.equal(
      record(record(job.metadata, 'Job.metadata').annotations, 'annotations')['helm.sh/hook'],
      'pre-install,pre-upgrade',
    );
    for (const deployment of kinds('Deployment')) {
      const spec = record(record(record(deployment.spec, 'spec').template, 'template').spec, 'pod spec');
      const container = record(list(spec.containers, 'containers')[0], 'container');
      const probePath = (probe: string): unknown => record(record(container[probe], probe).httpGet, 'httpGet').path;
      assert.equal(probePath('livenessProbe'), '/alive');
      assert.equal(probePath('readinessProbe'), '/healthz');
      const env = list(container.env, 'env').map((e) => text(record(e, 'env[]').name, 'env[].name'));
      assert.ok(env.includes('DATABASE_URL_FILE') && !env.includes('DATABASE_URL'));
    }
    const paths = kinds('Ingress').flatMap((ing) =>
      list(record(ing.spec, 'spec').rules, 'rules').flatMap((rule) =>
        list(record(record(rule, 'rule').http, 'http').paths, 'paths').map((p) => text(record(p, 'path').path, 'path')),
      ),
    );
    assert.deepEqual(paths.sort(), PUBLIC_SERVICES.map((s) => s.prefix).sort());
  });
});
