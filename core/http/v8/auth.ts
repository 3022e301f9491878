import type { Context, Next } from 'koa';
import type { CrmServices } from '../../app/services';
import { actorFor, canLogIn, type UserRow } from '../../security/authenticate';
import { OAuthError } from './errors';

const denied = (hint: string) => new OAuthError('access_denied', 'The resource owner or authorization server denied the request.', 401, hint);

/** The bearer token of a V8 request; like SuiteCRM's resource server, only the Authorization header counts. */
export function bearerToken(ctx: Context): string | undefined {
  const match = /^bearer\s+(.+)$/i.exec(ctx.get('authorization'));
  return match?.[1].trim() || undefined;
}

/** Attaches the user and actor of a valid access token, or answers league's 401 access_denied. */
export function requireBearer(services: CrmServices) {
  return async (ctx: Context, next: Next) => {
    if (!ctx.get('authorization')) throw denied('Missing "Authorization" header');
    const token = bearerToken(ctx);
    const info = token ? await services.tokens.verify(token, 'access') : undefined;
    if (!info) throw denied('Access token could not be verified');
    const user: UserRow | undefined = await services.engine.db.knex('users').where({ id: info.userId, deleted: 0 }).first();
    if (!user || !canLogIn(user)) throw denied('Access token has been revoked');
    ctx.state.user = user;
    ctx.state.actor = actorFor(user);
    ctx.state.token = token;
    await next();
  };
}
