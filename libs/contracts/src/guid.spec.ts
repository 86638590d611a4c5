import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guid, parseGuid } from './guid';

test('guid: any 8-4-4-4-12 hexadecimal GUID, whatever its version and variant nibbles, in lower case', () => {
  for (const id of [
    '00000000-0000-0000-0000-000000000000',
    'ABCDEF01-2345-0789-C123-456789ABCDEF', // version 0, .NET "reserved" variant: outside RFC 9562
    'f0e1d2c3-b4a5-f697-e8d9-cafebabe0001', // version f
    '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
  ]) {
    assert.equal(guid.parse(id), id.toLowerCase());
    assert.equal(parseGuid(id), id.toLowerCase());
  }
});

test('guid: anything else is refused, with the parameter named', () => {
  for (const bad of [
    '',
    'not-a-guid',
    '3f2504e04f8911d39a0c0305e82c3301',
    '{3f2504e0-4f89-11d3-9a0c-0305e82c3301}',
    '3f2504e0-4f89-11d3-9a0c-0305e82c330g',
    ' 3f2504e0-4f89-11d3-9a0c-0305e82c3301',
  ]) {
    assert.equal(guid.safeParse(bad).success, false, bad);
    assert.throws(
      () => parseGuid(bad, 'orgId'),
      (error: Error & { validationErrors?: Record<string, string[]> }) => {
        assert.ok(error.validationErrors?.['orgId']);
        return true;
      },
    );
  }
  assert.throws(() => parseGuid(42));
});
