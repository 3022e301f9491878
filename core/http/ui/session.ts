import crypto from 'node:crypto';
import type { Context, Next } from 'koa';
import type { CrmServices } from '../../app/services';
import { actorFor, type UserRow } from '../../security/authenticate';

export const SESSION_COOKIE = 'cane_session';
export const LOGIN_CSRF_COOKIE = 'cane_login_csrf';

/**
 * UI sessions: an opaque token in an HttpOnly, SameSite=Lax cookie, kept in cane_tokens like the
 * API tokens (so any process can serve the next request). CSRF tokens are an HMAC of the session
 * token, so they need no storage; the login form uses a double-submit cookie.
 */
export class UiSessions {
  constructor(private readonly services: CrmServices, private readonly secret: string, private readonly secure: boolean) {}

  csrfFor(sessionToken: string): string {
    return crypto.createHmac('sha256', this.secret).update(`csrf:${sessionToken}`).digest('base64url');
  }

  cookieOptions(maxAgeSeconds?: number) {
    return { httpOnly: true, sameSite: 'lax' as const, secure: this.secure, path: '/', overwrite: true, ...(maxAgeSeconds ? { maxAge: maxAgeSeconds * 1000 } : {}) };
  }

  async start(ctx: Context, user: UserRow): Promise<void> {
    const token = await this.services.tokens.issue('session', user.id, { clientId: 'ui', ip: ctx.ip });
    ctx.cookies.set(SESSION_COOKIE, token, this.cookieOptions(this.services.tokens.lifetimes.session));
  }

  async end(ctx: Context): Promise<void> {
    const token = ctx.cookies.get(SESSION_COOKIE);
    if (token) await this.services.tokens.revoke(token);
    ctx.cookies.set(SESSION_COOKIE, '', { ...this.cookieOptions(), maxAge: 0 });
  }

  /** Attaches user, actor and csrf token when the cookie holds a live session; otherwise nothing. */
  load() {
    return async (ctx: Context, next: Next) => {
      // PUBLIC_URL is https: browsers reach Cane over TLS even when a proxy forwards plain HTTP
      // (without CANE_TRUST_PROXY), so Secure cookies are right and must not make koa refuse them.
      if (this.secure) ctx.cookies.secure = true;
      const token = ctx.cookies.get(SESSION_COOKIE);
      if (token) {
        const found = await this.services.tokens.verifyUser(token, 'session');
        if (found && found.info.clientId === 'ui') {
          const user = found.user as UserRow;
          if (user.status !== 'Inactive') {
            ctx.state.user = user;
            ctx.state.actor = actorFor(user);
            ctx.state.csrf = this.csrfFor(token);
          }
        }
      }
      await next();
    };
  }

  /** A fresh double-submit token for the login form. */
  loginCsrf(ctx: Context): string {
    const existing = ctx.cookies.get(LOGIN_CSRF_COOKIE);
    if (existing && /^[\w-]{20,}$/.test(existing)) return existing;
    const token = crypto.randomBytes(18).toString('base64url');
    ctx.cookies.set(LOGIN_CSRF_COOKIE, token, this.cookieOptions(3600));
    return token;
  }

  checkLoginCsrf(ctx: Context, submitted: unknown): boolean {
    const cookie = ctx.cookies.get(LOGIN_CSRF_COOKIE);
    return typeof submitted === 'string' && Boolean(cookie) && safeEqual(cookie!, submitted);
  }

  checkCsrf(ctx: Context, submitted: unknown): boolean {
    return typeof submitted === 'string' && typeof ctx.state.csrf === 'string' && safeEqual(ctx.state.csrf, submitted);
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
