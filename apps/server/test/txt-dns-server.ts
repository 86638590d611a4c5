import { createSocket, type Socket } from 'node:dgram';

/**
 * A DNS server on loopback UDP that answers TXT questions from a table the test fills, and
 * NXDOMAIN for anything else: enough for node:dns's resolver to look a record up for real.
 */
export interface TxtDnsServer {
  /** `address:port`, for CLAIMED_DOMAINS_DNS_SERVERS. */
  readonly address: string;
  readonly records: Map<string, string[]>;
  stop(): Promise<void>;
}

const TYPE_TXT = 16;

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  for (let length = msg[at] ?? 0; length > 0; length = msg[at] ?? 0) {
    labels.push(msg.subarray(at + 1, at + 1 + length).toString('ascii'));
    at += 1 + length;
  }
  return { name: labels.join('.').toLowerCase(), end: at + 1 };
}

function answer(query: Buffer, records: Map<string, string[]>): Buffer {
  const { name, end } = readName(query, 12);
  const type = query.readUInt16BE(end);
  const question = query.subarray(12, end + 4);
  const values = type === TYPE_TXT ? (records.get(name) ?? []) : [];
  const rcode = records.has(name) ? 0 : 3;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(values.length, 6);
  const answers = values.map((value) => {
    const text = Buffer.from(value, 'utf8');
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(TYPE_TXT, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(1, 6);
    rr.writeUInt16BE(text.length + 1, 10);
    return Buffer.concat([rr, Buffer.from([text.length]), text]);
  });
  return Buffer.concat([header, question, ...answers]);
}

export async function startTxtDnsServer(): Promise<TxtDnsServer> {
  const records = new Map<string, string[]>();
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    try {
      socket.send(answer(msg, records), peer.port, peer.address);
    } catch {
      // A malformed question goes unanswered.
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${String(port)}`,
    records,
    stop: () =>
      new Promise<void>((resolve) => {
        socket.close(() => {
          resolve();
        });
      }),
  };
}
