import { fieldLabel } from '../../metadata/labels';
import type { CrmServices } from '../../app/services';
import { AccessDeniedError, CaneError, FilterError, NotFoundError, ValidationError } from '../../errors';
import type { ModuleDef } from '../../metadata/registry';
import { isTruthy, maxLength } from '../../metadata/field-types';
import type { Actor } from '../../records/actor';
import type { PlannedWrite } from '../../records/batch';
import { emailAddressLinkRows, hasEmailFields } from '../../records/email-addresses';
import { formatDateTime, parseDateTime } from '../../records/time';
import { parseSqlOrderBy, parseSqlWhere } from '../../query/sql-where';
import { actorFor, LoginError, type UserRow } from '../../security/authenticate';
import { TooManyLoginsError } from '../../security/login-throttle';
import { SoapError, soapErrors } from './soap-errors';
import { searchColumns, searchableFields, searchFilter } from './search';
import { asString, fromNameValueList, toEntry } from './values';

/** The SuiteCRM release whose v4_1 answers Cane follows (get_server_info's suitecrm_version). */
const SUITECRM_VERSION = '7.14.6';

/** Parameter names of each v4_1 method, in order (service/v4_1 SugarWebServiceImplv4_1). */
export const SIGNATURES: Record<string, string[]> = {
  login: ['user_auth', 'application_name', 'name_value_list'],
  logout: ['session'],
  get_user_id: ['session'],
  get_server_info: [],
  seamless_login: ['session'],
  get_available_modules: ['session', 'filter'],
  get_module_fields: ['session', 'module_name', 'fields'],
  get_entry: ['session', 'module_name', 'id', 'select_fields', 'link_name_to_fields_array', 'track_view'],
  get_entries: ['session', 'module_name', 'ids', 'select_fields', 'link_name_to_fields_array', 'track_view'],
  get_entry_list: ['session', 'module_name', 'query', 'order_by', 'offset', 'select_fields', 'link_name_to_fields_array', 'max_results', 'deleted', 'favorites'],
  get_entries_count: ['session', 'module_name', 'query', 'deleted'],
  set_entry: ['session', 'module_name', 'name_value_list', 'track_view'],
  set_entries: ['session', 'module_name', 'name_value_lists'],
  get_relationships: ['session', 'module_name', 'module_id', 'link_field_name', 'related_module_query', 'related_fields', 'related_module_link_name_to_fields_array', 'deleted', 'order_by', 'offset', 'limit'],
  search_by_module: ['session', 'search_string', 'modules', 'offset', 'max_results', 'assigned_user_id', 'select_fields', 'unified_search_only', 'favorites'],
  set_relationships: ['session', 'module_names', 'module_ids', 'link_field_names', 'related_ids', 'name_value_lists', 'delete_array'],
  set_relationship: ['session', 'module_name', 'module_id', 'link_field_name', 'related_ids', 'name_value_list', 'delete'],
};

type Args = Record<string, unknown>;
interface Call { args: Args; ip: string }

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',').map((s) => s.trim()) : []);
const int = (v: unknown, fallback: number) => (v === '' || v === undefined || v === null || Number(v) < 0 || !Number.isFinite(Number(v)) ? fallback : Math.floor(Number(v)));

