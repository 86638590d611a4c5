#!/usr/bin/env node
'use strict';
// Container health check for every Keyhaven process (the image's HEALTHCHECK, docker-compose.yml).
//
//   node deploy/healthcheck.js [/alive | /healthz | http(s)://host:port/path]
//
// With a path, the target is this container's own process on loopback: PORT and TLS from the environment,
// else the defaults of the app the container runs (HEALTHCHECK_APP, or the command of PID 1 or its child in
// /proc: 8443 with TLS on for the all-in-one `server`, 4000-4009 with TLS off for a split service).
// Exits 0 on a 2xx answer within 4 s, 1 otherwise.
// Over HTTPS the certificate is not verified: a local CA the container generated itself is the usual case.
const { readdirSync, readFileSync } = require('node:fs');
const http = require('node:http');
const https = require('node:https');

const SPLIT_PORTS = {
  api: 4000,
  identity: 4001,
  admin: 4002,
  notifications: 4003,
  events: 4004,
  'events-processor': 4005,
  sso: 4006,
  scim: 4007,
  billing: 4008,
  icons: 4009,
};
const TIMEOUT_MS = 4000;

/** Whether /proc/<pid> is the container's first process or a direct child of it (an init such as tini). */
function topLevel(pid) {
  if (pid === '1') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === '1';
  } catch {
    return false;
  }
}

/** The app this container runs (`server`, `api`, ...): HEALTHCHECK_APP, else PID 1 or its child's command. */
function runningApp() {
  if (process.env.HEALTHCHECK_APP) return process.env.HEALTHCHECK_APP;
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name) && topLevel(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let args;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    for (const arg of args) {
      // dist/apps/<app>/main.js as the image runs it; apps/<app>/src/main.ts from a source checkout.
      const match = /(?:^|\/)apps\/([a-z-]+)\/(?:main\.js|src\/main\.ts)$/.exec(arg);
      if (match) return match[1];
    }
  }
  return undefined;
}

function target(arg) {
  if (/^https?:\/\//.test(arg)) return new URL(arg);
  const app = runningApp();
  const split = app !== undefined && app !== 'server';
  const port = process.env.PORT || (split ? SPLIT_PORTS[app] : undefined) || 8443;
  const tls = (process.env.TLS || (split ? 'off' : 'on')) === 'on';
  const bind = process.env.HOST;
  const host = !bind || bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
  return new URL(`${tls ? 'https' : 'http'}://${host}:${port}${arg}`);
}

function main() {
  const url = target(process.argv[2] || '/alive');
  const client = url.protocol === 'https:' ? https : http;
  const request = client.get(url, { timeout: TIMEOUT_MS, rejectUnauthorized: false }, (response) => {
    response.resume();
    const status = response.statusCode || 0;
    if (status >= 200 && status < 300) process.exit(0);
    process.stderr.write(`${url.pathname}: HTTP ${status}\n`);
    process.exit(1);
  });
  request.on('timeout', () => {
    request.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`));
  });
  request.on('error', (error) => {
    process.stderr.write(`${url.origin}${url.pathname}: ${error.message}\n`);
    process.exit(1);
  });
}

main();
