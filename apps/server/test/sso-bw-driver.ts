import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inheritedEnvironment } from '@keyhaven/config';
import type { HttpClient } from '@keyhaven/testing';
import { Browser, authorizeUrl, prevalidate, type BrowserTarget } from './sso-fixtures';

/**
 * Drives the stock `bw login --sso` headlessly (ENTERPRISE.md §1.7): on Linux the CLI runs
 * `xdg-open <url>` synchronously, so a fake `xdg-open` first on PATH writes the URL to a file and
 * exits at once; the test then plays the web vault's /#/sso page and the person's browser, and
 * finally calls the CLI's loopback listener with the code and state.
 */
export class FakeXdgOpen {
  private readonly dir = mkdtempSync(join(tmpdir(), 'keyhaven-xdg-'));
  private readonly urlFile = join(this.dir, 'opened');
  private seen = 0;

  constructor() {
    writeFileSync(join(this.dir, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${this.urlFile}'\nexit 0\n`);
    chmodSync(join(this.dir, 'xdg-open'), 0o755);
  }

  /** For the CLI's environment: the fake first on PATH. */
  env(): Record<string, string> {
    return { PATH: `${this.dir}:${inheritedEnvironment([])['PATH'] ?? '/usr/bin:/bin'}` };
  }

  /** The next URL the CLI opened (polls the file, at most `timeoutMs`). */
  async nextUrl(timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = existsSync(this.urlFile) ? readFileSync(this.urlFile, 'utf8').split('\n').filter(Boolean) : [];
      if (lines.length > this.seen) return lines[this.seen++]!;
      if (Date.now() > deadline) throw new Error('the CLI opened no URL');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The CLI listens on localhost:8065 and crashes if it is taken (§1.7): say so clearly instead. */
export async function assertCliPortFree(port = 8065): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () => {
      reject(new Error(`localhost:${port} is taken; bw login --sso needs it (run SSO CLI tests one at a time)`));
    });
    probe.listen(port, 'localhost', () =>
      probe.close(() => {
        resolve();
      }),
    );
  });
}

/**
 * What the web vault page and the browser do with the URL the CLI opened
 * (`{vault}/#/sso?clientId=cli&redirectUri=…&state=…&codeChallenge=…&identifier=…`): prevalidate,
 * authorize with `state` + `_identifier=`, sign in at the IdP, then hand the code to the CLI's
 * listener. Answers the listener's reply.
 */
export async function completeCliSso(
  opened: string,
  target: BrowserTarget,
  http: HttpClient,
  credentials: { login: string; password: string },
): Promise<{ status: number; text: string }> {
  const fragment = opened.slice(opened.indexOf('#'));
  const q = new URLSearchParams(fragment.slice(fragment.indexOf('?') + 1));
  const [clientId, redirectUri, state, challenge, identifier] = [
    'clientId',
    'redirectUri',
    'state',
    'codeChallenge',
    'identifier',
  ].map((k) => q.get(k) ?? '');
  if (!clientId || !redirectUri || !state || !challenge || !identifier) throw new Error(`unexpected URL ${opened}`);
  const ssoToken = await prevalidate(http, identifier);
  const start = authorizeUrl(target.domain, {
    clientId: clientId,
    redirectUri: redirectUri,
    state: `${state}_identifier=${identifier}`,
    challenge: challenge,
    identifier: identifier,
    ssoToken,
  });
  const end = await new Browser(target, credentials, redirectUri).go(start);
  if (!end.url) throw new Error(`the flow stopped at ${end.status}: ${end.text.slice(0, 300)}`);
  const res = await fetch(end.url);
  return { status: res.status, text: await res.text() };
}
