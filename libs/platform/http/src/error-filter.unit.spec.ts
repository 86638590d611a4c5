import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { badRequest, rateLimited } from '@keyhaven/contracts';
import { mapError } from './error-filter';

function capture(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, sink),
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

test('a value the database refused (SQLSTATE class 22, 54001) is a 400 without a stack, logged as a validation gap', () => {
  const { logger, lines } = capture();
  for (const code of ['22021', '22003', '22008', '22P05', '54001']) {
    const error = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code,
      query: 'INSERT …',
      parameters: ['secret'],
    });
    const mapped = mapError(error, logger, 'req-1');
    assert.equal(mapped.status, 400, code);
    assert.deepEqual(mapped.body, {
      message: 'The request contains a value that cannot be stored.',
      validationErrors: null,
      object: 'error',
    });
  }
  const logged = lines();
  assert.equal(logged.length, 5);
  for (const line of logged) {
    assert.equal(line['msg'], 'the database refused a value the edge validation let through');
    assert.equal(line['err'], undefined, 'no error object (stack, statement, parameters) in the log');
  }
});

test('a unique index refusing a write (23505, a race past the domain check) is a 409 without a stack', () => {
  const { logger, lines } = capture();
  const error = Object.assign(new Error('duplicate key value violates unique constraint'), {
    code: '23505',
    query: 'INSERT …',
    parameters: ['secret'],
  });
  const mapped = mapError(error, logger, 'req-3');
  assert.equal(mapped.status, 409);
  assert.equal((mapped.body as { object?: string }).object, 'error');
  const [line] = lines();
  assert.equal(line?.['msg'], 'a unique index refused a write');
  assert.doesNotMatch(JSON.stringify(lines()), /INSERT|secret/);
});

test('other database errors stay 500s with an error id, their statement and parameters kept out of the log', () => {
  const { logger, lines } = capture();
  const error = Object.assign(new Error('deadlock detected'), { code: '40P01', query: 'UPDATE …', parameters: ['x'] });
  const mapped = mapError(error, logger, 'req-2');
  assert.equal(mapped.status, 500);
  const [line] = lines();
  assert.equal((line?.['err'] as { message?: string }).message, 'database query failed');
  assert.doesNotMatch(JSON.stringify(line), /UPDATE|"x"/);
});

test('client errors are not logged; 429s carry Retry-After, domain and custom errors alike', () => {
  const { logger, lines } = capture();
  assert.equal(mapError(badRequest('no'), logger, 'r').status, 400);
  assert.deepEqual(mapError(rateLimited(7), logger, 'r').headers, { 'retry-after': '7' });
  const custom = {
    status: 429,
    retryAfterSeconds: 30,
    body: () => ({ error: 'too_many_requests', error_description: 'Too many.' }),
  };
  const mapped = mapError(custom, logger, 'r');
  assert.equal(mapped.status, 429);
  assert.deepEqual(mapped.headers, { 'retry-after': '30' });
  const bodyTooLarge = Object.assign(new Error('too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
  assert.deepEqual(mapError(bodyTooLarge, logger, 'r').body, {
    message: 'The request body is too large.',
    validationErrors: null,
    object: 'error',
  });
  assert.deepEqual(lines(), []);
});
