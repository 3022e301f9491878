import crypto from 'node:crypto';
import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import type { ModuleDef } from '../../metadata/registry';
import { fieldLabel, findLabel, humanise, panelLabelKeys } from '../../metadata/labels';
import { NotFoundError } from '../../errors';
import type { Actor } from '../../records/actor';
import { formatDateTime } from '../../records/time';
import type { ActionRegistry } from '../../views/actions';
import type { ThemeEngine } from '../../views/theme-engine';
import { isTimeZone } from '../../views/time-zone';
import { packageRoot } from '../../paths';
import { accessibleModules } from '../rest-v10/metadata';
import { buildMenu, groupOf, loadMenuGroups, type MenuGroups } from './menu-groups';
import type { UiSessions } from './session';

export interface UiOptions {
  /** Theme for users who have not chosen one (CANE_THEME, default 'default'). */
  defaultTheme: string;
  defaultTimeZone: string;
  /** The header's menu groups (metadata/menu-groups.json unless given). */
  menu?: MenuGroups;
}

interface Crumb { label: string; href?: string }

/** Modules shown only under their parent record, never in the menu. */
const CHILD_MODULES = new Set(['ACLActions', 'SchedulersJobs', 'AOW_Conditions', 'AOW_Actions', 'AOW_Processed']);

/** What every UI page handler uses. */
export class Ui {
  readonly menu: MenuGroups;

  constructor(
    readonly services: CrmServices,
    readonly themes: ThemeEngine,
    readonly sessions: UiSessions,
    readonly actions: ActionRegistry,
    readonly options: UiOptions,
  ) {
    this.menu = options.menu ?? loadMenuGroups(packageRoot());
  }

  base(ctx: Context): string {
    return `${(ctx as Context & { mountPath?: string }).mountPath ?? ''}/ui`;
  }

  actor(ctx: Context): Actor {
    return ctx.state.actor;
  }

  module(name: string): ModuleDef {
    const m = this.services.engine.registry.modules.get(name);
    if (!m) throw new NotFoundError(`Unknown module: ${name}`);
    return m;
  }

  /** The string of a label key; a key with no string shows as words ('LBL_ACCOUNT_NAME' -> 'Account Name'), never raw. */
  label(module: string | undefined, key: string): string {
    return findLabel(this.services.engine.registry, module, key) ?? humanise(key);
  }

  fieldLabel(module: string, field: string, cellLabel?: string): string {
    return fieldLabel(this.services.engine.registry, module, field, cellLabel);
  }

  panelLabel(module: string, panel: string): string {
    return findLabel(this.services.engine.registry, module, ...panelLabelKeys(panel)) ?? humanise(panel);
  }

  moduleLabel(name: string): string {
    return this.services.engine.registry.appListStrings.moduleList?.[name] ?? this.services.engine.registry.modules.get(name)?.strings.LBL_MODULE_NAME ?? name;
  }

  /** Modules the user may open from the menu (ACL actions, queue rows and a workflow's conditions, actions and runs are reached from their parents). */
  async navigableModules(ctx: Context): Promise<string[]> {
    return (await accessibleModules(this.services, this.actor(ctx))).filter((m) => !CHILD_MODULES.has(m));
  }

  singular(name: string): string {
    return this.services.engine.registry.appListStrings.moduleListSingular?.[name] ?? this.moduleLabel(name);
  }

  async preferences(userId: string): Promise<{ theme: string; timeZone: string }> {
    const rows: Array<{ name: string; value: string }> = await this.services.engine.db.knex('cane_user_preferences').where({ user_id: userId });
    const prefs = Object.fromEntries(rows.map((r) => [r.name, r.value]));
    return {
      theme: prefs.theme && this.themes.has(prefs.theme) ? prefs.theme : this.options.defaultTheme,
      timeZone: prefs.timezone && isTimeZone(prefs.timezone) ? prefs.timezone : this.options.defaultTimeZone,
    };
  }

