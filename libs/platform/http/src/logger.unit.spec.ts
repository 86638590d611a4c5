import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { NestPinoLogger } from './logger';

test("a service's log line is info; Nest's own start-up lines are debug", () => {
  const lines: { level: number; context?: string; msg: string }[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) };
  const logger = new NestPinoLogger(pino({ level: 'info' }, destination));
  logger.log('Mapped {/api/sync, GET} route', 'RouterExplorer');
  logger.log('AppModule dependencies initialized', 'InstanceLoader');
  logger.log('backup /backups/keyhaven-1.age written and verified', 'backup');
  assert.deepEqual(
    lines.map((l) => [l.level, l.context, l.msg]),
    [[30, 'backup', 'backup /backups/keyhaven-1.age written and verified']],
  );
});
