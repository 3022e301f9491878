import type Router from '@koa/router';
import type { Context } from 'koa';
import { LoginError } from '../../security/authenticate';
import { TooManyLoginsError } from '../../security/login-throttle';
import { isTimeZone } from '../../views/time-zone';
import { readFormData } from './forms';
import type { Ui } from './ui-context';

const TIME_ZONES = ['UTC', 'Europe/Lisbon', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'America/Sao_Paulo', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney'];

/** Login, logout and preferences (the home page is dashboard-page.ts). */
export function authPages(router: Router, ui: Ui): void {
  const renderLogin = (ctx: Context, error?: string, userName = '', status = 200) =>
    ui.render(ctx, 'login', { title: ui.label(undefined, 'LBL_LOGIN'), loginCsrf: ui.sessions.loginCsrf(ctx), error, userName }, status);

  router.get('/login', async (ctx) => {
    if (ctx.state.user) return ctx.redirect(ui.base(ctx));
    await renderLogin(ctx);
  });

  router.post('/login', async (ctx) => {
    const form = await readFormData(ctx, 16_384);
    if (!ui.sessions.checkLoginCsrf(ctx, form.get('csrf'))) return renderLogin(ctx, 'Your login form expired. Please try again.', form.get('user_name') ?? '', 403);
    try {
      const user = await ui.services.auth.login(form.get('user_name') ?? '', form.get('password') ?? '', { ip: ctx.ip });
      await ui.sessions.start(ctx, user);
      const next = form.get('next');
      ctx.redirect(next && next.startsWith(ui.base(ctx)) && !next.startsWith('//') ? next : ui.base(ctx));
    } catch (err) {
      if (err instanceof TooManyLoginsError) {
        ctx.set('Retry-After', String(err.retryAfter));
        return renderLogin(ctx, err.message, form.get('user_name') ?? '', 429);
      }
      if (!(err instanceof LoginError)) throw err;
      await renderLogin(ctx, err.message, form.get('user_name') ?? '', 401);
    }
  });

  router.post('/logout', async (ctx) => {
    const form = await readFormData(ctx, 4096);
    if (ui.sessions.checkCsrf(ctx, form.get('csrf'))) await ui.sessions.end(ctx);
    ctx.redirect(`${ui.base(ctx)}/login`);
  });

  router.get('/preferences', async (ctx) => {
    const prefs = await ui.preferences(ctx.state.user.id);
    await ui.render(ctx, 'preferences', {
      title: ui.label(undefined, 'LBL_PREFERENCES'),
      themes: ui.themes.list().map((t) => ({ key: t.name, label: t.label, selected: t.name === prefs.theme })),
      timeZones: [...new Set([prefs.timeZone, ...TIME_ZONES])].map((tz) => ({ key: tz, label: tz, selected: tz === prefs.timeZone })),
      saved: ctx.query.saved === '1',
    });
  });

  router.post('/preferences', async (ctx) => {
    const form = await readFormData(ctx, 4096);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) return ui.render(ctx, 'error', { title: 'Refused', message: 'The form had no valid security token; nothing was changed. Reload the page and try again.' }, 403);
    const theme = form.get('theme');
    const tz = form.get('timezone');
    if (theme && !ui.themes.has(theme)) return ui.render(ctx, 'error', { title: 'Refused', message: `There is no theme called ${theme}.` }, 422);
    if (tz && !isTimeZone(tz)) return ui.render(ctx, 'error', { title: 'Refused', message: `${tz} is not a time zone.` }, 422);
    if (theme) await ui.setPreference(ctx.state.user.id, 'theme', theme);
    if (tz) await ui.setPreference(ctx.state.user.id, 'timezone', tz);
    ctx.redirect(`${ui.base(ctx)}/preferences?saved=1`);
  });
}