  async setPreference(userId: string, name: string, value: string): Promise<void> {
    const knex = this.services.engine.db.knex;
    const now = formatDateTime(new Date());
    const updated = await knex('cane_user_preferences').where({ user_id: userId, name }).update({ value, date_modified: now });
    if (!updated) await knex('cane_user_preferences').insert({ id: crypto.randomUUID(), user_id: userId, name, value, date_modified: now });
  }

  /** Renders a page with the layout, navigation and the user's theme. */
  async render(ctx: Context, page: string, model: Record<string, unknown>, status = 200): Promise<void> {
    const base = this.base(ctx);
    const user = ctx.state.user as { id: string; user_name: string; first_name?: string; last_name?: string } | undefined;
    const prefs = user ? await this.preferences(user.id) : { theme: this.options.defaultTheme, timeZone: this.options.defaultTimeZone };
    const actor = ctx.state.actor as Actor | undefined;
    const isAdmin = actor?.type === 'user' && actor.isAdmin === true;
    const moduleName = typeof model.moduleName === 'string' ? model.moduleName : undefined;
    const navGroups = user && actor
      ? buildMenu(this.menu, await accessibleModules(this.services, actor), { isAdmin, base, current: moduleName, label: (m) => this.moduleLabel(m), services: { plugins: Boolean(this.services.plugins) } })
      : [];
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'");
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.body = this.themes.render(prefs.theme, page, {
      moduleSingular: typeof model.moduleName === 'string' ? this.singular(model.moduleName) : undefined,
      links: page === 'error' && user ? this.backLinks(ctx, base) : undefined,
      ...model,
      base,
      csrf: ctx.state.csrf,
      user: user ? { name: [user.first_name, user.last_name].filter(Boolean).join(' ') || user.user_name, userName: user.user_name } : undefined,
      navGroups,
      breadcrumbs: user ? this.breadcrumbs(base, moduleName, model) : [],
      faviconUrl: `${base}/assets/${prefs.theme}/favicon.svg`,
      theme: prefs.theme,
      themeCss: `${base}/assets/${prefs.theme}/theme.css`,
      scriptUrl: `${base}/assets/${prefs.theme}/ui.js`,
      appTitle: 'Cane',
    });
  }

  /** An error page leads back to the UI page the user came from (the Referer, same origin only). */
  private backLinks(ctx: Context, base: string): Crumb[] | undefined {
    const referer = ctx.get('Referer');
    if (!referer) return undefined;
    try {
      const from = new URL(referer);
      if (from.host !== ctx.host || !from.pathname.startsWith(`${base}/`) || (ctx.method === 'GET' && `${from.pathname}${from.search}` === ctx.url)) return undefined;
      return [{ label: 'Back', href: `${from.pathname}${from.search}` }];
    } catch {
      return undefined;
    }
  }

  /**
   * Group › Module › Record (› Edit) for pages of a module; the last crumb is the page itself.
   * Pages set recordName (and recordHref when the record is not the page) and crumbLeaf.
   */
  private breadcrumbs(base: string, moduleName: string | undefined, model: Record<string, unknown>): Crumb[] {
    if (!moduleName) return [];
    const known = this.services.engine.registry.modules.has(moduleName);
    const group = groupOf(this.menu, moduleName);
    if (!known && !group?.pages?.some((p) => p.label === moduleName)) return [];
    const crumbs: Crumb[] = [];
    if (group) crumbs.push({ label: group.label });
    crumbs.push({ label: known ? this.moduleLabel(moduleName) : moduleName, href: known ? `${base}/${moduleName}` : undefined });
    if (typeof model.recordName === 'string') crumbs.push({ label: model.recordName, href: typeof model.recordHref === 'string' ? model.recordHref : undefined });
    if (typeof model.crumbLeaf === 'string') crumbs.push({ label: model.crumbLeaf });
    // The page itself is not a link.
    const last = crumbs[crumbs.length - 1];
    crumbs[crumbs.length - 1] = { label: last.label };
    return crumbs.length > 1 ? crumbs : [];
  }
}
