import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { type ChannelModel, type SocketOptions, connect } from 'amqplib';
import { requireServices, serviceUrls, silentServer } from '@keyhaven/testing';
import type { BusMessage } from '../event-bus.port';
import { describeEventBusContract } from '../testing/event-bus.contract';
import { recordingLogger, settle, succeeds, until } from '../testing/helpers';
import { TcpProxy } from '../testing/tcp-proxy';
import type { AmqpConnector, RabbitMqEventBusOptions } from './options';
import { RabbitMqConnectError, type RabbitMqEventBus, connectRabbitMq } from './rabbitmq-event-bus';

const DELIVERY_LIMIT = 2;
const TEST_TIMEOUT_MS = 20_000;

/** Everything one test creates on the broker, named uniquely so concurrent runs never collide. */
class Topology {
  readonly run = randomUUID().slice(0, 8);
  readonly exchange = `keyhaven.test.${this.run}`;
  private readonly queues: string[] = [];
  private readonly buses: RabbitMqEventBus[] = [];

  queueName(label: string): string {
    const queue = `keyhaven.test.${label}.${this.run}`;
    this.queues.push(queue);
    return queue;
  }

  options(extra: RabbitMqEventBusOptions = {}): RabbitMqEventBusOptions {
    return {
      exchange: this.exchange,
      deliveryLimit: DELIVERY_LIMIT,
      publishTimeoutMs: 5_000,
      connectTimeoutMs: 2_000,
      drainTimeoutMs: 1_000,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      ...extra,
    };
  }

  async bus(extra: RabbitMqEventBusOptions = {}): Promise<RabbitMqEventBus> {
    const bus = await connectRabbitMq(serviceUrls.rabbitmq(), this.options(extra));
    this.buses.push(bus);
    return bus;
  }

  /** Closes every bus, then deletes this test's queues and exchange. */
  async dispose(): Promise<void> {
    await Promise.all(this.buses.map((bus) => bus.close()));
    const admin = await connect(serviceUrls.rabbitmq());
    try {
      const channel = await admin.createChannel();
      for (const queue of this.queues) await channel.deleteQueue(queue);
      await channel.deleteExchange(this.exchange);
      await channel.close();
    } finally {
      await admin.close();
    }
  }
}

describeEventBusContract('RabbitMqEventBus', {
  deliveryLimit: DELIVERY_LIMIT,
  async open(t, options) {
    if (!(await requireServices(t, 'rabbitmq'))) return null;
    const topology = new Topology();
    try {
      // Two connections stand in for two server instances.
      const first = await topology.bus({ logger: options?.logger });
      const second = await topology.bus({ logger: options?.logger });
      return { first, second, queueName: (label) => topology.queueName(label), dispose: () => topology.dispose() };
    } catch (err) {
      await topology.dispose();
      throw err;
    }
  },
});

/**
 * A connector that hands the test each connection it opens and can be switched off, so the test can
 * drop the bus's connection and hold it disconnected for as long as it needs.
 */
class ControlledConnector {
  readonly models: ChannelModel[] = [];
  refuse = false;
  readonly connect: AmqpConnector = async (url: string, socketOptions: SocketOptions) => {
    if (this.refuse) throw new Error('connection refused by the test');
    const model = await connect(url, socketOptions);
    this.models.push(model);
    return model;
  };

  get latest(): ChannelModel {
    const model = this.models.at(-1);
    assert.ok(model, 'no connection opened yet');
    return model;
  }

  /** A network failure (as on ECONNRESET): the socket dies with an error, without an AMQP close handshake. */
  breakConnection(): void {
    this.socket().destroy(new Error('simulated network failure'));
  }

  private socket(): Socket {
    // amqplib keeps the socket on the (untyped) connection; reaching in is the only way to kill it abruptly.
    return (this.latest.connection as unknown as { stream: Socket }).stream;
  }
}

function collector<T>(): { items: T[]; handler: (m: BusMessage<T>) => Promise<void> } {
  const items: T[] = [];
  return {
    items,
    handler: async (m) => {
      items.push(m.payload);
      await Promise.resolve();
    },
  };
}

function rabbitTest(title: string, body: (topology: Topology, t: TestContext) => Promise<void>): void {
  // node:test runs the returned promise itself.
  void it(title, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!(await requireServices(t, 'rabbitmq'))) return;
    const topology = new Topology();
    try {
      await body(topology, t);
    } finally {
      await topology.dispose();
    }
  });
}

