/**
 * Where a push goes when the bus cannot take it (RabbitMQ down longer than a publish waits): a table in
 * PostgreSQL that every instance relays from once the bus is back (libs/db PushOutbox, scheduled by the
 * runtime). Without one (the all-in-one's in-process bus, which cannot be down) a failed push is only logged.
 */
export interface PushOutbox {
  store(message: unknown): Promise<void>;
}

export const PUSH_OUTBOX = Symbol('PUSH_OUTBOX');
