import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyhavenError } from './errors';
import { stringifyIteratively, stringifyJson } from './json-serialize';
import {
  MAX_JSON_DEPTH,
  assertStorableJson,
  findJsonFault,
  int32,
  isStorableDate,
  isoDate,
  smallint,
  textFault,
  jsonDepth,
  unknownFieldChars,
  unknownFieldDepth,
} from './limits';

const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;

test('findJsonFault: depth is counted per container, and the budget itself passes', () => {
  assert.equal(findJsonFault(nested(MAX_JSON_DEPTH)), null);
  assert.deepEqual(findJsonFault(nested(MAX_JSON_DEPTH + 1))?.kind, 'depth');
  assert.equal(findJsonFault({ a: { b: 'x' } }, 2), null);
  assert.deepEqual(findJsonFault({ a: { b: { c: 1 } } }, 2), { kind: 'depth', path: 'a.b' });
  // A million levels are inspected without recursion.
  assert.equal(findJsonFault(nested(1_000_000))?.kind, 'depth');
});

test('findJsonFault: NUL and lone surrogates in values and keys, with their path', () => {
  assert.deepEqual(findJsonFault({ a: [1, 'x\0'] }), { kind: 'nul', path: 'a.1' });
  assert.deepEqual(findJsonFault(JSON.parse('{"a":{"b":"\\ud800"}}')), { kind: 'surrogate', path: 'a.b' });
  assert.deepEqual(findJsonFault(JSON.parse('{"a":{"\\udc00":1}}')), { kind: 'surrogate', path: 'a.(key)' });
  assert.equal(findJsonFault({ emoji: '\ud83d\ude00', text: 'a\\u0000b' }), null);
  assert.equal(textFault('\ud83d'), 'surrogate');
  assert.equal(textFault('\ude00x'), 'surrogate');
  assert.equal(textFault('ok \ud83d\ude00'), null);
});

test('assertStorableJson: a 400 in Bitwarden shape naming the field', () => {
  assert.throws(
    () => {
      assertStorableJson({ cipher: { x: 'a\0' } });
    },
    (error: unknown) =>
      error instanceof KeyhavenError &&
      error.code === 'bad_request' &&
      error.validationErrors?.['cipher.x']?.[0] === 'Text may not contain NUL characters.',
  );
});

test('column ranges: smallint, int32 and dates of years 1-9999', () => {
  assert.equal(smallint().safeParse(32_767).success, true);
  assert.equal(smallint().safeParse(32_768).success, false);
  assert.equal(smallint(0, 40).safeParse(41).success, false);
  assert.equal(int32().safeParse(2 ** 31).success, false);
  assert.equal(int32().safeParse(-(2 ** 31)).success, true);
  assert.equal(isoDate.safeParse('2026-01-01T00:00:00Z').success, true);
  assert.equal(isoDate.safeParse('0001-01-01T00:00:00Z').success, true);
  for (const bad of ['+010000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '0000-12-31T23:59:59Z', 'garbage']) {
    assert.equal(isoDate.safeParse(bad).success, false, bad);
  }
  assert.equal(isStorableDate(new Date(8.64e15)), false);
});

test('unknownFieldChars: counts only keys outside the known set', () => {
  assert.equal(unknownFieldChars({ a: 1, b: 'xy' }, new Set(['a'])), 'b'.length + 3 + '"xy"'.length);
  assert.equal(unknownFieldChars([1], new Set()), 0);
});

test('stringifyJson: same text as JSON.stringify, and any depth', () => {
  const samples: unknown[] = [
    { a: 1, b: [1, 'two', null, undefined, () => 1], c: undefined, d: new Date(0), e: -0, f: NaN, g: { h: true } },
    [],
    {},
    'text "quoted"\n',
    null,
    [[[{}]]],
  ];
  for (const sample of samples) assert.equal(stringifyIteratively(sample), JSON.stringify(sample));
  assert.equal(stringifyIteratively(undefined), undefined);
  const deep = nested(200_000);
  assert.throws(() => JSON.stringify(deep), RangeError);
  const text = stringifyJson(deep);
  assert.equal(text, '['.repeat(200_000) + ']'.repeat(200_000));
});

test('jsonDepth and unknownFieldDepth: levels of the unknown values only', () => {
  assert.equal(jsonDepth('x'), 0);
  assert.equal(jsonDepth({ a: [{}] }), 3);
  assert.equal(jsonDepth(nested(100_000)), 100_000);
  assert.equal(unknownFieldDepth({ known: nested(50), extra: { a: [] } }, new Set(['known'])), 2);
});
