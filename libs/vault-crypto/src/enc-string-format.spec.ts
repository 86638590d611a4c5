import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncStringFormatError, isWellFormedEncString, parseEncString, tryParseEncString } from './enc-string-format';

const b64 = (n: number, fill = 1): string => Buffer.alloc(n, fill).toString('base64');
const IV = b64(16);
const CT = b64(32, 2);
const MAC = b64(32, 3);
const RSA = b64(256, 4);

void test('accepts every type the official server accepts, in its exact layout', () => {
  const valid = [
    `0.${IV}|${CT}`,
    `2.${IV}|${CT}|${MAC}`,
    `3.${RSA}`,
    `4.${RSA}`,
    `5.${RSA}|${MAC}`,
    `6.${RSA}|${MAC}`,
    `7.${b64(57)}`,
  ];
  for (const s of valid) assert.equal(isWellFormedEncString(s), true, s);
});

void test('parses pieces into buffers', () => {
  const parsed = parseEncString(`2.${IV}|${CT}|${MAC}`);
  assert.equal(parsed.type, 2);
  assert.deepEqual(parsed.iv, Buffer.alloc(16, 1));
  assert.deepEqual(parsed.data, Buffer.alloc(32, 2));
  assert.deepEqual(parsed.mac, Buffer.alloc(32, 3));
  const rsa = parseEncString(`4.${RSA}`);
  assert.equal(rsa.iv, null);
  assert.equal(rsa.mac, null);
  assert.equal(rsa.data.length, 256);
});

void test('type 1 is recognised but not accepted by default; callers can narrow the accepted types', () => {
  const type1 = `1.${IV}|${CT}|${MAC}`;
  assert.equal(parseEncString(type1).type, 1);
  assert.equal(isWellFormedEncString(type1), false);
  assert.equal(isWellFormedEncString(type1, [1]), true);
  assert.equal(isWellFormedEncString(`4.${RSA}`, [2]), false);
  assert.equal(isWellFormedEncString(`2.${IV}|${CT}|${MAC}`, [2, 7]), true);
});

void test('tolerates non-zero trailing bits in the last base64 symbol, as the official server does', () => {
  // "AAECAwQFBgcICQoLDA0OD/==" decodes to 16 bytes but is not the canonical encoding.
  assert.equal(isWellFormedEncString(`2.AAECAwQFBgcICQoLDA0OD/==|${CT}|${MAC}`), true);
});

void test('rejects malformed strings', () => {
  const invalid: unknown[] = [
    null,
    undefined,
    42,
    {},
    '',
    'Test',
    'SecretPassword123',
    '.',
    '|',
    '||',
    '2.',
    '2.||',
    `${IV}|${CT}|${MAC}`, // headerless legacy
    `${IV}|${CT}`,
    `8.${RSA}`, // unknown type
    `254.${RSA}`,
    `02.${IV}|${CT}|${MAC}`, // header must be one digit
    `x.${RSA}`,
    `2.${IV}|${CT}`, // too few pieces
    `2.${IV}|${CT}|${MAC}|${MAC}`, // too many
    `2.${IV}|${CT}|${MAC}|`,
    `0.${IV}|${CT}|${MAC}`,
    `4.${RSA}|${RSA}`,
    `5.${RSA}`,
    `7.${RSA}|${MAC}`,
    `2.${IV}|${CT}|${b64(4)}`, // short MAC
    `2.${b64(4)}|${CT}|${MAC}`, // short IV
    `2.${b64(17)}|${CT}|${MAC}`, // long IV
    `0.${b64(15)}|${CT}`,
    `2.${IV}|${b64(20)}|${MAC}`, // AES ciphertext not whole blocks
    `2.${IV}|!!!!|${MAC}`, // bad alphabet
    `2.${IV}|${CT.replace(/=+$/, '')}x|${MAC}`, // bad length
    `2.${IV}|${Buffer.alloc(32, 2).toString('base64url')}|${MAC}`, // base64url alphabet
    `2.${IV.replace(/=+$/, '')}|${CT}|${MAC}`, // unpadded
    `2.${IV}|====|${MAC}`,
    `2.${IV}| ${CT}|${MAC}`, // whitespace
    `2.${IV}|${CT}|${MAC}\n`,
    ` 2.${IV}|${CT}|${MAC}`,
  ];
  for (const s of invalid) assert.equal(isWellFormedEncString(s), false, JSON.stringify(s));
});

void test('parseEncString throws a typed error; tryParseEncString returns null', () => {
  assert.throws(() => parseEncString('2.nope'), EncStringFormatError);
  assert.equal(tryParseEncString('2.nope'), null);
});
