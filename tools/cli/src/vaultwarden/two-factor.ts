import { str, type ImportContext, type Row } from './context';
import { bool } from './mapping';

/** Vaultwarden's `twofactor.atype` numbers (Bitwarden's provider numbers, plus its own challenge states). */
export const VW_TWO_FACTOR = { authenticator: 0, remember: 5 } as const;

/**
 * Reads Vaultwarden's two-step login settings. Answers each user's enabled authenticator secret, which goes into
 * the account row; the other providers are reported as not carried over.
 */
export async function readTwoFactor(ctx: ImportContext): Promise<{ totpOf: Map<string, string>; rows: Row[] }> {
  const rows = await ctx.rowsOf('twofactor');
  const totpOf = new Map(
    rows
      .filter((t) => Number(t['atype']) === VW_TWO_FACTOR.authenticator && bool(t['enabled']))
      .map((t) => [str(t['user_uuid']), str(t['data'])]),
  );
  const other = rows.filter(
    (t) =>
      bool(t['enabled']) &&
      !([VW_TWO_FACTOR.authenticator, VW_TWO_FACTOR.remember] as number[]).includes(Number(t['atype'])),
  );
  if (other.length > 0) {
    ctx.notMigrated.push(
      `${other.length} two-step login setting(s) other than the authenticator app (e-mail, Duo, YubiKey, WebAuthn): users set them up again`,
    );
  }
  return { totpOf, rows };
}
