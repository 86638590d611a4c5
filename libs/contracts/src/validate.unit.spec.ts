import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { KeyhavenError } from './errors';
import { parseBody, parseBodyInSlices } from './validate';

const item = z.object({ name: z.string(), n: z.number().int().default(0) });
const head = z.object({ items: z.array(z.unknown()).max(2_000), label: z.string().default('none') });
const whole = head.extend({ items: z.array(item).max(2_000) });

async function refusal(work: () => unknown): Promise<KeyhavenError> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof KeyhavenError, `expected a KeyhavenError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the body to be refused');
}

test('the sliced validation returns what one parse of the whole schema returns, across many slices', async () => {
  const body = { items: Array.from({ length: 1_234 }, (_, i) => ({ name: `item ${i}`, extra: true })), other: 1 };
  assert.deepEqual(await parseBodyInSlices(head, 'items', item, body), parseBody(whole, body));
});

test('an item at fault in a later slice is named by its index, as parseBody names it', async () => {
  const items = Array.from({ length: 1_100 }, (_, i) => ({ name: `item ${i}` }));
  const body = { items: [...items.slice(0, 1_042), { name: 7 }, ...items.slice(1_043)] };
  const sliced = await refusal(() => parseBodyInSlices(head, 'items', item, body));
  const whole_ = await refusal(() => parseBody(whole, body));
  assert.deepEqual(Object.keys(sliced.validationErrors ?? {}), ['items.1042.name']);
  assert.equal(sliced.message, whole_.message);
  assert.equal(sliced.code, 'bad_request');
});

test('the head is validated first: a missing array, too many items, a bad head field', async () => {
  const missing = await refusal(() => parseBodyInSlices(head, 'items', item, {}));
  assert.deepEqual(missing.validationErrors, { items: ['The field is required.'] });
  const tooMany = await refusal(() =>
    parseBodyInSlices(head, 'items', item, { items: Array.from({ length: 2_001 }, () => ({ name: 'x' })) }),
  );
  assert.deepEqual(Object.keys(tooMany.validationErrors ?? {}), ['items']);
  const label = await refusal(() => parseBodyInSlices(head, 'items', item, { items: [], label: 5 }));
  assert.deepEqual(Object.keys(label.validationErrors ?? {}), ['label']);
});
