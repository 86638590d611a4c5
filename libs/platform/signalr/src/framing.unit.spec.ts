import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonHubProtocol, MessageType as ClientMessageType, NullLogger, type HubMessage } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import {
  FramingError,
  handshakeResponse,
  hubProtocolNamed,
  jsonHubProtocol,
  messagePackHubProtocol,
  negotiateResponse,
  parseHandshake,
  parseHandshakeResponse,
  readVarint,
  writeVarint,
} from './index';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const arrayBuffer = (b: Buffer): ArrayBuffer => new Uint8Array(b).buffer;

void describe('SignalR framing', () => {
  void it('writes and reads varints as SignalR does (7-bit groups, low first, high bit continues)', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [0x7f, '7f'],
      [0x80, '8001'],
      [300, 'ac02'],
      [16384, '808001'],
      [0x7fffffff, 'ffffffff07'],
    ];
    for (const [value, bytes] of cases) {
      assert.equal(hex(writeVarint(value)), bytes, `write ${value}`);
      assert.deepEqual(readVarint(Buffer.from(bytes, 'hex')), { value, size: bytes.length / 2 }, `read ${value}`);
    }
    assert.equal(readVarint(Buffer.from('80', 'hex')), null, 'incomplete');
    assert.throws(() => readVarint(Buffer.from('ffffffff7f', 'hex')), FramingError);
    assert.throws(() => readVarint(Buffer.from('8080808080', 'hex')), FramingError);
    assert.throws(() => writeVarint(-1), RangeError);
  });

  void it('parses the handshake request and keeps the bytes after the separator', () => {
    const parsed = parseHandshake(
      Buffer.concat([Buffer.from('{"protocol":"messagepack","version":1}\u001e'), Buffer.from('029106', 'hex')]),
      1024,
    );
    assert.ok(parsed);
    assert.deepEqual(parsed.request, { protocol: 'messagepack', version: 1 });
    assert.equal(hex(parsed.rest), '029106');
    assert.equal(parseHandshake('{"protocol":"json"', 1024), null, 'incomplete');
    assert.throws(() => parseHandshake('nonsense\u001e', 1024), FramingError);
    assert.throws(() => parseHandshake('[1]\u001e', 1024), FramingError);
    assert.throws(() => parseHandshake('{"protocol":"json"}\u001e', 1024), FramingError);
    assert.throws(() => parseHandshake('x'.repeat(2000), 1024), FramingError);
  });

  void it('answers the handshake with {} or {"error"} and the record separator', () => {
    assert.equal(hex(handshakeResponse()), '7b7d1e');
    assert.equal(handshakeResponse('bad').toString('utf8'), '{"error":"bad"}\u001e');
    assert.deepEqual(parseHandshakeResponse(Buffer.concat([handshakeResponse(), messagePackHubProtocol.ping()])), {
      rest: messagePackHubProtocol.ping(),
    });
    assert.equal(parseHandshakeResponse(handshakeResponse('bad'))?.error, 'bad');
    assert.equal(parseHandshakeResponse('{'), null);
  });

  void it('writes MessagePack ping, close and invocation byte for byte', () => {
    assert.equal(hex(messagePackHubProtocol.ping()), '029106');
    // [7, nil, true]
    assert.equal(hex(messagePackHubProtocol.close(null, true)), '0493 07 c0 c3'.replaceAll(' ', ''));
    // [7, "x", false]
    assert.equal(hex(messagePackHubProtocol.close('x', false)), '0593 07 a178 c2'.replaceAll(' ', ''));
    // [1, {}, nil, "T", [{"A": 1}]]
    assert.equal(
      hex(messagePackHubProtocol.invocation('T', [{ A: 1 }])),
      '0b95 01 80 c0 a154 91 81 a141 01'.replaceAll(' ', ''),
    );
    // A Date becomes the timestamp extension (-1): fixext 8 (d7 ff) here, since it has milliseconds.
    const dated = messagePackHubProtocol.invocation('T', [new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))]);
    assert.ok(hex(dated).includes('d7ff'), hex(dated));
  });

  void it('writes JSON ping, close and invocation byte for byte', () => {
    assert.equal(jsonHubProtocol.ping().toString('utf8'), '{"type":6}\u001e');
    assert.equal(jsonHubProtocol.close(null, true).toString('utf8'), '{"type":7,"allowReconnect":true}\u001e');
    assert.equal(jsonHubProtocol.close('expired', false).toString('utf8'), '{"type":7,"error":"expired"}\u001e');
    assert.equal(
      jsonHubProtocol.invocation('ReceiveMessage', [{ Type: 1 }]).toString('utf8'),
      '{"type":1,"target":"ReceiveMessage","arguments":[{"Type":1}]}\u001e',
    );
  });

  void it('what it writes, the official client protocols read (and the other way round)', () => {
    const payload = { ContextId: null, Type: 1, Payload: { Id: 'abc', RevisionDate: new Date(1767225600123) } };
    const officialMsgpack = new MessagePackHubProtocol();
    const read = officialMsgpack.parseMessages(
      arrayBuffer(
        Buffer.concat([messagePackHubProtocol.invocation('ReceiveMessage', [payload]), messagePackHubProtocol.ping()]),
      ),
      NullLogger.instance,
    );
    assert.equal(read.length, 2);
    const invocation = read[0] as HubMessage & { target: string; arguments: unknown[] };
    assert.equal(invocation.type, ClientMessageType.Invocation);
    assert.equal(invocation.target, 'ReceiveMessage');
    assert.deepEqual(invocation.arguments, [payload]);
    assert.equal(read[1]?.type, ClientMessageType.Ping);
    const closed = officialMsgpack.parseMessages(
      arrayBuffer(messagePackHubProtocol.close('gone', true)),
      NullLogger.instance,
    );
    assert.deepEqual(closed, [{ type: ClientMessageType.Close, error: 'gone', allowReconnect: true }]);

    const officialJson = new JsonHubProtocol();
    const readJson = officialJson.parseMessages(
      jsonHubProtocol.invocation('ReceiveMessage', [{ Type: 8 }]).toString('utf8') +
        jsonHubProtocol.close(null, false).toString('utf8'),
      NullLogger.instance,
    );
    assert.deepEqual(readJson[0], { type: 1, target: 'ReceiveMessage', arguments: [{ Type: 8 }] });
    assert.equal(readJson[1]?.type, ClientMessageType.Close);

    // The client's own frames parse here.
    const clientPing = Buffer.from(officialMsgpack.writeMessage({ type: ClientMessageType.Ping }));
    assert.equal(hex(clientPing), '029106');
    const parsed = messagePackHubProtocol.parse(Buffer.alloc(0), clientPing, 4096);
    assert.deepEqual(parsed.messages, [{ type: 6 }]);
    const jsonPing = officialJson.writeMessage({ type: ClientMessageType.Ping });
    assert.deepEqual(jsonHubProtocol.parse(Buffer.alloc(0), jsonPing, 4096).messages[0]?.type, 6);
  });

  void it('cuts messages across chunks and keeps the incomplete tail', () => {
    const two = Buffer.concat([messagePackHubProtocol.ping(), messagePackHubProtocol.invocation('T', [1])]);
    const first = messagePackHubProtocol.parse(Buffer.alloc(0), two.subarray(0, 5), 4096);
    assert.equal(first.messages.length, 1);
    const second = messagePackHubProtocol.parse(first.rest, two.subarray(5), 4096);
    assert.deepEqual(second.messages, [{ type: 1, target: 'T', arguments: [1] }]);
    assert.equal(second.rest.length, 0);

    const json = jsonHubProtocol.parse(Buffer.alloc(0), '{"type":6}\u001e{"type":', 4096);
    assert.equal(json.messages.length, 1);
    assert.equal(jsonHubProtocol.parse(json.rest, '7}\u001e', 4096).messages[0]?.type, 7);
  });

  void it('refuses garbage and oversized messages with a FramingError', () => {
    const empty = Buffer.alloc(0);
    assert.throws(() => jsonHubProtocol.parse(empty, 'hello\u001e', 4096), FramingError);
    assert.throws(() => jsonHubProtocol.parse(empty, '{"x":1}\u001e', 4096), FramingError);
    assert.throws(() => jsonHubProtocol.parse(empty, `{"type":6,"p":"${'a'.repeat(100)}"}\u001e`, 64), FramingError);
    assert.throws(() => jsonHubProtocol.parse(empty, 'a'.repeat(100), 64), FramingError, 'tail too large');
    assert.throws(() => messagePackHubProtocol.parse(empty, Buffer.from('01c1', 'hex'), 4096), FramingError);
    assert.throws(() => messagePackHubProtocol.parse(empty, Buffer.from('0106', 'hex'), 4096), FramingError);
    assert.throws(() => messagePackHubProtocol.parse(empty, Buffer.from('ff7f', 'hex'), 4096), FramingError);
    assert.throws(() => messagePackHubProtocol.parse(empty, Buffer.from('ffffffff7f', 'hex'), 4096), FramingError);
  });

  void it('names the two protocols and nothing else', () => {
    assert.equal(hubProtocolNamed('json'), jsonHubProtocol);
    assert.equal(hubProtocolNamed('messagepack'), messagePackHubProtocol);
    assert.equal(hubProtocolNamed('blazorpack'), undefined);
  });

  void it('negotiates WebSockets only, with a connection token from version 1', () => {
    const v1 = negotiateResponse(1);
    assert.equal(v1.negotiateVersion, 1);
    assert.ok(v1.connectionToken && v1.connectionToken !== v1.connectionId);
    assert.deepEqual(v1.availableTransports, [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }]);
    const v0 = negotiateResponse(0);
    assert.equal(v0.negotiateVersion, 0);
    assert.equal(v0.connectionToken, undefined);
  });
});
