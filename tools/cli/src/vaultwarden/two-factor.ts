import { str, type ImportContext, type Row } from './context';
import { bool, lowerKeys, parseJson } from './mapping';
import { convertWebAuthnKeys } from './webauthn';

/** Vaultwarden's `twofactor.atype` numbers: Bitwarden's provider numbers, then its own challenge states (1000+). */
export const VW_TWO_FACTOR = {
  authenticator: 0,
  email: 1,
  duo: 2,
  yubiKey: 3,
  u2f: 4,
  remember: 5,
  organizationDuo: 6,
  webAuthn: 7,
  firstChallenge: 1000,
} as const;

/** Keyhaven's `two_factor_provider.type`s (Bitwarden's numbers): the providers it verifies besides TOTP. */
const KEYHAVEN = { email: 1, webAuthn: 7 } as const;

/** Why a Vaultwarden provider stays behind; the user's other methods (and the recovery code) still apply. */
const NOT_HELD: Record<number, string> = {
  [VW_TWO_FACTOR.duo]:
    "Duo two-step login: Keyhaven does not call Duo's service; the user sets up another method after the move",
  [VW_TWO_FACTOR.yubiKey]:
    'YubiKey OTP two-step login: Keyhaven does not call YubiCloud; the user registers the key again as a WebAuthn key',
  [VW_TWO_FACTOR.u2f]:
    'legacy U2F registrations: Vaultwarden copied them into its WebAuthn setting (imported from there) when it migrated',
  [VW_TWO_FACTOR.remember]: 'a remembered device: the device is asked for a second step once more',
  [VW_TWO_FACTOR.organizationDuo]: "an organization's Duo: Keyhaven has no organization Duo",
};

/** Reads Vaultwarden's two-step settings; answers each user's enabled authenticator secret (it goes in app_user). */
export async function readTwoFactor(ctx: ImportContext): Promise<{ totpOf: Map<string, string>; rows: Row[] }> {
  const rows = await ctx.rowsOf('twofactor');
  const totpOf = new Map(
    rows
      .filter((t) => Number(t['atype']) === VW_TWO_FACTOR.authenticator && bool(t['enabled']))
      .map((t) => [str(t['user_uuid']), str(t['data'])]),
  );
  return { totpOf, rows };
}

/**
 * The other providers, after the accounts: email (its address) and WebAuthn (each key's credential id and COSE
 * public key) become Keyhaven's provider rows and credentials; every other row is a counted, reasoned skip.
 */
export async function importTwoFactor(ctx: ImportContext, rows: Row[]): Promise<void> {
  const { accounts, emailOf } = ctx.state;
  const providers: Row[] = [];
  const credentials: Row[] = [];
  const name = 'two-step logins';
  for (const t of rows) {
    const type = Number(t['atype']);
    const userId = str(t['user_uuid']);
    const who = `${emailOf.get(userId) ?? userId} (type ${type})`;
    if (type === VW_TWO_FACTOR.authenticator) continue; // in the account row
    if (type >= VW_TWO_FACTOR.firstChallenge) {
      ctx.skip(name, who, 'an unfinished two-step setup or login challenge (short-lived), not a setting');
      continue;
    }
    const notHeld = NOT_HELD[type];
    if (notHeld !== undefined) {
      ctx.skip(name, who, notHeld);
      continue;
    }
    if (type !== VW_TWO_FACTOR.email && type !== VW_TWO_FACTOR.webAuthn) {
      ctx.skip(name, who, 'a two-step provider Keyhaven does not know');
      continue;
    }
    if (!accounts.has(userId)) {
      ctx.skip(name, who, 'its account was not imported');
      continue;
    }
    if (!bool(t['enabled'])) {
      ctx.skip(name, who, 'turned off in Vaultwarden');
      continue;
    }
    if (type === VW_TWO_FACTOR.email) {
      const email = (lowerKeys(parseJson(t['data'])) as Record<string, unknown> | null)?.['email'];
      if (typeof email !== 'string' || !email.includes('@')) {
        ctx.skip(name, who, 'email two-step login without an address');
        continue;
      }
      providers.push({
        user_id: userId,
        type: KEYHAVEN.email,
        enabled: true,
        data: { email: email.trim().toLowerCase() },
        revision_date: ctx.now,
      });
      continue;
    }
    const { keys, refused } = convertWebAuthnKeys(parseJson(t['data']));
    for (const r of refused) ctx.skip('WebAuthn keys', `${who} key ${r.slot ?? '?'} ${r.name}`, r.reason);
    if (keys.length === 0) {
      ctx.skip(name, who, 'WebAuthn two-step login with no key Keyhaven can use');
      continue;
    }
    providers.push({ user_id: userId, type: KEYHAVEN.webAuthn, enabled: true, data: {}, revision_date: ctx.now });
    for (const k of keys) {
      credentials.push({
        user_id: userId,
        slot: k.slot,
        name: k.name,
        credential_id: k.credentialId,
        public_key: k.publicKey,
        sign_count: k.signCount,
        transports: k.transports,
        aaguid: null,
        creation_date: ctx.now,
      });
    }
  }
  await ctx.insert(name, 'two_factor_provider', providers, `user_id || '/' || type`);
  await ctx.insert('WebAuthn keys', 'webauthn_credential', credentials, `user_id || '/' || slot`);
}
