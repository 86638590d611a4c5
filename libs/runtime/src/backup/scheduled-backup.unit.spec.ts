import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CronTime } from 'cron';
import { checkIntervalMs, pruneBackups } from './scheduled-backup';

function dirWith(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-prune-'));
  for (const n of names) writeFileSync(join(dir, n), 'x');
  return dir;
}

const backups = [
  'keyhaven-20261120T030000Z.backup',
  'keyhaven-20261125T030000Z.backup',
  'keyhaven-20261201T030000Z.backup',
  'keyhaven-20261202T030000Z.backup',
];
const others = ['notes.txt', 'keyhaven-20261101T030000Z.backup.unverified'];

test('a count keeps the newest N backups and touches nothing else', async () => {
  const dir = dirWith([...backups, ...others]);
  try {
    assert.deepEqual(await pruneBackups(dir, { count: 2 }), backups.slice(0, 2));
    assert.deepEqual(readdirSync(dir).sort(), [...backups.slice(2), ...others].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('days keep the backups younger than N days, and always the newest', async () => {
  const dir = dirWith([...backups, ...others]);
  try {
    const now = new Date('2026-12-02T12:00:00Z');
    assert.deepEqual(await pruneBackups(dir, { days: 7 }, now), backups.slice(0, 2));
    assert.deepEqual(await pruneBackups(dir, { days: 1 }, new Date('2027-06-01T00:00:00Z')), backups.slice(2, 3));
    assert.deepEqual(readdirSync(dir).sort(), [backups[3], ...others].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checks come once per interval of a frequent schedule, at least hourly otherwise', () => {
  const now = new Date('2026-12-02T12:00:00.500Z');
  assert.equal(checkIntervalMs(new CronTime('*/3 * * * * *', 'UTC'), now), 3000);
  assert.equal(checkIntervalMs(new CronTime('*/15 * * * *', 'UTC'), now), 900_000);
  assert.equal(checkIntervalMs(new CronTime('0 3 * * *', 'UTC'), now), 3_600_000);
});
