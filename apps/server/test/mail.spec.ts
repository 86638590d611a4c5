import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mailText,
  passwordLogin,
  startServer,
  startSmtpSink,
  type ServerProcess,
  type SmtpSink,
} from '@keyhaven/testing';
import { createAccount, createOrganizationKeys, encryptType2 } from '@keyhaven/vault-crypto';

const PASSWORD = 'correct horse battery staple';

/** With SMTP configured, verification and invitations travel by mail and are not handed back in the response. */
describe('mail through SMTP', () => {
  let smtp: SmtpSink;
  let server: ServerProcess;

  before(async () => {
    smtp = await startSmtpSink();
    server = await startServer({
      env: {
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        SMTP_SECURITY: 'off',
        SMTP_FROM: 'Keyhaven <vault@example.com>',
      },
    });
  });

  after(async () => {
    await server.stop('SIGKILL');
    server.cleanup();
    await smtp.close();
  });

  test('/healthz checks the SMTP server', async () => {
    const health = await server.http.get<{ checks: Record<string, { kind: string; status: string }> }>('/healthz');
    assert.deepEqual(health.body.checks['mail'], { ...health.body.checks['mail'], kind: 'smtp', status: 'ok' });
  });

  test('registration: the verification token arrives by mail and finishes the signup', async () => {
    const email = 'mailed@example.com';
    const sent = await server.http.post('/identity/accounts/register/send-verification-email', {
      json: { email, name: 'Mailed' },
    });
    assert.equal(sent.status, 204);
    assert.equal(sent.text, '', 'the token is not in the response');
    const mail = await smtp.waitFor(email);
    assert.equal(mail.from, 'vault@example.com');
    const link = /https:\/\/\S+#\/finish-signup\?\S+/.exec(mailText(mail))?.[0];
    assert.ok(link, 'the mail carries the finish-signup link');
    const token = new URLSearchParams(link.split('?')[1]).get('token') ?? '';
    const account = await createAccount({ email, password: PASSWORD });
    const forged = await server.http.post('/identity/accounts/register/finish', {
      json: account.registerFinishBody(`${token}x`),
    });
    assert.equal(forged.status, 400);
    const finish = await server.http.post('/identity/accounts/register/finish', {
      json: account.registerFinishBody(token),
    });
    assert.equal(finish.status, 200, finish.text);
  });

  test('an invitation is mailed with the web vault accept link', async () => {
    const owner = await createAccount({ email: 'mail-owner@example.com', password: PASSWORD });
    const legacy = await server.http.post('/identity/accounts/register', {
      json: owner.registerFinishBody('', 'legacy'),
    });
    assert.equal(legacy.status, 400, 'with SMTP configured an address must be verified');
    assert.equal(
      (await server.http.post('/identity/accounts/register/send-verification-email', { json: { email: owner.email } }))
        .status,
      204,
    );
    const verification = /[?&]token=([^&\s]+)/.exec(mailText(await smtp.waitFor(owner.email)))?.[1] ?? '';
    const finished = await server.http.post('/identity/accounts/register/finish', {
      json: owner.registerFinishBody(decodeURIComponent(verification)),
    });
    assert.equal(finished.status, 200, finished.text);
    const session = await passwordLogin(server.http, owner);
    const keys = await createOrganizationKeys(owner.publicKey);
    const org = await server.http.post<{ id: string }>('/api/organizations', {
      token: session.accessToken,
      json: {
        name: 'Mailers & Co',
        billingEmail: owner.email,
        key: keys.key,
        keys: { publicKey: keys.publicKey, encryptedPrivateKey: keys.encryptedPrivateKey },
        collectionName: encryptType2(keys.orgKey, 'c'),
      },
    });
    const invite = await server.http.post<{ data: { id: string; inviteUrl: string | null }[] }>(
      `/api/organizations/${org.body.id}/users/invite`,
      {
        token: session.accessToken,
        json: { emails: ['invitee@example.com'], type: 2 },
      },
    );
    assert.equal(invite.status, 200, invite.text);
    assert.equal(invite.body.data[0]?.inviteUrl, null, 'with SMTP the link is only mailed');
    const text = mailText(await smtp.waitFor('invitee@example.com'));
    const link = /https:\/\/\S+#\/accept-organization\?\S+/.exec(text)?.[0];
    assert.ok(link, 'the mail carries the accept link');
    const params = new URLSearchParams(link.split('?')[1]);
    assert.equal(params.get('organizationId'), org.body.id);
    assert.equal(params.get('organizationUserId'), invite.body.data[0].id);
    assert.equal(params.get('email'), 'invitee@example.com');
    assert.equal(params.get('organizationName'), 'Mailers & Co');
    assert.ok((params.get('token') ?? '').length > 20);
  });
});
