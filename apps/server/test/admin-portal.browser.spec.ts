import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot, testEnv } from '@keyhaven/testing';
import { startAllInOne, type BackedServer } from './backends';
import { MemberStatus, call, createOrg, createPersonalItem, join as joinOrg, newPerson } from './org-fixtures';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN_TOKEN = 'portal-browser-token-0123456789abcdef';
/** Screenshots of every page, for a person to look at (gitignored). */
const ARTEFACTS = join(repoRoot, 'test-artefacts', 'admin-portal');

/**
 * The portal in Debian's Chromium (playwright-core, no bundled browser): log in with the admin token,
 * find a user, offboard them after the confirmation, see the result; every page is screenshotted and
 * must load without a Content-Security-Policy violation (every asset is Keyhaven's own).
 */
describe('admin portal in a browser', () => {
  const missing = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`;
  // Under CI a missing browser fails the suite instead of skipping it.
  if (missing && !testEnv.CI) {
    test('needs Chromium', { skip: missing }, () => undefined);
    return;
  }
  let server: BackedServer;
  let browser: Browser;
  let page: Page;
  const cspViolations: string[] = [];

  before(async () => {
    mkdirSync(ARTEFACTS, { recursive: true });
    server = await startAllInOne('pglite', { ADMIN_TOKEN });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('dialog', (dialog) => void dialog.accept());
  });

  after(async () => {
    // A failed launch (no browser under CI) must still stop the in-process server, or the file never ends.
    await (browser as Browser | undefined)?.close();
    await (server as BackedServer | undefined)?.stop();
  });

  const shot = (name: string): Promise<Buffer> =>
    page.screenshot({ path: join(ARTEFACTS, `${name}.png`), fullPage: true });

  test('log in, find a user, offboard them, see the result; every page renders', async () => {
    const owner = await newPerson(server.http, 'portal-owner@example.com');
    const org = await createOrg(server.http, owner, 'Portal Co');
    const leaver = await newPerson(server.http, 'portal-leaver@example.com');
    await joinOrg(server.http, org, owner.token, leaver, { type: 2 });
    await createPersonalItem(server.http, leaver, 'kept');

    await page.goto(`${server.url}/admin`);
    assert.match(page.url(), /\/admin\/login$/);
    await shot('01-login');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/admin\/portal\/users/);
    await shot('02-users');

    await page.getByLabel('Search email or name').fill('portal-leaver');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/search=portal-leaver/);
    const row = page.getByRole('row', { name: /portal-leaver@example.com/ });
    assert.equal(await row.count(), 1);
    await shot('03-search');
    await row.getByRole('button', { name: 'Offboard' }).click();
    await page.getByRole('heading', { name: 'Offboarding' }).waitFor();
    const result = await page.locator('main').innerText();
    assert.match(result, /Offboarded portal-leaver@example.com/);
    assert.match(result, /Revoked from Portal Co/);
    await shot('04-offboarded');

    const members = await call<{ data: { userId: string; status: number }[] }>(
      server.http,
      owner.token,
      'GET',
      `/api/organizations/${org.id}/users`,
    );
    assert.equal(members.body.data.find((m) => m.userId === leaver.userId)?.status, MemberStatus.Revoked);
    assert.equal((await call(server.http, leaver.token, 'GET', '/api/sync')).status, 401);

    await page.goto(`${server.url}/admin/portal/users?search=portal-leaver`);
    assert.match(await page.locator('main').innerText(), /Disabled/);
    await shot('05-users-after');
    for (const [name, path] of [
      ['06-organizations', '/admin/portal/organizations'],
      ['07-organization', `/admin/portal/organizations/${org.id}`],
      ['08-events', '/admin/portal/events'],
      ['09-reports', '/admin/portal/reports'],
      ['10-diagnostics', '/admin/portal/diagnostics'],
    ] as const) {
      const response = await page.goto(`${server.url}${path}`);
      assert.equal(response?.status(), 200, path);
      await shot(name);
    }
    assert.match(await page.locator('main').innerText(), /ADMIN_TOKEN\s+\*\*\*/);
    assert.ok(!(await page.content()).includes(ADMIN_TOKEN));
    assert.deepEqual(cspViolations, []);
  });
});
