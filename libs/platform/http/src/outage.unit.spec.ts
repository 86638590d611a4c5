import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { mapError } from './error-filter';
import { isDependencyOutage } from './outage';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

void describe('dependency outages answer 503, everything else keeps its answer', () => {
  test('PostgreSQL going away or unreachable is an outage', () => {
    const outages = [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is shutting down', '57P03'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      withCode('sorry, too many clients already', '53300'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      // TypeORM's QueryFailedError carries the driver's error.
      Object.assign(new Error('query failed'), {
        query: 'SELECT 1',
        driverError: withCode('terminating connection due to administrator command', '57P01'),
      }),
    ];
    for (const error of outages) assert.equal(isDependencyOutage(error), true, error.message);
  });

  test('defects and refused values are not outages', () => {
    const others = [
      new Error('Cannot read properties of undefined'),
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('invalid input syntax for type uuid', '22P02'),
      withCode('syntax error at or near', '42601'),
      'a string',
      null,
    ];
    for (const error of others) assert.equal(isDependencyOutage(error), false, String(error));
  });

  test('the error filter answers an outage 503 with Retry-After and no error id', () => {
    const logger = pino({ level: 'silent' });
    const mapped = mapError(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), logger, 'r1');
    assert.equal(mapped.status, 503);
    assert.equal(mapped.headers?.['retry-after'], '5');
    assert.equal((mapped.body as { errorId?: string }).errorId, undefined);
    assert.equal(mapError(new Error('a defect'), logger, 'r2').status, 500);
  });
});
