import type { z } from 'zod';
import { badRequest, type ValidationErrors } from './errors';

/**
 * Validates a request body (unknown keys are dropped, never rejected: newer clients send extras)
 * and turns zod's issues into Bitwarden's `validationErrors`, keyed by the field's path.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const errors: ValidationErrors = {};
  for (const issue of result.error.issues) {
    const field = issue.path.map(String).join('.') || 'body';
    const message =
      issue.code === 'invalid_type' && issue.input === undefined ? 'The field is required.' : issue.message;
    (errors[field] ??= []).push(message);
  }
  const first = Object.entries(errors)[0];
  throw badRequest(first ? `${first[0]}: ${first[1][0] ?? 'is invalid'}` : 'The request is invalid.', errors);
}
