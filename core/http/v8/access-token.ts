import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import { LoginError, canLogIn, type UserRow } from '../../security/authenticate';
import type { IssuedPair } from '../../security/tokens';
import { OAuth2ClientStore, type OAuth2Client } from '../../security/oauth2-clients';
import { readRaw } from '../middleware/body';
import { OAuthError } from './errors';

/** The platform V8 tokens are issued under in cane_tokens (v10 uses 'base' and others). */
export const V8_PLATFORM = 'suitecrm-v8';

const invalidRequest = (parameter: string) => new OAuthError('invalid_request',
  'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.', 400, `Check the \`${parameter}\` parameter`);
const invalidClient = () => new OAuthError('invalid_client', 'Client authentication failed', 401);

/** The token request's fields from a form or JSON body, as league reads the parsed body. */
async function tokenRequest(ctx: Context, limit: number): Promise<Record<string, unknown>> {
  const text = await readRaw(ctx, limit);
  const type = ctx.get('content-type');
  const looksJson = type.includes('json') || (!type.includes('form') && text.trim().startsWith('{'));
  if (!looksJson) return Object.fromEntries(new URLSearchParams(text));
  if (!text.trim()) return {};
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object' && !Array.isArray(body)) return body;
  } catch {
    // reported below like any body that is not an object
  }
  throw new OAuthError('invalid_request', 'The request body must be a JSON object or a form', 400);
}

/** client_id and client_secret from HTTP Basic authentication, else from the body (league reads both). */
function clientCredentials(ctx: Context, body: Record<string, unknown>): { id: string; secret: string } {
  const auth = ctx.get('authorization');
  if (/^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  }
  if (typeof body.client_id !== 'string' || !body.client_id) throw invalidRequest('client_id');
  return { id: body.client_id, secret: typeof body.client_secret === 'string' ? body.client_secret : '' };
}

/**
 * POST /Api/access_token: SuiteCRM's OAuth2 server. Grants password, client_credentials (acting as
 * the client's assigned user) and refresh_token, for clients in `oauth2clients`; tokens live in
 * Cane's token store, so the same checks (expiry, logout, rotation) apply as on REST v10.
 */
export function accessTokenEndpoint(services: CrmServices) {
  const clients = new OAuth2ClientStore(services.engine.db, services.engine.context.clock);

  /** A wrong secret counts as a failed login of the client, so secrets cannot be guessed faster than passwords. */
  const authenticateClient = async (ctx: Context, credentials: { id: string; secret: string }, grant: string): Promise<OAuth2Client> => {
    const slot = await services.auth.throttle.reserve(`oauth2client:${credentials.id}`, ctx.ip);
    const client = await clients.authenticate(credentials.id, credentials.secret, grant).catch(async (err) => { await slot.abandoned(); throw err; });
    if (!client) {
      await slot.failed();
      throw invalidClient();
    }
    await slot.succeeded();
    return client;
  };

  const activeUser = async (id: string | null): Promise<UserRow | undefined> => {
    if (!id) return undefined;
    const user: UserRow | undefined = await services.engine.db.knex('users').where({ id, deleted: 0 }).first();
    return user && canLogIn(user) ? user : undefined;
  };

  return async (ctx: Context) => {
    const body = await tokenRequest(ctx, services.bodyLimit);
    const grant = body.grant_type;
    if (typeof grant !== 'string' || !['password', 'client_credentials', 'refresh_token'].includes(grant)) {
      throw new OAuthError('unsupported_grant_type', 'The authorization grant type is not supported by the authorization server.', 400, 'Check that all required parameters have been provided');
    }
    const client = await authenticateClient(ctx, clientCredentials(ctx, body), grant);
    const options = { clientId: client.id, platform: V8_PLATFORM, ip: ctx.ip };
    let answer: { access: string; expiresIn: number; refresh?: string };
    if (grant === 'password') {
      if (typeof body.username !== 'string' || !body.username) throw invalidRequest('username');
      if (typeof body.password !== 'string' || !body.password) throw invalidRequest('password');
      let user: UserRow;
      try {
        user = await services.auth.login(body.username, body.password, { ip: ctx.ip });
      } catch (err) {
        if (err instanceof LoginError) throw new OAuthError('invalid_grant', 'The user credentials were incorrect.', 400);
        throw err;
      }
      answer = fromPair(await services.tokens.issuePair(user.id, options));
    } else if (grant === 'client_credentials') {
      if (!client.isConfidential) throw invalidClient();
      const user = await activeUser(client.assignedUserId);
      if (!user) throw new OAuthError('invalid_client', 'Client authentication failed', 401, 'The client is not assigned to an active user');
      // league issues no refresh token with this grant: the client asks again with its secret.
      answer = { access: await services.tokens.issue('access', user.id, options), expiresIn: services.tokens.lifetimes.access };
    } else {
      if (typeof body.refresh_token !== 'string' || !body.refresh_token) throw invalidRequest('refresh_token');
      const rotated = await services.tokens.rotate(body.refresh_token, client.id);
      if (!rotated) throw new OAuthError('invalid_request', 'The refresh token is invalid.', 401, 'Token has been revoked');
      if (!(await activeUser(rotated.userId))) {
        await services.tokens.revoke(rotated.pair.accessToken);
        throw new OAuthError('invalid_request', 'The refresh token is invalid.', 401, 'Token has been revoked');
      }
      answer = fromPair(rotated.pair);
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    ctx.body = { token_type: 'Bearer', expires_in: answer.expiresIn, access_token: answer.access, ...(answer.refresh ? { refresh_token: answer.refresh } : {}) };
  };
}

function fromPair(pair: IssuedPair) {
  return { access: pair.accessToken, expiresIn: pair.expiresIn, refresh: pair.refreshToken };
}
