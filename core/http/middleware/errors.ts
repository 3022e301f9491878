import type { Context, Next } from 'koa';
import { CaneError, ValidationError } from '../../errors';
import type { Logger } from '../../records/context';

/** Sugar's REST error labels by Cane error code where they differ. */
const SUGAR_LABELS: Record<string, string> = {
  hook_veto: 'invalid_parameter',
  invalid_metadata: 'fatal_error',
};

/**
 * The one place REST v10 errors are written: `{error, error_message}` with Sugar's labels and
 * statuses (plus `fields` for validation errors). Anything that is not a CaneError is logged and
 * becomes a bare 500.
 */
export function v10Errors(log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      ctx.set('Cache-Control', 'no-store');
      if (err instanceof CaneError) {
        ctx.status = err.status;
        if (typeof err.details.retryAfter === 'number') ctx.set('Retry-After', String(err.details.retryAfter));
        const body: Record<string, unknown> = { error: SUGAR_LABELS[err.code] ?? err.code, error_message: err.message };
        if (err instanceof ValidationError) body.fields = err.problems;
        else if (err.details.field) body.field = err.details.field;
        ctx.body = body;
        return;
      }
      log.error({ err, path: ctx.path }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: 'fatal_error', error_message: 'An internal error occurred; it has been logged.' };
    }
  };
}
