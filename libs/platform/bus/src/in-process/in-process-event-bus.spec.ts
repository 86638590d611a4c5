import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BusHandler } from '../event-bus.port';
import { describeEventBusContract } from '../testing/event-bus.contract';
import { recordingLogger, settle, until } from '../testing/helpers';
import { InProcessEventBus } from './in-process-event-bus';

const DELIVERY_LIMIT = 2;

describeEventBusContract('InProcessEventBus', {
  deliveryLimit: DELIVERY_LIMIT,
  open(_t, options) {
    // All-in-one mode is a single instance, so "both instances" are the same bus.
    const bus = new InProcessEventBus({ deliveryLimit: DELIVERY_LIMIT, logger: options?.logger });
    return Promise.resolve({ first: bus, second: bus, queueName: (label) => label, dispose: () => bus.close() });
  },
});

void describe('InProcessEventBus', () => {
  void it('stamps its instanceId as originId', async () => {
    const bus = new InProcessEventBus({ instanceId: 'instance-a' });
    try {
      const origins: (string | undefined)[] = [];
      await bus.subscribe('#', async (m) => {
        origins.push(m.originId);
        await Promise.resolve();
      });
      await bus.publish('x', 1);
      await until('the message', () => origins.length === 1);
      assert.deepEqual(origins, ['instance-a']);
    } finally {
      await bus.close();
    }
  });

  void it('round-robins evenly between consumers with spare capacity', async () => {
    const bus = new InProcessEventBus();
    try {
      const counts: [number, number] = [0, 0];
      const handler = (i: 0 | 1) => async (): Promise<void> => {
        counts[i] += 1;
        await Promise.resolve();
      };
      await bus.consume('rr', handler(0));
      await bus.consume('rr', handler(1));
      for (let i = 0; i < 20; i++) await bus.enqueue('rr', i);
      await until('all messages', () => counts[0] + counts[1] === 20);
      assert.deepEqual(counts, [10, 10]);
    } finally {
      await bus.close();
    }
  });

  void it('survives handlers that throw synchronously', async () => {
    const { logger, entries } = recordingLogger();
    const bus = new InProcessEventBus({ logger, deliveryLimit: 0 });
    try {
      const throwsNow: BusHandler = () => {
        throw new Error('sync failure');
      };
      await bus.subscribe('sync.#', throwsNow);
      await bus.consume('sync', throwsNow);
      await bus.publish('sync.x', 1);
      await bus.enqueue('sync', 1);
      await until('both failures to be logged', () => entries.filter((e) => e.level === 'error').length === 2);
    } finally {
      await bus.close();
    }
  });

  void it('a consumer closed mid-handler leaves failed work for the others', async () => {
    const bus = new InProcessEventBus();
    try {
      let release = (): void => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = false;
      const first = await bus.consume('handover', async () => {
        started = true;
        await gate;
        throw new Error('failed while shutting down');
      });
      await bus.enqueue('handover', 'job');
      await until('the first consumer to start', () => started);
      const closing = first.close();
      const got: unknown[] = [];
      await bus.consume('handover', async (m) => {
        got.push(m.payload);
        await Promise.resolve();
      });
      release();
      await closing;
      await until('the second consumer to get the job', () => got.length === 1);
      await settle(50);
      assert.deepEqual(got, ['job']);
    } finally {
      await bus.close();
    }
  });

  void it('warns about buffered work dropped at close', async () => {
    const { logger, entries } = recordingLogger();
    const bus = new InProcessEventBus({ logger });
    await bus.enqueue('nobody-listens', 1);
    await bus.close();
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.ok(entry);
    assert.match(entry.msg, /dropping undelivered/);
  });
});
