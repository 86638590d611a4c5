import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventType } from '@keyhaven/contracts';
import { runWithRequestContext } from '@keyhaven/http';
import { createDataSource } from './data-source';
import { Database } from './database';
import { EventRecorder, type EventRecord } from './event-recorder';
import { Events1796190000000 } from './migrations/1796190000000-Events';

/** An embedded store with just the event tables, a recorder on it, and a teardown. */
async function open(t: TestContext): Promise<{ db: Database; recorder: EventRecorder }> {
  const dir = mkdtempSync(join(tmpdir(), 'keyhaven-events-'));
  const ds = createDataSource({ dataDir: dir });
  await ds.initialize();
  t.after(async () => {
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const runner = ds.createQueryRunner();
  await new Events1796190000000().up(runner);
  await runner.release();
  const db = new Database(ds);
  return { db, recorder: new EventRecorder(db) };
}

async function outbox(db: Database): Promise<EventRecord[]> {
  const rows = await db.rows<{ payload: EventRecord }>('SELECT payload FROM event_outbox ORDER BY seq');
  return rows.map((r) => r.payload);
}

const USER = '0b8a0c52-52b5-4c40-9c1b-0a4f3c1d2e01';
const OTHER = '0b8a0c52-52b5-4c40-9c1b-0a4f3c1d2e02';
const ORG = '0b8a0c52-52b5-4c40-9c1b-0a4f3c1d2e03';

test('an event commits and rolls back with the transaction that records it', async (t) => {
  const { db, recorder } = await open(t);
  await assert.rejects(
    db.transaction(async () => {
      await recorder.record({ type: EventType.Cipher_Created, userId: USER });
      throw new Error('the change failed');
    }),
    /the change failed/,
  );
  assert.deepEqual(await outbox(db), []);
  await db.transaction(() => recorder.record({ type: EventType.Cipher_Updated, userId: USER }));
  const rows = await outbox(db);
  assert.deepEqual(
    rows.map((r) => [r.type, r.userId]),
    [[1101, USER]],
  );
});

test('acting user, device type and address come from the request context unless given', async (t) => {
  const { db, recorder } = await open(t);
  const context = { actingUserId: USER, deviceType: 9, ipAddress: '203.0.113.7' };
  await runWithRequestContext(context, () =>
    recorder.record([
      { type: EventType.Collection_Created, organizationId: ORG },
      { type: EventType.User_LoggedIn, userId: OTHER, actingUserId: OTHER, deviceType: null, ipAddress: '192.0.2.1' },
    ]),
  );
  await recorder.record({ type: EventType.Organization_Updated, organizationId: ORG });
  const recorded = await outbox(db);
  assert.deepEqual(
    recorded.map((r) => [r.type, r.actingUserId, r.deviceType, r.ipAddress, r.organizationId]),
    [
      [1300, USER, 9, '203.0.113.7', ORG],
      [1000, OTHER, null, '192.0.2.1', null],
      [1600, null, null, null, ORG],
    ],
  );
});

test('many events are one statement, in order, each with its own id and the given date', async (t) => {
  const { db, recorder } = await open(t);
  const statements: string[] = [];
  const execute = db.execute.bind(db);
  db.execute = (text: string, params?: unknown[]) => {
    statements.push(text);
    return execute(text, params);
  };
  const date = new Date('2026-01-02T03:04:05.000Z');
  const inputs = Array.from({ length: 50 }, (_, i) => ({
    type: EventType.OrganizationUser_Invited,
    organizationId: ORG,
    organizationUserId: `0b8a0c52-52b5-4c40-9c1b-0a4f3c1d${String(1000 + i).padStart(4, '0')}`,
    date,
  }));
  await recorder.record(inputs);
  await recorder.record([]);
  assert.equal(statements.length, 1);
  const rows = await outbox(db);
  assert.deepEqual(
    rows.map((r) => r.organizationUserId),
    inputs.map((i) => i.organizationUserId),
  );
  assert.equal(new Set(rows.map((r) => r.id)).size, 50);
  assert.ok(rows.every((r) => r.date === date.toISOString()));
});