void describe('RabbitMqEventBus on RabbitMQ', () => {
  rabbitTest('subscriptions and consumers resume after the connection is closed under them', async (topology) => {
    const connector = new ControlledConnector();
    const first = await topology.bus({ connector: connector.connect });
    const second = await topology.bus();
    const queue = topology.queueName('resume');
    const broadcasts = collector<string>();
    const jobs = collector<string>();
    await first.subscribe('resume.#', broadcasts.handler);
    await first.consume(queue, jobs.handler);

    await connector.latest.close(); // the bus did not ask for this: it must reconnect
    await until('a new connection', () => connector.models.length === 2);
    await until('the bus to be healthy again', () => succeeds(first.ping()));

    await second.publish('resume.after', 'broadcast');
    await second.enqueue(queue, 'job');
    await until(
      'both deliveries on the reconnected bus',
      () => broadcasts.items.length === 1 && jobs.items.length === 1,
    );
    assert.deepEqual(broadcasts.items, ['broadcast']);
    assert.deepEqual(jobs.items, ['job']);
  });

  rabbitTest('publishes made while reconnecting wait, then are delivered', async (topology) => {
    const { logger, entries } = recordingLogger();
    const connector = new ControlledConnector();
    const first = await topology.bus({ connector: connector.connect, logger });
    const second = await topology.bus();
    const queue = topology.queueName('during');
    const own = collector<string>();
    const remote = collector<string>();
    const jobs = collector<string>();
    await first.subscribe('during.#', own.handler);
    await second.subscribe('during.#', remote.handler);
    await second.consume(queue, jobs.handler);

    connector.refuse = true;
    connector.breakConnection();
    await until('the bus to notice', async () => !(await succeeds(first.ping())));
    let settled = false;
    const published = Promise.all([first.publish('during.x', 'broadcast'), first.enqueue(queue, 'job')]).finally(() => {
      settled = true;
    });
    await settle(200);
    assert.equal(settled, false, 'publishes resolve only after the broker confirms');

    connector.refuse = false;
    await published;
    await until('every delivery', () => own.items.length === 1 && remote.items.length === 1 && jobs.items.length === 1);
    assert.deepEqual([own.items, remote.items, jobs.items], [['broadcast'], ['broadcast'], ['job']]);
    assert.ok(entries.some((e) => /connection lost/.test(e.msg)));
    assert.ok(entries.some((e) => /reconnect failed/.test(e.msg)));
  });

  rabbitTest('a publish gives up with a clear error when the outage outlasts publishTimeoutMs', async (topology) => {
    const connector = new ControlledConnector();
    const bus = await topology.bus({ connector: connector.connect, publishTimeoutMs: 300 });
    connector.refuse = true;
    connector.breakConnection();
    await until('the bus to notice', async () => !(await succeeds(bus.ping())));
    await assert.rejects(bus.ping(), /not connected/);
    const started = Date.now();
    await assert.rejects(bus.publish('outage.x', 1), /^Error: RabbitMQ publish to "outage.x" failed: .*not connected/);
    assert.ok(Date.now() - started < 1_000);

    connector.refuse = false;
    await until('recovery', () => succeeds(bus.ping()));
    await bus.publish('outage.x', 2);
  });

  rabbitTest('close() while reconnecting is prompt', async (topology) => {
    const connector = new ControlledConnector();
    const bus = await topology.bus({ connector: connector.connect });
    await bus.subscribe('closing.#', collector<number>().handler);
    connector.refuse = true;
    connector.breakConnection();
    await until('the bus to notice', async () => !(await succeeds(bus.ping())));
    const started = Date.now();
    await bus.close();
    assert.ok(Date.now() - started < 500, 'close waited on the reconnect loop');
    await assert.rejects(bus.ping(), /closed/);
  });

  rabbitTest('close() is bounded on a half-open connection and lets the process exit', async (topology) => {
    const broker = new URL(serviceUrls.rabbitmq());
    const proxy = await TcpProxy.start(broker.hostname, Number(broker.port || 5672));
    try {
      const viaProxy = new URL(broker);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const bus = await connectRabbitMq(viaProxy.toString(), topology.options({ drainTimeoutMs: 300 }));
      await bus.subscribe('halfopen.#', collector<number>().handler);
      await bus.consume(topology.queueName('halfopen'), collector<number>().handler);
      proxy.blackhole(); // the socket stays open, but nothing will ever answer again
      const started = Date.now();
      await bus.close();
      // One drain bound for cancelling consumers, one for the connection's close handshake.
      assert.ok(Date.now() - started < 1_500, `close took ${Date.now() - started} ms`);
    } finally {
      await proxy.close();
    }
  });

  rabbitTest('work whose consumer dies before acking goes to another consumer', async (topology) => {
    const connector = new ControlledConnector();
    const first = await topology.bus({ connector: connector.connect });
    const second = await topology.bus();
    const queue = topology.queueName('handover');
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let startedOnFirst = false;
    await first.consume(queue, async () => {
      startedOnFirst = true;
      await gate; // stuck until the connection is gone
    });
    await second.enqueue(queue, 'job');
    await until('the first consumer to take the job', () => startedOnFirst);
    const taken = collector<string>();
    await second.consume(queue, taken.handler);
    connector.refuse = true;
    connector.breakConnection();
    await until('redelivery to the other instance', () => taken.items.length === 1);
    release();
    assert.deepEqual(taken.items, ['job']);
  });

  rabbitTest('a consumer whose queue is deleted re-declares it and keeps consuming', async (topology) => {
    const bus = await topology.bus();
    const queue = topology.queueName('deleted');
    const jobs = collector<number>();
    await bus.consume(queue, jobs.handler);
    const admin = await connect(serviceUrls.rabbitmq());
    try {
      const channel = await admin.createChannel();
      await channel.deleteQueue(queue);
      await until('the queue to be re-declared', async () => {
        const probe = await admin.createChannel();
        probe.on('error', () => undefined); // checkQueue on a missing queue closes the channel with 404
        return succeeds(probe.checkQueue(queue).then(() => probe.close()));
      });
    } finally {
      await admin.close();
    }
    await bus.enqueue(queue, 1);
    await until('the job', () => jobs.items.length === 1);
  });

  rabbitTest('work queues are quorum queues whose x-delivery-limit the broker enforces', async (topology) => {
    const bus = await topology.bus();
    const queue = topology.queueName('broker-limit');
    await bus.enqueue(queue, 'poison');
    const admin = await connect(serviceUrls.rabbitmq());
    try {
      // Redeclaring as a classic queue must fail: the bus declared a quorum queue.
      const probe = await admin.createChannel();
      probe.on('error', () => undefined);
      await assert.rejects(probe.assertQueue(queue, { durable: true }), /PRECONDITION_FAILED/);

      // A raw consumer that always requeues: only the broker can stop this loop.
      const channel = await admin.createChannel();
      await channel.prefetch(1);
      const deliveryCounts: unknown[] = [];
      await channel.consume(queue, (msg) => {
        if (!msg) return;
        deliveryCounts.push(msg.properties.headers?.['x-delivery-count']);
        channel.nack(msg, false, true);
      });
      await until('the broker to stop redelivering', () => deliveryCounts.length === DELIVERY_LIMIT + 1);
      await settle(300);
      assert.deepEqual(deliveryCounts, [undefined, 1, 2]);
      const { messageCount } = await channel.checkQueue(queue);
      assert.equal(messageCount, 0, 'the poison message was dropped');
    } finally {
      await admin.close();
    }
  });

  rabbitTest('stamps instanceId as originId across instances', async (topology) => {
    const first = await topology.bus({ instanceId: 'instance-a' });
    const second = await topology.bus({ instanceId: 'instance-b' });
    const origins: (string | undefined)[] = [];
    await second.subscribe('origin.#', async (m) => {
      origins.push(m.originId);
      await Promise.resolve();
    });
    await first.publish('origin.x', 1);
    await second.publish('origin.x', 2);
    await until('both', () => origins.length === 2);
    assert.deepEqual([...origins].sort(), ['instance-a', 'instance-b']);
  });
});

void describe('connectRabbitMq', () => {
  void it('fails fast with a short, credential-free error when nothing listens', async () => {
    const { port, close } = await silentServer();
    await close(); // now a port that refuses connections
    const started = Date.now();
    await assert.rejects(connectRabbitMq(`amqp://guest:hunter2@127.0.0.1:${port}`), (err: unknown) => {
      assert.ok(err instanceof RabbitMqConnectError);
      assert.match(err.message, new RegExp(`^cannot connect to RabbitMQ at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
      assert.doesNotMatch(err.message, /hunter2/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
    assert.ok(Date.now() - started < 2_000);
  });

  void it('times out when the server never answers the handshake', async () => {
    const server = await silentServer();
    try {
      const started = Date.now();
      await assert.rejects(
        connectRabbitMq(`amqp://127.0.0.1:${server.port}`, { connectTimeoutMs: 200 }),
        /^RabbitMqConnectError: cannot connect to RabbitMQ at 127\.0\.0\.1:\d+: connect ETIMEDOUT$/,
      );
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await server.close();
    }
  });
});
