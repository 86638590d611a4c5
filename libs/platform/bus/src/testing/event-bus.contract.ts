import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BusMessage, EventBus } from '../event-bus.port';
import type { BusLogger } from '../logger';
import { recordingLogger, settle, until } from './helpers';

export interface EventBusFixture {
  /**
   * Two buses on one backend, standing in for two server instances (for RabbitMQ, two connections).
   * The in-process harness passes the same bus twice, since all-in-one mode is one instance.
   */
  readonly first: EventBus;
  readonly second: EventBus;
  /** A work-queue name unique to this run; dispose() deletes it. */
  readonly queueName: (label: string) => string;
  /** Closes both buses and deletes what the test created. */
  dispose(): Promise<void>;
}

export interface EventBusContractHarness {
  /** The work-queue delivery limit the buses from open() are configured with. */
  readonly deliveryLimit: number;
  /** Called first in every test body; null when the test was skipped (service down locally). */
  open(t: TestContext, options?: { logger?: BusLogger }): Promise<EventBusFixture | null>;
}

const TEST_TIMEOUT_MS = 20_000;
/** A payload that must never show up in logs. */
const POISON = 'payload-3f9c-must-not-be-logged';

/** Shared behaviour of every EventBus adapter; each adapter's spec calls this once. */
export function describeEventBusContract(name: string, harness: EventBusContractHarness): void {
  const contractTest = (
    title: string,
    body: (fx: EventBusFixture) => Promise<void>,
    options?: { logger?: BusLogger },
  ): void => {
    // node:test runs the returned promise itself; nothing to await here.
    void it(title, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const fx = await harness.open(t, options);
      if (!fx) return;
      try {
        await body(fx);
      } finally {
        await fx.dispose();
      }
    });
  };

  // node:test collects the suite from this call; the returned promise needs no handling.
  void describe(`${name} satisfies the EventBus contract`, () => {
    contractTest('delivers topic, JSON payload and originId, never inside publish', async ({ first }) => {
      const got: BusMessage[] = [];
      await first.subscribe('contract.hello', async (m) => {
        got.push(m);
        await Promise.resolve();
      });
      const publishing = first.publish('contract.hello', { n: 1, at: new Date(0), list: [true, null] });
      assert.equal(got.length, 0, 'the handler ran inside publish');
      await publishing;
      await until('the message', () => got.length === 1);
      const [message] = got;
      assert.ok(message);
      assert.equal(message.topic, 'contract.hello');
      assert.deepEqual(message.payload, { n: 1, at: '1970-01-01T00:00:00.000Z', list: [true, null] });
      assert.equal(typeof message.originId, 'string');
    });

    contractTest('a broadcast reaches every subscriber on every instance', async ({ first, second }) => {
      const counts: [number, number, number] = [0, 0, 0];
      const count = (i: 0 | 1 | 2) => async (): Promise<void> => {
        counts[i] += 1;
        await Promise.resolve();
      };
      await first.subscribe('push.user.*', count(0));
      await first.subscribe('push.user.*', count(1));
      await second.subscribe('push.user.*', count(2));
      await first.publish('push.user.42', { type: 'sync' });
      await until('all three subscribers', () => counts.every((c) => c === 1));
      await settle();
      assert.deepEqual(counts, [1, 1, 1]);
    });

    contractTest('routes with AMQP topic semantics (* one word, # zero or more)', async ({ first, second }) => {
      const topics = ['push', 'push.user', 'push.user.42', 'push.org.42', 'user', 'pushy.user', 'event.collect'];
      const expected: Record<string, string[]> = {
        push: ['push'],
        'push.*': ['push.user'],
        'push.#': ['push', 'push.user', 'push.user.42', 'push.org.42'],
        'push.*.42': ['push.user.42', 'push.org.42'],
        'push.#.42': ['push.user.42', 'push.org.42'],
        '#.42': ['push.user.42', 'push.org.42'],
        '*.user': ['push.user', 'pushy.user'],
        '#.user': ['push.user', 'user', 'pushy.user'],
        '*': ['push', 'user'],
        '#': topics,
        'event.collect.#': ['event.collect'],
      };
      const received = new Map<string, string[]>();
      for (const pattern of Object.keys(expected)) {
        const list: string[] = [];
        received.set(pattern, list);
        await second.subscribe(pattern, async (m) => {
          list.push(m.topic);
          await Promise.resolve();
        });
      }
      for (const topic of topics) await first.publish(topic, null);
      const sorted = (list: readonly string[] | undefined): string[] => [...(list ?? [])].sort();
      const allArrived = (): boolean =>
        Object.entries(expected).every(([p, want]) => (received.get(p)?.length ?? 0) >= want.length);
      await until('every pattern to receive its topics', allArrived);
      await settle();
      for (const [pattern, want] of Object.entries(expected)) {
        assert.deepEqual(sorted(received.get(pattern)), sorted(want), `pattern ${pattern}`);
      }
    });

    contractTest('closing a subscription stops its deliveries, and only its own', async ({ first, second }) => {
      const a: unknown[] = [];
      const b: unknown[] = [];
      const subA = await first.subscribe('unsub.#', async (m) => {
        a.push(m.payload);
        await Promise.resolve();
      });
      await second.subscribe('unsub.#', async (m) => {
        b.push(m.payload);
        await Promise.resolve();
      });
      await first.publish('unsub.x', 1);
      await until('both subscribers', () => a.length === 1 && b.length === 1);
      await subA.close();
      await subA.close(); // idempotent
      await first.publish('unsub.x', 2);
      await until('the remaining subscriber', () => b.length === 2);
      await settle();
      assert.deepEqual(a, [1]);
    });

    contractTest('a throwing subscriber is logged, not thrown, and later messages still arrive', async ({ first }) => {
      const got: unknown[] = [];
      await first.subscribe('flaky.#', async (m) => {
        await Promise.resolve();
        if (m.payload === 'boom') throw new Error('subscriber failure');
        got.push(m.payload);
      });
      await first.publish('flaky.x', 'boom');
      await first.publish('flaky.x', 'fine');
      await until('the later message', () => got.length === 1);
      assert.deepEqual(got, ['fine']);
    });

    contractTest('a work queue hands each message to exactly one consumer', async ({ first, second, queueName }) => {
      const queue = queueName('once');
      const byConsumer: [number[], number[]] = [[], []];
      const handler = (i: 0 | 1) => async (m: BusMessage<number>) => {
        byConsumer[i].push(m.payload);
        await sleep(2);
      };
      await first.consume(queue, handler(0), { prefetch: 5 });
      await second.consume(queue, handler(1), { prefetch: 5 });
      const ids = Array.from({ length: 50 }, (_, i) => i);
      await Promise.all(ids.map((id) => first.enqueue(queue, id)));
      await until('all 50 messages', () => byConsumer[0].length + byConsumer[1].length >= 50);
      await settle();
      const all = [...byConsumer[0], ...byConsumer[1]].sort((x, y) => x - y);
      assert.deepEqual(all, ids, 'every message exactly once');
      assert.ok(byConsumer[0].length > 0 && byConsumer[1].length > 0, 'both consumers took a share');
    });

    contractTest('messages enqueued before any consumer are delivered once one attaches', async (fx) => {
      const queue = fx.queueName('buffered');
      for (let i = 0; i < 5; i++) await fx.first.enqueue(queue, i);
      await settle(50);
      const got: number[] = [];
      await fx.second.consume<number>(queue, async (m) => {
        got.push(m.payload);
        await Promise.resolve();
      });
      await until('the buffered messages', () => got.length === 5);
      assert.deepEqual(got, [0, 1, 2, 3, 4]);
    });

    contractTest('a message whose handler throws is redelivered', async ({ first, queueName }) => {
      const queue = queueName('retry');
      const attempts = new Map<string, number>();
      const done: string[] = [];
      await first.consume<string>(queue, async (m) => {
        await Promise.resolve();
        const n = (attempts.get(m.payload) ?? 0) + 1;
        attempts.set(m.payload, n);
        if (n === 1) throw new Error('transient failure');
        done.push(m.payload);
      });
      for (const id of ['a', 'b', 'c']) await first.enqueue(queue, id);
      await until('every message to succeed', () => done.length === 3);
      await settle();
      assert.deepEqual([...done].sort(), ['a', 'b', 'c']);
      assert.deepEqual([...attempts.values()], [2, 2, 2]);
    });

    {
      const { logger, entries } = recordingLogger();
      contractTest(
        'a message that keeps failing is dropped after the delivery limit, with an error logged',
        async ({ first, queueName }) => {
          const queue = queueName('poison');
          let poisonAttempts = 0;
          const fine: unknown[] = [];
          await first.consume(queue, async (m) => {
            await Promise.resolve();
            if (m.payload !== POISON) {
              fine.push(m.payload);
              return;
            }
            poisonAttempts += 1;
            throw new Error('always fails');
          });
          await first.enqueue(queue, POISON);
          const limit = harness.deliveryLimit;
          await until('the drop to be logged', () => entries.some((e) => e.level === 'error'));
          await first.enqueue(queue, 'after');
          await until('the queue to keep working', () => fine.length === 1);
          await settle();
          assert.equal(poisonAttempts, limit + 1, 'first delivery plus deliveryLimit redeliveries');
          const errors = entries.filter((e) => e.level === 'error');
          assert.equal(errors.length, 1);
          const [error] = errors;
          assert.ok(error);
          assert.match(error.msg, /delivery limit/);
          assert.equal(JSON.stringify(entries).includes(POISON), false, 'payloads are never logged');
        },
        { logger },
      );
    }

    contractTest('prefetch bounds how many handlers a consumer runs at once', async ({ first, queueName }) => {
      const queue = queueName('prefetch');
      for (let i = 0; i < 6; i++) await first.enqueue(queue, i);
      let active = 0;
      let maxActive = 0;
      let done = 0;
      await first.consume(
        queue,
        async () => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          await sleep(30);
          active -= 1;
          done += 1;
        },
        { prefetch: 2 },
      );
      await until('all six', () => done === 6);
      assert.equal(maxActive, 2);
    });

    contractTest('rejects invalid input identically', async ({ first, queueName }) => {
      const queue = queueName('invalid');
      const noop = async (): Promise<void> => {
        await Promise.resolve();
      };
      await assert.rejects(first.publish('push.*', 1), TypeError);
      await assert.rejects(first.publish('', 1), TypeError);
      await assert.rejects(first.publish('push.user', undefined), TypeError);
      await assert.rejects(first.publish('push.user', { big: 1n }), TypeError);
      await assert.rejects(first.subscribe('push*', noop), TypeError);
      await assert.rejects(first.enqueue('amq.reserved', 1), TypeError);
      await assert.rejects(
        first.enqueue(queue, () => 1),
        TypeError,
      );
      await assert.rejects(first.consume(queue, noop, { prefetch: 0 }), RangeError);
    });

    contractTest('ping resolves while open; after close everything rejects', async ({ first, queueName }) => {
      const queue = queueName('closed');
      const noop = async (): Promise<void> => {
        await Promise.resolve();
      };
      await first.ping();
      await first.close();
      await first.close(); // idempotent
      await assert.rejects(first.ping(), /closed/);
      await assert.rejects(first.publish('push.user', 1), /closed/);
      await assert.rejects(first.enqueue(queue, 1), /closed/);
      await assert.rejects(first.subscribe('push.#', noop), /closed/);
      await assert.rejects(first.consume(queue, noop), /closed/);
    });
  });
}
