import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  constants,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomUUID,
} from 'node:crypto';
import { createAccount, type Account } from '@keyhaven/vault-crypto';
import { HttpClient, passwordLogin, requireServices, type ServerProcess } from '@keyhaven/testing';
import { connectHub, type HubClient } from './notifications-clients';
import { startSplitApps, type SplitApps } from './split-stack';

/** One public URL for every service, as behind a load balancer: tokens name it as their issuer. */
const SHARED_DOMAIN = 'https://vault.keyhaven.test';
const APPROVER_DEVICE = '2d4f6a8c-0e1a-4c3e-8a5c-7e9a1c3e5a7c';
const REQUESTER_DEVICE = '9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4';

/**
 * Login with device across instances: the request is made through one api instance, approved
 * through another, and the waiting device hears the answer on a notifications instance that only
 * the RabbitMQ bus connects to them; the login then completes through the identity service.
 */
describe('login with device as split apps: request and approval on different api instances, the answer through the bus', () => {
  let stack: SplitApps | undefined;
  let identity: ServerProcess;
  let apiA: ServerProcess;
  let apiB: ServerProcess;
  let hub: ServerProcess;
  let account: Account;
  const clients: HubClient[] = [];

  before(async () => {
    if (!(await requireServices({ skip: () => undefined }, 'postgres', 'redis', 'rabbitmq'))) return;
    stack = await startSplitApps(['identity', 'api', 'api', 'notifications'], SHARED_DOMAIN);
    [identity, apiA, apiB, hub] = stack.servers as [ServerProcess, ServerProcess, ServerProcess, ServerProcess];
    account = await createAccount({ email: `split-lwd-${Date.now()}@example.com`, password: 'split device password' });
    const registered = await identity.http.post('/identity/accounts/register', {
      json: account.registerFinishBody('', 'legacy'),
    });
    assert.equal(registered.status, 200, registered.text);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.stop().catch(() => undefined)));
    await stack?.stop('SIGKILL');
  });

  test('the waiting device on the hub hears an approval made through another api instance, then logs in and syncs', async (t) => {
    if (!(await requireServices(t, 'postgres', 'redis', 'rabbitmq'))) return;
    const identityHttp = new HttpClient(identity.url);
    const approver = await passwordLogin(identityHttp, account, {}, APPROVER_DEVICE);
    await passwordLogin(identityHttp, account, {}, REQUESTER_DEVICE);
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const publicKey = pair.publicKey.toString('base64');
    const accessCode = randomUUID().replace(/-/g, '').slice(0, 25);

    const created = await apiA.http.post<{ id: string }>('/api/auth-requests', {
      json: { email: account.email, publicKey, deviceIdentifier: REQUESTER_DEVICE, accessCode, type: 0 },
    });
    assert.equal(created.status, 200, created.text);
    const id = created.body.id;
    const waiting = await connectHub({
      baseUrl: hub.url,
      caPath: undefined,
      protocol: 'messagepack',
      path: `anonymous-hub?Token=${id}`,
    });
    clients.push(waiting);

    const userKey = Buffer.concat([account.userKey.encKey, account.userKey.macKey]);
    const key = createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' });
    const encrypted = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, userKey);
    const approved = await apiB.http.put(`/api/auth-requests/${id}`, {
      token: approver.accessToken,
      json: { key: `4.${encrypted.toString('base64')}`, deviceIdentifier: APPROVER_DEVICE, requestApproved: true },
    });
    assert.equal(approved.status, 200, approved.text);
    const { message } = await waiting.next((n) => n.Type === 16, 5000);
    assert.equal(message.Payload['Id'], id);

    const response = await apiA.http.get<{ key: string; requestApproved: boolean }>(
      `/api/auth-requests/${id}/response?code=${accessCode}`,
    );
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.requestApproved, true);
    const decrypted = privateDecrypt(
      { key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(response.body.key.slice(2), 'base64'),
    );
    assert.ok(decrypted.equals(userKey));

    const login = await identityHttp.post<Record<string, unknown>>('/identity/connect/token', {
      form: {
        scope: 'api offline_access',
        client_id: 'cli',
        deviceType: '25',
        deviceIdentifier: REQUESTER_DEVICE,
        deviceName: 'linux',
        grant_type: 'password',
        username: account.email,
        password: accessCode,
        authRequest: id,
      },
    });
    assert.equal(login.status, 200, login.text);
    const sync = await apiB.http.get('/api/sync', { token: String(login.body['access_token']) });
    assert.equal(sync.status, 200);
  });
});
