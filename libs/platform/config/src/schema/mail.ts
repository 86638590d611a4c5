import { z } from 'zod';
import { port } from './fields';

// Outgoing mail through SMTP; without SMTP_HOST mail goes to the log instead (libs/platform/mail).

export const mailShape = {
  SMTP_HOST: z.string().optional(),
  SMTP_PORT: port(587),
  SMTP_SECURITY: z
    .enum(['starttls', 'force_tls', 'off'], { message: 'must be starttls, force_tls or off' })
    .default('starttls'),
  SMTP_USERNAME: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM: z.string().default('Keyhaven <keyhaven@localhost>'),
};