/** The v4_1 methods, each turning Sugar's arguments into record-service calls and Sugar's result shapes. */
export function legacyMethods(services: CrmServices) {
  const { engine, tokens, auth, acl } = services;
  const registry = engine.registry;
  const records = engine.records;

  async function session(args: Args): Promise<{ actor: Actor; user: UserRow }> {
    const id = typeof args.session === 'string' ? args.session : '';
    const found = id ? await tokens.verifyUser(id, 'session') : undefined;
    const user = found?.user as UserRow | undefined;
    if (!user || user.status === 'Inactive') throw soapErrors.invalidSession();
    return { actor: actorFor(user), user };
  }

  function moduleOf(args: Args): ModuleDef {
    const module = registry.modules.get(String(args.module_name ?? ''));
    if (!module) throw soapErrors.noModule(args.module_name);
    return module;
  }

  /** Each record's requested links as SuiteCRM's get_return_value_for_link_fields gives them: [{name, records: [name_value_list]}]. */
  async function linkedRecords(actor: Actor, module: ModuleDef, ids: string[], spec: unknown) {
    if (!Array.isArray(spec) || !spec.length) return [];
    const result = [];
    for (const id of ids) {
      const links = [];
      for (const item of spec as Array<{ name?: string; value?: unknown }>) {
        if (item?.name === 'email_addresses' && !module.links.email_addresses && hasEmailFields(module)) {
          links.push({ name: 'email_addresses', records: await emailAddressLink(module, id, list(item.value)) });
          continue;
        }
        const link = module.links[String(item?.name)];
        if (!link) throw soapErrors.noRelationship(item?.name);
        const target = registry.module(link.module);
        const page = await records.listRelated(actor, module.name, id, link.name, { maxNum: 1000 });
        const fields = list(item.value);
        links.push({ name: link.name, records: page.records.map((r) => toEntry(target, r, fields.length ? fields : undefined).name_value_list) });
      }
      result.push(links);
    }
    return result;
  }

  /** Sugar's `email_addresses` link of a record the actor can see: its addresses, with the fields asked for. */
  async function emailAddressLink(module: ModuleDef, id: string, fields: string[]) {
    const rows = (await emailAddressLinkRows(engine.db.knex, module.name, [id])).get(id) ?? [];
    return rows.map((row) => Object.fromEntries(Object.entries(row).filter(([name]) => !fields.length || fields.includes(name)).map(([name, value]) => [name, { name, value }])));
  }

  /** get_entry_list's v4 form of the same: [{link_list: [{name, records: [{link_value: name_value_list}]}]}]. */
  async function relationshipList(actor: Actor, module: ModuleDef, ids: string[], spec: unknown) {
    const perRecord = await linkedRecords(actor, module, ids, spec);
    return perRecord.map((links) => ({ link_list: links.map(({ name, records: rows }) => ({ name, records: rows.map((row) => ({ link_value: row })) })) }));
  }

  return {
    async login({ args, ip }: Call) {
      const userAuth = (args.user_auth ?? {}) as { user_name?: string; password?: string; encryption?: string };
      if (typeof userAuth.user_name !== 'string' || typeof userAuth.password !== 'string') throw soapErrors.invalidLogin();
      const plain = String(userAuth.encryption ?? '').toUpperCase() === 'PLAIN';
      let user: UserRow;
      try {
        user = await auth.login(userAuth.user_name, userAuth.password, { isMd5: !plain, ip });
      } catch (err) {
        if (err instanceof LoginError) throw err.reason === 'inactive' ? soapErrors.inactiveUser() : soapErrors.invalidLogin();
        if (err instanceof TooManyLoginsError) throw soapErrors.tooManyLogins(err.message);
        throw err;
      }
      const id = await tokens.issue('session', user.id, { clientId: String(args.application_name ?? 'v4_1').slice(0, 64), ip });
      const nv = (name: string, value: unknown) => ({ name, value });
      const actor = actorFor(user);
      return {
        id,
        module_name: 'Users',
        name_value_list: {
          user_id: nv('user_id', user.id),
          user_name: nv('user_name', user.user_name),
          user_language: nv('user_language', 'en_us'),
          user_currency_id: nv('user_currency_id', '-99'),
          user_is_admin: nv('user_is_admin', actor.type === 'user' && actor.isAdmin),
          user_default_team_id: nv('user_default_team_id', null),
          user_default_dateformat: nv('user_default_dateformat', 'Y-m-d'),
          user_default_timeformat: nv('user_default_timeformat', 'H:i'),
          user_number_seperator: nv('user_number_seperator', ','),
          user_decimal_seperator: nv('user_decimal_seperator', '.'),
          user_number_separator: nv('user_number_separator', ','),
          user_decimal_separator: nv('user_decimal_separator', '.'),
          mobile_max_list_entries: nv('mobile_max_list_entries', 10),
          mobile_max_subpanel_entries: nv('mobile_max_subpanel_entries', 3),
          user_currency_name: nv('user_currency_name', 'US Dollars'),
        },
      };
    },

    async logout({ args }: Call) {
      await session(args);
      await tokens.revoke(String(args.session));
      return null;
    },

    async get_user_id({ args }: Call) {
      return (await session(args)).user.id;
    },

    async seamless_login({ args }: Call) {
      try {
        await session(args);
      } catch (err) {
        if (err instanceof SoapError) return 0;
        throw err;
      }
      return 1;
    },

    async get_server_info() {
      return { flavor: 'CE', version: '6.5.25', suitecrm_version: SUITECRM_VERSION, gmt_time: formatDateTime(new Date()) };
    },

    async get_available_modules({ args }: Call) {
      const { actor } = await session(args);
      const modules = [];
      for (const m of registry.modules.values()) {
        if ((await acl.level(actor, m, 'access')) <= 0) continue;
        const acls = [];
        for (const action of ['edit', 'delete', 'list', 'view', 'import', 'export'] as const) acls.push({ action, access: (await acl.level(actor, m, action)) >= 75 });
        modules.push({ module_key: m.name, module_label: registry.appListStrings.moduleList?.[m.name] ?? m.strings.LBL_MODULE_NAME ?? m.name, favorite_enabled: false, acls });
      }
      return { modules };
    },

    async get_module_fields({ args }: Call) {
      await session(args);
      const module = moduleOf(args);
      const wanted = list(args.fields);
      const moduleFields: Record<string, unknown> = {};
      const linkFields: Record<string, unknown> = {};
      for (const [name, field] of Object.entries(module.fields)) {
        if (field.sensitive || (wanted.length && !wanted.includes(name))) continue;
        if (field.type === 'link') {
          const link = module.links[name];
          linkFields[name] = { name, type: 'link', group: field.group ?? '', id_name: field.id_name ?? '', relationship: field.relationship, module: link?.module ?? field.module ?? '', bean_name: field.bean_name ?? '' };
          continue;
        }
        const dropdown = field.options ? registry.dropdown(field.options) : undefined;
        moduleFields[name] = {
          name,
          type: field.type,
          group: field.group ?? '',
          id_name: field.id_name ?? '',
          label: fieldLabel(registry, module.name, name),
          required: isTruthy(field.required) ? 1 : 0,
          options: dropdown ? Object.fromEntries(Object.entries(dropdown).map(([k, v]) => [k, { name: k, value: v }])) : {},
          related_module: field.module ?? '',
          calculated: false,
          len: asString(maxLength(field)),
          ...(field.default !== undefined ? { default_value: asString(field.default) } : {}),
        };
      }
      return { module_name: module.name, table_name: module.table, module_fields: moduleFields, link_fields: linkFields };
    },

    async get_entry({ args, ip }: Call) {
      return this.get_entries({ args: { ...args, ids: [args.id] }, ip });
    },

    async get_entries({ args }: Call) {
      const { actor } = await session(args);
      const module = moduleOf(args);
      const select = list(args.select_fields);
      const entries = [];
      const found: string[] = [];
      for (const id of list(args.ids)) {
        try {
          const record = await records.retrieve(actor, module.name, id);
          entries.push(toEntry(module, record, select.length ? select : undefined));
          found.push(id);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
          entries.push({ id, module_name: module.name, name_value_list: [{ name: 'warning', value: 'Access to this object is denied since it has been deleted or does not exist' }, { name: 'deleted', value: '1' }] });
        }
      }
      return { entry_list: entries, relationship_list: await linkedRecords(actor, module, found, args.link_name_to_fields_array) };
    },

    async get_entry_list({ args }: Call) {
      const { actor } = await session(args);
      const module = moduleOf(args);
      const query = parseSqlWhere(module, String(args.query ?? ''));
      // favorites: only the records the user marked as favourites
      const filter = isTruthy(args.favorites) ? [...(query ?? []), { $favorite: '' }] : query;
      const orderBy = parseSqlOrderBy(module, String(args.order_by ?? ''));
      const offset = int(args.offset, 0);
      const maxNum = Math.min(int(args.max_results, 0) || 20, 1000);
      const deleted = isTruthy(args.deleted);
      const select = list(args.select_fields);
      // Only the selected fields are computed (relate names, e-mail addresses), as Sugar's select does.
      const page = await records.list(actor, module.name, { filter, orderBy, offset, maxNum, deleted, ...(select.length ? { fields: select } : {}) });
      // The last page tells the total itself; only a page with more after it needs the count (-1 under disable_count_query, as Sugar answers).
      const lastPage = page.nextOffset === -1 && (page.records.length || !offset);
      const total = lastPage ? offset + page.records.length : services.disableCountQuery ? -1 : await records.count(actor, module.name, { filter, deleted });
      return {
        result_count: page.records.length,
        total_count: String(total),
        next_offset: offset + page.records.length,
        entry_list: page.records.map((r) => toEntry(module, r, select.length ? select : undefined)),
        relationship_list: await relationshipList(actor, module, page.records.map((r) => r.id), args.link_name_to_fields_array),
      };
    },

    async get_entries_count({ args }: Call) {
      const { actor } = await session(args);
      const module = moduleOf(args);
      const filter = parseSqlWhere(module, String(args.query ?? ''));
      return { result_count: String(await records.count(actor, module.name, { filter, deleted: isTruthy(args.deleted) })) };
    },

    async set_entry({ args }: Call) {
      const { actor } = await session(args);
      const module = moduleOf(args);
      const values = fromNameValueList(args.name_value_list);
      const id = await saveEntry(actor, module, values);
      const entryList = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, { name, value: asString(value) }]));
      return { id, entry_list: entryList };
    },

    async set_entries({ args }: Call) {
      const { actor } = await session(args);
      const module = moduleOf(args);
      if (!Array.isArray(args.name_value_lists)) throw soapErrors.invalidData('name_value_lists must be a list');
      // One transaction: a failure or a crash leaves none of the entries written, so a retry duplicates nothing.
      const entries = args.name_value_lists.map((nvl: unknown) => fromNameValueList(nvl));
      const { results } = await records.together(entries.map((values: Record<string, unknown>) => () => planEntry(actor, module, values)), 'all');
      return { ids: results };
    },

    async get_relationships({ args }: Call) {
      const { actor } = await session(args);
      const module = moduleOf(args);
      const link = module.links[String(args.link_field_name ?? '')];
      if (!link) throw soapErrors.noRelationship(args.link_field_name);
      const target = registry.module(link.module);
      const filter = parseSqlWhere(target, String(args.related_module_query ?? ''));
      const orderBy = parseSqlOrderBy(target, String(args.order_by ?? ''));
      const limit = int(args.limit, 0);
      const page = await records.listRelated(actor, module.name, String(args.module_id ?? ''), link.name, {
        filter, orderBy, offset: int(args.offset, 0), maxNum: limit > 0 ? Math.min(limit, 1000) : 1000,
      });
      const select = list(args.related_fields);
      return {
        entry_list: page.records.map((r) => toEntry(target, r, select.length ? select : undefined)),
        relationship_list: await relationshipList(actor, target, page.records.map((r) => r.id), args.related_module_link_name_to_fields_array),
      };
    },

    async search_by_module({ args }: Call) {
      const { actor } = await session(args);
      const text = String(args.search_string ?? '').trim();
      const entryList: Array<{ name: string; records: Array<ReturnType<typeof toEntry>['name_value_list']> }> = [];
      if (!text) return { entry_list: entryList };
      const wanted = list(args.modules);
      const unifiedOnly = args.unified_search_only === undefined || args.unified_search_only === null || args.unified_search_only === '' || isTruthy(args.unified_search_only);
      const maxResults = int(args.max_results, 20) || 20;
      for (const module of registry.modules.values()) {
        if (!wanted.includes(module.name) || (await acl.level(actor, module, 'list')) <= 0) continue;
        const fields = searchableFields(module, unifiedOnly);
        if (!fields.length) continue;
        const filter = searchFilter(fields, text, String(args.assigned_user_id ?? ''), module);
        if (isTruthy(args.favorites)) filter.push({ $favorite: '' });
        const page = await records.list(actor, module.name, { filter, offset: int(args.offset, 0), maxNum: Math.min(maxResults, 1000) });
        const columns = searchColumns(module, list(args.select_fields));
        entryList.push({ name: module.name, records: page.records.map((r) => toEntry(module, r, columns).name_value_list) });
      }
      return { entry_list: entryList };
    },

    async set_relationship({ args }: Call) {
      const { actor } = await session(args);
      return relate(actor, moduleOf(args), args.module_id, args.link_field_name, list(args.related_ids), args.name_value_list, isTruthy(args.delete));
    },

    async set_relationships({ args }: Call) {
      const { actor } = await session(args);
      const [modules, ids, links, related, values, deletes] = [args.module_names, args.module_ids, args.link_field_names, args.related_ids, args.name_value_lists, args.delete_array].map((a) => (Array.isArray(a) ? a : []));
      const totals = { created: 0, failed: 0, deleted: 0 };
      for (const [i, moduleName] of modules.entries()) {
        const module = registry.modules.get(String(moduleName));
        const result = module
          ? await relate(actor, module, ids[i], links[i], Array.isArray(related[i]) ? related[i].map(String) : [String(related[i] ?? '')], values[i], isTruthy(deletes[i]))
          : { created: 0, failed: 1, deleted: 0 };
        totals.created += result.created;
        totals.failed += result.failed;
        totals.deleted += result.deleted;
      }
      return totals;
    },
  };

  /**
   * One set_relationship: links (or, with remove, unlinks) each related id, one pair at a time; a
   * link is one row per pair, so repeating a call that was cut short adds nothing twice. SuiteCRM
   * answers 1 or 0 per kind, and counts an unknown link as a failure rather than an error.
   */
  async function relate(actor: Actor, module: ModuleDef, moduleId: unknown, linkName: unknown, relatedIds: string[], nameValueList: unknown, remove: boolean) {
    const link = module.links[String(linkName ?? '')];
    if (!link) return { created: 0, failed: 1, deleted: 0 };
    const relFields = fromNameValueList(nameValueList);
    let failed = 0;
    let done = 0;
    for (const relatedId of relatedIds) {
      try {
        if (remove) await records.unlink(actor, module.name, String(moduleId), link.name, relatedId);
        else await records.link(actor, module.name, String(moduleId), link.name, relatedId, relFields);
        done++;
      } catch (err) {
        if (!(err instanceof CaneError)) throw err;
        failed++;
      }
    }
    return { created: !remove && done > 0 ? 1 : 0, failed: failed > 0 ? 1 : 0, deleted: remove && done > 0 ? 1 : 0 };
  }

  /** set_entry semantics: an id updates (or creates with new_with_id), none creates, deleted=1 deletes. */
  async function saveEntry(actor: Actor, module: ModuleDef, values: Record<string, unknown>): Promise<string> {
    const planned = await planEntry(actor, module, values);
    await engine.db.knex.transaction((trx) => planned.write(trx));
    return planned.finish();
  }

  async function planEntry(actor: Actor, module: ModuleDef, values: Record<string, unknown>): Promise<PlannedWrite<string>> {
    const { id, new_with_id: newWithId, deleted, date_modified: dateModified, ...fields } = values as Record<string, unknown> & { id?: string };
    if (id && !isTruthy(newWithId)) {
      const exists = await engine.db.knex(module.table).where({ id }).first('id', 'deleted');
      if (!exists) throw soapErrors.invalidData(`no ${module.name} record has id ${String(id)}; send new_with_id to create one with that id`);
      if (isTruthy(deleted)) return returning(await records.planDelete(actor, module.name, String(id)), async () => String(id));
      // A date_modified sent with an update is the version the client read: a newer one is a conflict.
      const expected = typeof dateModified === 'string' && dateModified ? parseDateTime(dateModified) ?? dateModified : undefined;
      return returning(await records.planSave(actor, module.name, String(id), fields, { expectedDateModified: expected }), async (saved) => saved.id);
    }
    return returning(await records.planSave(actor, module.name, undefined, id ? { ...fields, id } : fields), async (saved) => saved.id);
  }
}

/** A planned write whose result is mapped once it has finished. */
function returning<T, R>(planned: PlannedWrite<T>, map: (result: T) => Promise<R>): PlannedWrite<R> {
  return { write: (trx) => planned.write(trx), finish: async () => map(await planned.finish()) };
}

/** Record-service errors in Sugar's v4_1 SoapError terms. */
export function toSoapError(err: unknown) {
  if (err instanceof FilterError) return soapErrors.accessDenied(err.message);
  if (err instanceof AccessDeniedError) return soapErrors.accessDenied(err.message);
  if (err instanceof ValidationError) return soapErrors.invalidData(err.message);
  if (err instanceof NotFoundError) return soapErrors.invalidData(err.message);
  if (err instanceof CaneError) return soapErrors.invalidData(err.message);
  return undefined;
}
