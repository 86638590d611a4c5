import { z } from 'zod';

/** `{masterPasswordHash | otp}`: what every `get-*` call proves. */
export const secretSchema = z.object({
  masterPasswordHash: z.string().max(1000).nullish(),
  otp: z.string().max(100).nullish(),
});
export const verificationTokenSchema = z.object({ userVerificationToken: z.string().max(2000).nullish() });

const base32Key = z.string().regex(/^[A-Z2-7]{16,64}=*$/i, 'must be a base32 secret');

/** 2026: the token from get-authenticator; older clients: the master password hash. */
export const enableAuthenticatorSchema = secretSchema.extend(verificationTokenSchema.shape).extend({
  key: base32Key,
  token: z.string().max(10),
});
export const deleteAuthenticatorSchema = verificationTokenSchema.extend({ key: base32Key });
export const disableSchema = secretSchema.extend({ type: z.number().int() });
export const recoverSchema = z.object({
  email: z.string().max(256),
  masterPasswordHash: z.string(),
  recoveryCode: z.string().max(64),
});

const email = z.email().max(256);
export const sendEmailSetupSchema = verificationTokenSchema.extend({ email });
export const enableEmailSchema = verificationTokenSchema.extend({ email, token: z.string().max(10) });

/** What the clients send to `send-email-login`; the CLI sends only `email` and `masterPasswordHash`. */
export const sendEmailLoginSchema = z.object({
  email: z.string().max(256),
  masterPasswordHash: z.string().max(1000).nullish(),
  otp: z.string().max(100).nullish(),
  deviceIdentifier: z.string().max(100).nullish(),
  authRequestId: z.string().max(100).nullish(),
  authRequestAccessCode: z.string().max(100).nullish(),
  ssoEmail2FaSessionToken: z.string().max(4000).nullish(),
});

/** Base64url (padding tolerated), as the clients encode WebAuthn buffers. */
const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_\-+/]*={0,2}$/, 'must be base64url');
export const putWebAuthnSchema = verificationTokenSchema.extend({
  id: z.number().int().min(1).max(10),
  name: z.string().max(50).nullish(),
  deviceResponse: z.object({
    id: b64url,
    rawId: b64url,
    type: z.string().max(32),
    extensions: z.record(z.string(), z.unknown()).nullish(),
    response: z.object({
      AttestationObject: b64url,
      clientDataJson: b64url,
      transports: z.array(z.string().max(32)).max(10).nullish(),
    }),
  }),
});
export const deleteWebAuthnSchema = verificationTokenSchema.extend({ id: z.number().int().min(1).max(10) });
