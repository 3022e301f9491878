import type { Context, Next } from 'koa';
import { CaneError } from '../../errors';
import type { CrmServices } from '../../app/services';
import { actorFor, type UserRow } from '../../security/authenticate';
import { md5Hex } from '../../security/passwords';
import { readJson } from '../middleware/body';

export const SUGAR_CLIENT_ID = 'sugar';

function oauthError(error: string, message: string, status = 400): CaneError {
  return new CaneError(error, message, status);
}

/** The bearer token of a request: `OAuth-Token` header (Sugar), `Authorization: Bearer`, or ?oauth_token=. */
export function requestToken(ctx: Context): string | undefined {
  const header = ctx.get('oauth-token');
  if (header) return header;
  const auth = ctx.get('authorization');
  if (/^bearer /i.test(auth)) return auth.slice(7).trim();
  const query = ctx.query.oauth_token;
  return typeof query === 'string' ? query : undefined;
}

/** Attaches the user and actor of a valid access token, or answers 401 as Sugar does. */
export function requireToken(services: CrmServices) {
  return async (ctx: Context, next: Next) => {
    const token = requestToken(ctx);
    if (!token) throw new CaneError('need_login', 'No valid authentication for user.', 401);
    const found = await services.tokens.verifyUser(token, 'access');
    const user = found?.user as UserRow | undefined;
    if (!user || user.status === 'Inactive') throw new CaneError('invalid_grant', 'The access token provided is invalid.', 401);
    ctx.state.user = user;
    ctx.state.actor = actorFor(user);
    ctx.state.token = token;
    await next();
  };
}

/** POST /oauth2/token: grant types password and refresh_token, client_id 'sugar'. */
export function tokenEndpoint(services: CrmServices) {
  return async (ctx: Context) => {
    const body = (await readJson(ctx, services.bodyLimit)) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw oauthError('invalid_request', 'The request body must be a JSON object');
    const grant = body.grant_type;
    const clientId = body.client_id;
    if (typeof grant !== 'string') throw oauthError('invalid_request', 'The grant type was not specified in the request');
    if (clientId !== SUGAR_CLIENT_ID) throw oauthError('invalid_client', 'The client credentials are invalid');
    const platform = typeof body.platform === 'string' ? body.platform.slice(0, 64) : 'base';
    let userId: string;
    let pair;
    if (grant === 'password') {
      if (typeof body.username !== 'string' || typeof body.password !== 'string') throw oauthError('invalid_request', 'username and password are required');
      try {
        const user = await services.auth.login(body.username, body.password, { ip: ctx.ip });
        userId = user.id;
      } catch (err) {
        if (err instanceof CaneError && err.code === 'need_login') throw oauthError('need_login', err.message, 401);
        throw err;
      }
      pair = await services.tokens.issuePair(userId, { clientId, platform, ip: ctx.ip });
    } else if (grant === 'refresh_token') {
      if (typeof body.refresh_token !== 'string') throw oauthError('invalid_request', 'refresh_token is required');
      const rotated = await services.tokens.rotate(body.refresh_token, clientId);
      if (!rotated) throw oauthError('invalid_grant', 'Invalid refresh token');
      const user = await services.engine.db.knex('users').where({ id: rotated.userId, deleted: 0 }).first();
      if (!user || user.status === 'Inactive') {
        await services.tokens.revoke(rotated.pair.accessToken);
        throw oauthError('invalid_grant', 'Invalid refresh token');
      }
      userId = rotated.userId;
      pair = rotated.pair;
    } else {
      throw oauthError('unsupported_grant_type', `The grant type '${grant}' is not supported`);
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      access_token: pair.accessToken,
      expires_in: pair.expiresIn,
      token_type: 'bearer',
      scope: null,
      refresh_token: pair.refreshToken,
      refresh_expires_in: pair.refreshExpiresIn,
      download_token: pair.accessToken,
    };
  };
}

/** POST /oauth2/logout: the token and its refresh family stop working. */
export function logoutEndpoint(services: CrmServices) {
  return async (ctx: Context) => {
    const token = requestToken(ctx);
    if (!token || !(await services.tokens.revoke(token))) throw new CaneError('need_login', 'No valid authentication for user.', 401);
    ctx.body = { success: true };
  };
}

export { md5Hex };
