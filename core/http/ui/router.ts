import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { CrmServices } from '../../app/services';
import { AccessDeniedError, CaneError, NotFoundError } from '../../errors';
import { packageRoot } from '../../paths';
import { loadActions } from '../../views/actions';
import { registerHelpers } from '../../views/helpers';
import { ThemeEngine } from '../../views/theme-engine';
import { authPages } from './auth-pages';
import { dashboardPage } from './dashboard-page';
import { globalSearchPage } from './global-search-page';
import { importPage } from './import-page';
import { listPage } from './list-page';
import { pluginsPage } from './plugins-page';
import { leadConvertPage } from './lead-convert-page';
import { loadMenuGroups } from './menu-groups';
import { recordPages } from './record-pages';
import { smsPages } from './sms-pages';
import { UiSessions } from './session';
import { Ui, type UiOptions } from './ui-context';
import { workflowBuilderPage } from './workflow-builder-page';

export interface UiRouterOptions extends Partial<UiOptions> {
  secret: string;
  secure: boolean;
  customDir?: string;
  themesDir?: string;
}

/** The server-rendered UI under /ui: pages from the layouts, rendered through the user's theme. */
export function uiRouter(services: CrmServices, options: UiRouterOptions): Router {
  const themes = new ThemeEngine(options.themesDir ?? path.join(packageRoot(), 'themes'), registerHelpers);
  const sessions = new UiSessions(services, options.secret, options.secure);
  const actions = loadActions(packageRoot(), services.engine.registry, options.customDir);
  const defaultTheme = options.defaultTheme && themes.has(options.defaultTheme) ? options.defaultTheme : 'default';
  const ui = new Ui(services, themes, sessions, actions, { defaultTheme, defaultTimeZone: options.defaultTimeZone ?? 'UTC', menu: loadMenuGroups(packageRoot(), options.customDir) });

  const router = new Router({ prefix: '/ui' });
  router.use(sessions.load());
  router.use(async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      if (err instanceof NotFoundError) return ui.render(ctx, 'error', { title: 'Not found', message: err.message }, 404);
      if (err instanceof AccessDeniedError) return ui.render(ctx, 'error', { title: 'Not allowed', message: err.message }, 403);
      if (err instanceof CaneError && err.status < 500) return ui.render(ctx, 'error', { title: 'Refused', message: err.message }, err.status);
      services.log.error({ err, path: ctx.path }, 'UI error');
      return ui.render(ctx, 'error', { title: 'Something went wrong', message: 'The error has been logged.' }, 500);
    }
  });

  router.get('/assets/:theme/:file', async (ctx) => {
    const file = themes.asset(ctx.params.theme, ctx.params.file);
    if (!file) throw new NotFoundError('No such asset');
    ctx.type = path.extname(file);
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = fs.createReadStream(file);
  });

  const publicRoutes = new Router();
  authPages(publicRoutes, ui);

  // Everything else needs a session; without one, go to the login page and come back.
  router.use(async (ctx: Context, next: Next) => {
    const open = ctx.path.endsWith('/ui/login') || ctx.path.includes('/ui/assets/');
    if (!open && !ctx.state.user) {
      if (ctx.method === 'GET') return ctx.redirect(`${ui.base(ctx)}/login?next=${encodeURIComponent(ctx.originalUrl)}`);
      return ui.render(ctx, 'error', { title: 'Signed out', message: 'Your session has ended; nothing was changed. Log in and try again.' }, 401);
    }
    await next();
  });
  router.use(publicRoutes.routes());

  const pages = new Router();
  pages.get('/api/search/:module', async (ctx) => {
    const module = ui.module(ctx.params.module);
    const q = String(ctx.query.q ?? '').trim().slice(0, 100);
    const field = module.fields.name?.db_concat_fields || module.fields.name ? 'name' : 'id';
    const page = q ? await services.engine.records.list(ui.actor(ctx), module.name, { filter: [{ [field]: { $starts: q } }], maxNum: 10, fields: ['id', 'name'] }) : { records: [] };
    ctx.body = page.records.map((r) => ({ id: r.id, name: r.name ?? r.id }));
  });
  dashboardPage(pages, ui);
  globalSearchPage(pages, ui);
  smsPages(pages, ui);
  pluginsPage(pages, ui);
  workflowBuilderPage(pages, ui);
  importPage(pages, ui);
  listPage(pages, ui);
  leadConvertPage(pages, ui);
  recordPages(pages, ui);
  router.use(pages.routes());
  return router;
}
