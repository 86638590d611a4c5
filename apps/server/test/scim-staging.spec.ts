import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSmtpSink, type SmtpSink } from '@keyhaven/testing';
import { describeOnBackends, startAllInOne, type BackedServer } from './backends';
import { MemberStatus, call, createOrg, ok, type Org, type Person } from './org-fixtures';
import { registerByMail } from './recovery-fixtures';
import { ScimClient, USER_SCHEMA } from './scim-fixtures';

/**
 * A SCIM connection with `inviteUsersAfterProvisioning: false` stages members: created through SCIM
 * without the invitation mail, until an admin sends it. Bitwarden's server marks them with a status 3
 * (Staged, ENTERPRISE.md §4) that no official client knows (their OrganizationUserStatusType ends at
 * Confirmed), so Keyhaven keeps them Invited, which the web vault shows with its "resend invitation".
 */
describeOnBackends('SCIM staging without the invitation mail', (backend) => {
  let server: BackedServer;
  let smtp: SmtpSink;
  let owner: Person;

  before(async () => {
    smtp = await startSmtpSink();
    server = await startAllInOne(backend, {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_SECURITY: 'off',
      SMTP_FROM: 'Keyhaven <vault@example.com>',
    });
    // With mail delivered, registration goes through the verification mail, as the web vault's does.
    owner = await registerByMail(server.http, smtp, `owner-${backend}@example.com`);
  });

  after(async () => {
    await server.stop();
    await smtp.close();
  });

  /** An organization with SCIM on, its connection's invite setting as given, and a client with its key. */
  async function scimOrg(name: string, inviteUsersAfterProvisioning: boolean): Promise<{ org: Org; scim: ScimClient }> {
    const org = await createOrg(server.http, owner, name);
    ok(
      await call(server.http, owner.token, 'POST', '/api/organizations/connections', {
        type: 2,
        organizationId: org.id,
        enabled: true,
        config: { enabled: true, scimProvider: 1, inviteUsersAfterProvisioning },
      }),
      'SCIM connection',
    );
    const key = ok(
      await call<{ apiKey: string }>(server.http, owner.token, 'POST', `/api/organizations/${org.id}/api-key`, {
        type: 2,
        masterPasswordHash: owner.account.masterPasswordHash,
      }),
      'SCIM key',
    ).apiKey;
    return { org, scim: new ScimClient(server.http, org.id, key) };
  }

  async function provision(scim: ScimClient, email: string): Promise<string> {
    const created = await scim.request<{ id: string }>('POST', '/Users', {
      schemas: [USER_SCHEMA],
      userName: email,
      externalId: `ext-${email}`,
      emails: [{ value: email, primary: true }],
      active: true,
    });
    assert.equal(created.status, 201, created.text);
    return created.body.id;
  }

  const statusOf = async (memberId: string): Promise<number | undefined> =>
    (await server.db.rows<{ status: number }>('SELECT status FROM organization_user WHERE id = $1', [memberId]))[0]
      ?.status;

  const mailsTo = (email: string): number => smtp.messages.filter((m) => m.to.includes(email)).length;

  test('staged: the member is Invited with no mail until the admin sends the invitation', async () => {
    const { org, scim } = await scimOrg('Staged Co', false);
    const email = `staged-${backend}@example.com`;
    const memberId = await provision(scim, email);
    assert.equal(await statusOf(memberId), MemberStatus.Invited);
    // The control below shows a mail arrives within this wait when one is sent.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(mailsTo(email), 0, 'no invitation mail at provisioning');
    ok(
      await call(server.http, owner.token, 'POST', `/api/organizations/${org.id}/users/${memberId}/reinvite`),
      'send the invitation',
    );
    await smtp.waitFor(email);
    assert.equal(mailsTo(email), 1);
  });

  test('the default: provisioning sends the invitation mail at once', async () => {
    const { scim } = await scimOrg('Inviting Co', true);
    const email = `invited-${backend}@example.com`;
    const memberId = await provision(scim, email);
    assert.equal(await statusOf(memberId), MemberStatus.Invited);
    await smtp.waitFor(email);
    assert.equal(mailsTo(email), 1);
  });
});
