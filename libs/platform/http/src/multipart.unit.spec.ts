import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { KeyhavenError } from '@keyhaven/contracts';
import { multipartFile, registerMultipart } from './multipart';

const BOUNDARY = '----keyhaven-test';

function body(parts: { name: string; filename?: string; value: Buffer | string }[]): Buffer {
  const chunks = parts.flatMap((p) => [
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"` +
        (p.filename === undefined ? '' : `; filename="${p.filename}"\r\nContent-Type: application/octet-stream`) +
        '\r\n\r\n',
    ),
    Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value),
    Buffer.from('\r\n'),
  ]);
  return Buffer.concat([...chunks, Buffer.from(`--${BOUNDARY}--\r\n`)]);
}

void describe('multipartFile', () => {
  let app: FastifyInstance;

  before(async () => {
    app = Fastify();
    await registerMultipart(app);
    app.post('/upload', async (request, reply) => {
      try {
        const upload = await multipartFile(request, 'data', 1000);
        let size = 0;
        for await (const chunk of upload.stream as AsyncIterable<Buffer>) size += chunk.length;
        return { size, truncated: upload.truncated(), fields: upload.fields };
      } catch (error) {
        if (error instanceof KeyhavenError) return reply.code(400).send({ message: error.message });
        throw error;
      }
    });
    await app.ready();
  });

  after(() => app.close());

  const post = (payload: Buffer | string, type = `multipart/form-data; boundary=${BOUNDARY}`) =>
    app.inject({ method: 'POST', url: '/upload', payload, headers: { 'content-type': type } });

  it('streams the `data` part with the fields before it, whatever its file name', async () => {
    const res = await post(
      body([
        { name: 'key', value: '2.abc|def|ghi' },
        { name: 'data', filename: 'cut-after-slash', value: Buffer.alloc(700, 1) },
      ]),
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { size: 700, truncated: false, fields: { key: '2.abc|def|ghi' } });
  });

  it('ends a part past the cap early and says so', async () => {
    const res = await post(body([{ name: 'data', filename: 'f', value: Buffer.alloc(5000, 1) }]));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { size: 1000, truncated: true, fields: {} });
  });

  it('refuses a file under another name, and a body that is not multipart', async () => {
    const wrong = await post(body([{ name: 'file', filename: 'f', value: 'x' }]));
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.json<{ message: string }>().message, /"data"/);
    const json = await post('{}', 'application/json');
    assert.notEqual(json.statusCode, 200);
  });
});
