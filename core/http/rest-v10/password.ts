import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import { CaneError } from '../../errors';
import type { UserRow } from '../../security/authenticate';
import { md5Hex, verifyPassword } from '../../security/passwords';
import { MIN_PASSWORD_LENGTH, setPassword } from '../../security/users';
import { readJson } from '../middleware/body';

/**
 * PUT|POST /me/password (Sugar's CurrentUserApi::updatePassword): `{old_password, new_password}` →
 * `{valid: true, message}`, or `{valid: false, message}` when the old password is wrong or the new
 * one is refused. Wrong old passwords count as failed logins, so a stolen token cannot guess on.
 * The caller's own session stays signed in; every other session of the user is signed out.
 */
export function passwordEndpoint(services: CrmServices) {
  return async (ctx: Context) => {
    const body = (await readJson(ctx, services.bodyLimit)) as { old_password?: unknown; new_password?: unknown };
    for (const field of ['old_password', 'new_password'] as const) {
      const value = body && typeof body === 'object' ? body[field] : undefined;
      if (typeof value !== 'string' || !value) throw new CaneError('missing_parameter', `Error: Missing argument. ${field} is required`, 422, { field });
    }
    const { old_password: oldPassword, new_password: newPassword } = body as { old_password: string; new_password: string };
    const user = ctx.state.user as UserRow;
    const slot = await services.auth.throttle.reserve(user.user_name, ctx.ip || null);
    let right: boolean;
    try {
      right = await verifyPassword(md5Hex(oldPassword), user.user_hash);
    } catch (err) {
      await slot.abandoned();
      throw err;
    }
    if (!right) {
      await slot.failed();
      ctx.body = { valid: false, message: `Can not authenticate user_name ${user.user_name}. Need valid password.` };
      return;
    }
    await slot.succeeded();
    if (newPassword.length < MIN_PASSWORD_LENGTH) {
      ctx.body = { valid: false, message: `The new password must have at least ${MIN_PASSWORD_LENGTH} characters.` };
      return;
    }
    const session = await services.tokens.verify(ctx.state.token as string, 'access');
    await setPassword(services.engine, user.user_name, newPassword, MIN_PASSWORD_LENGTH, session?.familyId ?? undefined);
    ctx.body = { valid: true, message: 'Password updated.' };
  };
}
