import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '@keyhaven/http';

/** Open hub connections on this instance, after the handshake (`hub`: user or anonymous). */
export const hubConnectionsGauge = new Gauge({
  name: 'keyhaven_hub_connections',
  help: 'Open notifications hub connections on this instance',
  labelNames: ['hub'] as const,
  registers: [metricsRegistry],
});

/** Messages handed to connections, by push type. */
export const hubDeliveries = new Counter({
  name: 'keyhaven_hub_messages_delivered_total',
  help: 'Hub messages sent to client connections',
  registers: [metricsRegistry],
});

/** Connections the hub ended, by why (timeout, bad input, slow consumer, expired, logged out). */
export const hubClosures = new Counter({
  name: 'keyhaven_hub_connections_closed_total',
  help: 'Hub connections closed by the server, by reason',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});
