import type { Context, Next } from 'koa';
import { CaneError } from '../../errors';
import type { Logger } from '../../records/context';

export const JSON_API = 'application/vnd.api+json';

/**
 * An error of the OAuth2 server SuiteCRM runs (league/oauth2-server 8): the token endpoint's
 * refusals and the 401 of a request without a valid bearer token.
 */
export class OAuthError extends CaneError {
  constructor(readonly error: string, message: string, status: number, readonly hint?: string) {
    super(error, message, status, hint ? { hint } : {});
  }
}

/** league's body: `{error, error_description, hint?, message}` (message repeats the description for older clients). */
function oauthBody(err: CaneError): Record<string, unknown> {
  const body: Record<string, unknown> = { error: err instanceof OAuthError ? err.error : err.code, error_description: err.message };
  if (err instanceof OAuthError && err.hint) body.hint = err.hint;
  body.message = err.message;
  return body;
}

/**
 * SuiteCRM answers every refused V8 call 400 whatever the cause; Cane keeps the statuses that tell
 * a client something it can act on and turns the rest (Cane's 422 for bad input) into 400.
 */
function v8Status(status: number): number {
  return [401, 403, 404, 409, 412, 413, 429].includes(status) ? status : 400;
}

function unexpected(ctx: Context, log: Logger, err: unknown) {
  log.error({ err, path: ctx.path }, 'unhandled error');
  ctx.status = 500;
  ctx.type = JSON_API;
  ctx.body = { errors: { status: 500, title: null, detail: 'An internal error occurred; it has been logged.' } };
}

function headers(ctx: Context, err: CaneError) {
  ctx.set('Cache-Control', 'no-store');
  if (typeof err.details.retryAfter === 'number') ctx.set('Retry-After', String(err.details.retryAfter));
}

/** Catches what the handlers throw: CaneErrors are written by `write`, anything else is logged and a bare 500. */
function boundary(log: Logger, write: (ctx: Context, err: CaneError) => void) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      if (!(err instanceof CaneError)) return unexpected(ctx, log, err);
      headers(ctx, err);
      write(ctx, err);
    }
  };
}

/**
 * The V8 API's one error boundary: SuiteCRM's JSON:API error object `{errors: {status, title, detail}}`
 * (title is null in SuiteCRM's answers), or league's OAuth2 body for a missing or bad token.
 */
export function v8Errors(log: Logger) {
  return boundary(log, (ctx, err) => {
    if (err instanceof OAuthError) {
      ctx.status = err.status;
      ctx.body = oauthBody(err);
      return;
    }
    ctx.status = v8Status(err.status);
    ctx.type = JSON_API;
    ctx.body = { errors: { status: ctx.status, title: null, detail: err.message } };
  });
}

/** The token endpoint's error boundary: every refusal in league's OAuth2 shape. */
export function oauthErrors(log: Logger) {
  return boundary(log, (ctx, err) => {
    ctx.status = err.status === 422 ? 400 : err.status;
    ctx.body = oauthBody(err);
  });
}

/** A V8 refusal of a request's parameters (SuiteCRM's 400 with its wording). */
export function badRequest(detail: string): CaneError {
  return new CaneError('invalid_parameter', detail, 400);
}
