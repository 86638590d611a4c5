import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decryptAttachment, encryptAttachment, prepareAttachment } from './attachment';
import { computeMac, decryptType2Utf8 } from './enc-string';
import { unwrapSymmetricKey } from './key-wrap';
import { SymmetricKey } from './symmetric-key';

void test('layout is 0x02 ‖ iv16 ‖ mac32 ‖ ct, the MAC covering iv ‖ ct', () => {
  const key = SymmetricKey.generate();
  const data = randomBytes(1000);
  const blob = encryptAttachment(key, data);
  assert.equal(blob[0], 2);
  assert.equal(blob.length, 1 + 16 + 32 + 1008); // PKCS#7 pads 1000 up to 1008
  const iv = blob.subarray(1, 17);
  const ct = blob.subarray(49);
  assert.deepEqual(blob.subarray(17, 49), computeMac(key.macKey, iv, ct));
  assert.deepEqual(decryptAttachment(key, blob), data);
});

void test('empty files round-trip; tampering anywhere or a wrong key is refused', () => {
  const key = SymmetricKey.generate();
  assert.deepEqual(decryptAttachment(key, encryptAttachment(key, Buffer.alloc(0))), Buffer.alloc(0));
  const blob = encryptAttachment(key, Buffer.from('attachment body'));
  for (const offset of [1, 20, 60]) {
    const bad = Buffer.from(blob);
    bad.writeUInt8(bad.readUInt8(offset) ^ 0x80, offset);
    assert.throws(() => decryptAttachment(key, bad), /MAC mismatch/);
  }
  const wrongType = Buffer.from(blob);
  wrongType[0] = 0;
  assert.throws(() => decryptAttachment(key, wrongType), /type-2/);
  assert.throws(() => decryptAttachment(key, blob.subarray(0, 40)), /type-2/);
  assert.throws(() => decryptAttachment(SymmetricKey.generate(), blob), /MAC mismatch/);
});

void test('prepareAttachment wraps a fresh file key and the file name under the cipher key', () => {
  const cipherKey = SymmetricKey.generate();
  const prepared = prepareAttachment(cipherKey, 'report.pdf', Buffer.from('%PDF-1.7'));
  assert.ok(unwrapSymmetricKey(cipherKey, prepared.request.key).equals(prepared.fileKey));
  assert.equal(decryptType2Utf8(cipherKey, prepared.request.fileName), 'report.pdf');
  assert.equal(prepared.request.fileSize, prepared.encryptedData.length);
  assert.deepEqual(decryptAttachment(prepared.fileKey, prepared.encryptedData), Buffer.from('%PDF-1.7'));
});
