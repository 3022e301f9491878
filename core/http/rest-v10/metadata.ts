import crypto from 'node:crypto';
import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import type { Registry } from '../../metadata/registry';
import type { Actor } from '../../records/actor';

const SECTIONS = ['modules', 'full_module_list', 'module_list', 'app_list_strings', 'app_strings', 'mod_strings', 'relationships'] as const;

/** Everything GET /metadata can return, built once per registry. */
function fullMetadata(registry: Registry) {
  const modules: Record<string, unknown> = {};
  const modStrings: Record<string, unknown> = {};
  for (const m of registry.modules.values()) {
    const fields: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(m.fields)) if (!field.sensitive) fields[name] = field;
    modules[m.name] = {
      object_name: m.objectName,
      table: m.table,
      audited: m.audited,
      fields,
      links: Object.fromEntries(Object.values(m.links).map((l) => [l.name, { module: l.module, relationship: l.relationship.name, one: l.one }])),
      views: { list: m.views.list, detail: m.views.detail, edit: m.views.edit, quickcreate: m.views.quickcreate, search: m.views.search },
      subpanels: m.views.subpanels ?? null,
    };
    modStrings[m.name] = m.strings;
  }
  const relationships = Object.fromEntries([...registry.relationships.values()].map((r) => [r.name, { ...r, file: undefined }]));
  const data: Record<string, unknown> = {
    modules,
    full_module_list: Object.fromEntries([...registry.modules.keys()].map((k) => [k, k])),
    app_list_strings: registry.appListStrings,
    app_strings: registry.appStrings,
    mod_strings: modStrings,
    relationships,
  };
  return { data, hash: crypto.createHash('sha1').update(JSON.stringify(data)).digest('hex') };
}

const cache = new WeakMap<Registry, ReturnType<typeof fullMetadata>>();

/** Modules the actor may access at all. */
export async function accessibleModules(services: CrmServices, actor: Actor): Promise<string[]> {
  const names: string[] = [];
  for (const m of services.engine.registry.modules.values()) {
    if ((await services.acl.level(actor, m, 'access')) > 0) names.push(m.name);
  }
  return names;
}

/** GET /metadata?type_filter=modules,app_list_strings&module_filter=Accounts,Contacts */
export function metadataEndpoint(services: CrmServices) {
  return async (ctx: Context) => {
    const registry = services.engine.registry;
    let built = cache.get(registry);
    if (!built) cache.set(registry, (built = fullMetadata(registry)));
    const typeFilter = typeof ctx.query.type_filter === 'string' ? ctx.query.type_filter.split(',') : [...SECTIONS];
    const moduleFilter = typeof ctx.query.module_filter === 'string' ? new Set(ctx.query.module_filter.split(',')) : undefined;
    if (ctx.query.only_hash === 'true' || ctx.query.only_hash === '1') {
      ctx.body = { _hash: built.hash };
      return;
    }
    const allowed = new Set(await accessibleModules(services, ctx.state.actor));
    const body: Record<string, unknown> = { _hash: built.hash };
    for (const section of typeFilter) {
      if (section === 'module_list') {
        body.module_list = Object.fromEntries([...allowed].map((m) => [m, m]));
      } else if (section === 'modules' || section === 'mod_strings') {
        const all = built.data[section] as Record<string, unknown>;
        body[section] = Object.fromEntries(Object.entries(all).filter(([m]) => allowed.has(m) && (!moduleFilter || moduleFilter.has(m))));
      } else if (section in built.data) {
        body[section] = built.data[section];
      }
    }
    ctx.set('ETag', built.hash);
    ctx.body = body;
  };
}

/** GET /me */
export function meEndpoint(services: CrmServices) {
  return async (ctx: Context) => {
    const user = ctx.state.user;
    const actor: Actor = ctx.state.actor;
    const modules = await accessibleModules(services, actor);
    const acl: Record<string, Record<string, string>> = {};
    for (const name of modules) {
      const m = services.engine.registry.module(name);
      const entry: Record<string, string> = {};
      for (const action of ['view', 'list', 'edit', 'delete', 'import', 'export', 'massupdate'] as const) {
        const level = await services.acl.level(actor, m, action);
        entry[action] = level >= 90 ? 'yes' : level === 75 ? 'owner' : 'no';
      }
      acl[name] = entry;
    }
    ctx.body = {
      current_user: {
        type: actor.type === 'user' && actor.isAdmin ? 'admin' : 'user',
        id: user.id,
        user_name: user.user_name,
        full_name: [user.first_name, user.last_name].filter(Boolean).join(' '),
        is_manager: false,
        module_list: modules,
        acl,
        preferences: { timezone: 'UTC', datepref: 'Y-m-d', timepref: 'H:i', language: 'en_us', default_currency_iso4217: 'USD' },
      },
    };
  };
}
