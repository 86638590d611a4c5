import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topicMatches } from './topic-pattern';
import { assertPattern, assertQueueName, assertTopic } from './validate';

void describe('topicMatches (AMQP topic semantics)', () => {
  const cases: [pattern: string, topic: string, matches: boolean][] = [
    ['push.user', 'push.user', true],
    ['push.user', 'push.users', false],
    ['push.*', 'push.user', true],
    ['push.*', 'push', false],
    ['push.*', 'push.user.42', false],
    ['*.user', 'user', false],
    ['*', 'push', true],
    ['#', 'push.user.42', true],
    ['push.#', 'push', true],
    ['push.#', 'push.user.42', true],
    ['push.#', 'pushy.user', false],
    ['#.42', '42', true],
    ['#.42', 'push.user.42', true],
    ['#.42', 'push.42.user', false],
    ['push.#.42', 'push.42', true],
    ['push.#.42', 'push.a.b.c.42', true],
    ['push.*.#', 'push', false],
    ['push.*.#', 'push.user', true],
    ['#.#', 'a.b', true],
    ['#.*.#', 'a', true],
    ['a.#.b.#.c', 'a.x.b.y.z.c', true],
    ['a.#.b.#.c', 'a.x.c.b', false],
  ];
  for (const [pattern, topic, expected] of cases) {
    void it(`${pattern} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
      assert.equal(topicMatches(pattern, topic), expected);
    });
  }

  void it('stays fast with many # wildcards', () => {
    const pattern = Array.from({ length: 30 }, () => '#').join('.') + '.z';
    const topic = Array.from({ length: 100 }, () => 'a').join('.');
    const started = Date.now();
    assert.equal(topicMatches(pattern, topic), false);
    assert.ok(Date.now() - started < 100);
  });
});

void describe('bus name validation', () => {
  void it('rejects wildcards in topics and partial wildcards in patterns', () => {
    assert.throws(() => {
      assertTopic('push.#');
    }, TypeError);
    assert.throws(() => {
      assertPattern('push.user*');
    }, TypeError);
    assertPattern('push.*.#');
    assertTopic('push.user-42');
  });

  void it('enforces the AMQP 255-byte limit and reserved queue names', () => {
    assert.throws(() => {
      assertTopic('é'.repeat(128));
    }, RangeError);
    assert.throws(() => {
      assertQueueName('amq.gen-1');
    }, TypeError);
    assertQueueName('push.notifications');
  });
});
