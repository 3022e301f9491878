import type Router from '@koa/router';
import type { Context } from 'koa';
import { stringify } from 'csv-stringify/sync';
import { AccessDeniedError, CaneError, NotFoundError, ValidationError } from '../../errors';
import type { ModuleDef } from '../../metadata/registry';
import { isStored, valueKind } from '../../metadata/field-types';
import type { Filter } from '../../query/filter-to-knex';
import { parseOrderBy } from '../../query/order-by';
import { appliesTo, fillHref, type ActionDef } from '../../views/actions';
import { fieldView, type FieldContext } from '../../views/field-view';
import { massUpdatable } from '../rest-v10/records';
import type { PlannedWrite } from '../../records/batch';
import { readFormData, type FormData } from './forms';
import { publish } from '../../records/context';
import { formatDateTime } from '../../records/time';
import type { Ui } from './ui-context';
import { isTextSearch, listSearchFilter, matchParam } from '../../search/list-search';

const PAGE = 20;

interface Column { key: string; field: string; label: string; link: boolean; sortable: boolean; default: boolean }

function columnsOf(ui: Ui, module: ModuleDef): Column[] {
  return Object.entries(module.views.list ?? { NAME: { default: true, link: true } }).map(([key, def]) => {
    const field = key.toLowerCase();
    const f = module.fields[field];
    const sortable = (def as { sortable?: boolean }).sortable !== false && Boolean(f) && ((isStored(f) && !f.sensitive) || Boolean(f.db_concat_fields));
    return { key, field, label: ui.label(module.name, String((def as { label?: string }).label ?? f?.vname ?? key)), link: Boolean((def as { link?: boolean }).link), sortable, default: Boolean((def as { default?: boolean }).default) };
  });
}

/** Query parameters of a list page that are not part of its search. */
const NOT_SEARCH = ['offset', 'notice', 'notice_list', 'columns'];

/** The filter a list page's query (its search form) stands for: the same one the page lists and "all matching records" covers. */
export function listFilter(module: ModuleDef, query: Record<string, string>): Filter {
  const searchNames = Object.values((module.views.search?.layout?.[query.advanced === '1' ? 'advanced_search' : 'basic_search'] ?? {}) as Record<string, { name: string }>).map((e) => e.name);
  return listSearchFilter(module, searchNames, query);
}

/** A list page's search as a query string, for a form to carry to the page that acts on every matching record. */
function searchQuery(query: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (!NOT_SEARCH.includes(k) && v !== '') params.set(k, v);
  return params.toString();
}

/** Mass actions that can act on every record matching the search, not only the rows selected on the page. */
const ENTIRE_LIST_ACTIONS = ['export', 'send_sms'];

export function listPage(router: Router, ui: Ui): void {
  const { engine } = ui.services;

  async function searchInputs(ctx: Context, module: ModuleDef, kind: 'basic_search' | 'advanced_search', query: Record<string, string>, fctx: FieldContext) {
    const layout = module.views.search?.layout?.[kind] ?? {};
    const inputs = [];
    for (const entry of Object.values(layout) as Array<{ name: string; label?: string }>) {
      if (entry.name === 'current_user_only') {
        inputs.push({ name: 'current_user_only', label: ui.label(module.name, 'LBL_CURRENT_USER_FILTER'), partial: 'bool', checked: query.current_user_only === '1', isMine: true });
        continue;
      }
      const field = module.fields[entry.name];
      if (!field) continue;
      const view = fieldView(fctx, entry.name, { [entry.name]: query[`s_${entry.name}`] ?? null }, { label: entry.label });
      const kindOf = valueKind(field);
      const isDate = kindOf === 'date' || kindOf === 'datetime';
      let options = view.options;
      if (field.module === 'Users' && (field.type === 'relate' || field.type === 'assigned_user_name') && isStored(field)) {
        const users = await engine.db.knex('users').where({ deleted: 0 }).orderBy('user_name').limit(200).select('id', 'user_name');
        options = [{ key: '', label: '\u00a0', selected: !query[`s_${entry.name}`] }, ...users.map((u: { id: string; user_name: string }) => ({ key: u.id, label: u.user_name, selected: query[`s_${entry.name}`] === u.id }))];
      }
      // The advanced search lets each text field match anywhere in the value, not only at its start.
      const match = kind === 'advanced_search' && !options && isTextSearch(field) ? { matchName: matchParam(entry.name), contains: query[matchParam(entry.name)] === 'contains' } : {};
      inputs.push({ ...view, ...match, name: `s_${entry.name}`, isDate, isSelect: Boolean(options), options, from: query[`s_${entry.name}_from`] ?? '', to: query[`s_${entry.name}_to`] ?? '', fromName: `s_${entry.name}_from`, toName: `s_${entry.name}_to`, value: query[`s_${entry.name}`] ?? '' });
    }
    return inputs;
  }

  router.get('/:module', async (ctx) => {
    const module = ui.module(ctx.params.module);
    const actor = ui.actor(ctx);
    const prefs = await ui.preferences(actor.id!);
    const query = Object.fromEntries(Object.entries(ctx.query).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const advanced = query.advanced === '1';
    const filter = listFilter(module, query);
    const columns = columnsOf(ui, module);
    const chosen = query.columns ? query.columns.split(',').filter((c) => columns.some((col) => col.key === c)) : [];
    const shown = chosen.length ? columns.filter((c) => chosen.includes(c.key)) : columns.filter((c) => c.default);
    const orderBy = query.order_by && /^[a-z0-9_]+:(asc|desc)$/i.test(query.order_by) && shown.some((c) => c.sortable && c.field === query.order_by.split(':')[0]) ? parseOrderBy(query.order_by) : [];
    const offset = Math.max(0, Number.parseInt(query.offset ?? '0', 10) || 0);
    const [page, total] = await Promise.all([
      engine.records.list(actor, module.name, { filter, orderBy, offset, maxNum: PAGE }),
      engine.records.count(actor, module.name, { filter }),
    ]);
    const base = ui.base(ctx);
    const fctx: FieldContext = { registry: engine.registry, module, timeZone: prefs.timeZone, base };
    const keep = (overrides: Record<string, string | undefined>) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...query, ...overrides })) if (v !== undefined && v !== '') params.set(k, v);
      const qs = params.toString();
      return `${base}/${module.name}${qs ? `?${qs}` : ''}`;
    };
    const current = orderBy[0];
    const levels = {
      edit: await ui.services.acl.level(actor, module, 'edit'),
      delete: await ui.services.acl.level(actor, module, 'delete'),
      massupdate: await ui.services.acl.level(actor, module, 'massupdate'),
      export: await ui.services.acl.level(actor, module, 'export'),
      view: await ui.services.acl.level(actor, module, 'view'),
      list: await ui.services.acl.level(actor, module, 'list'),
    } as Record<string, number>;
    const level = async (a: ActionDef) => {
      if (!a.aclModule) return levels[a.acl] ?? 0;
      return engine.registry.modules.has(a.aclModule) ? ui.services.acl.level(actor, engine.registry.module(a.aclModule), a.acl) : 0;
    };
    const massActions = [];
    for (const [id, a] of Object.entries(ui.actions.mass)) {
      if (!appliesTo(a, module) || (await level(a)) < 75) continue;
      massActions.push({ id, label: ui.label(module.name, a.label), confirm: a.confirm ? ui.label(module.name, a.confirm) : undefined, href: a.href, formAction: a.formAction ? fillHref(a.formAction, { base, module: module.name }) : undefined });
    }
    const massUpdateFields = massActions.some((a) => a.id === 'massupdate')
      ? Object.keys(module.fields).filter((f) => massUpdatable(module, f) && isStored(module.fields[f]) && !module.fields[f].admin_only).map((f) => {
          const view = fieldView(fctx, f, {});
          return { ...view, name: `mu_${f}`, options: view.options ? [{ key: '__nochange__', label: '— no change —', selected: true }, ...view.options.map((o) => ({ ...o, selected: false }))] : view.options };
        }).filter((v) => v.options)
      : [];
    const listButtons = [];
    for (const [id, a] of Object.entries(ui.actions.list)) {
      if (!a.href || !appliesTo(a, module) || (await level(a)) < 75) continue;
      listButtons.push({ id, label: ui.label(module.name, a.label), href: fillHref(a.href, { base, module: module.name }), primary: a.primary });
    }
    const addToList = massActions.find((a) => a.id === 'add_to_list');
    // The lists this user may see; none is chosen until the user picks one (no list by accident).
    const targetLists = addToList && engine.registry.modules.has('ProspectLists')
      ? (await engine.records.list(actor, 'ProspectLists', { orderBy: [{ field: 'name', direction: 'asc' }], maxNum: 200, fields: ['id', 'name'] })).records.map((r) => ({ id: r.id, name: String(r.name ?? r.id) }))
      : [];
    const noticeList = typeof ctx.query.notice_list === 'string' && targetLists.find((l) => l.id === ctx.query.notice_list);
    await ui.render(ctx, 'list', {
      title: ui.moduleLabel(module.name),
      moduleName: module.name,
      moduleLabel: ui.moduleLabel(module.name),
      createHref: levels.edit >= 75 ? `${base}/${module.name}/new` : undefined,
      listButtons,
      advanced,
      searchAction: `${base}/${module.name}`,
      basicHref: keep({ advanced: undefined, offset: undefined }),
      advancedHref: keep({ advanced: '1', offset: undefined }),
      search: await searchInputs(ctx, module, advanced ? 'advanced_search' : 'basic_search', query, fctx),
      hidden: [{ name: 'order_by', value: query.order_by ?? '' }, { name: 'columns', value: query.columns ?? '' }, ...(advanced ? [{ name: 'advanced', value: '1' }] : [])].filter((h) => h.value),
      columns: shown.map((c) => ({
        ...c,
        sortHref: c.sortable ? keep({ order_by: `${c.field}:${current?.field === c.field && current.direction === 'asc' ? 'desc' : 'asc'}`, offset: undefined }) : undefined,
        sorted: current?.field === c.field ? current.direction : undefined,
        ariaSort: current?.field === c.field ? (current.direction === 'asc' ? 'ascending' : 'descending') : 'none',
      })),
      allColumns: columns.map((c) => ({ key: c.key, label: c.label, checked: shown.includes(c) })),
      rows: page.records.map((r) => ({
        id: r.id,
        href: `${base}/${module.name}/${encodeURIComponent(r.id)}`,
        cells: shown.map((c) => ({ ...fieldView(fctx, c.field, r, { label: c.label }), link: c.link })),
      })),
      paging: {
        from: total ? offset + 1 : 0,
        to: offset + page.records.length,
        total,
        prevHref: offset > 0 ? keep({ offset: String(Math.max(0, offset - PAGE)) }) : undefined,
        nextHref: page.nextOffset > 0 ? keep({ offset: String(page.nextOffset) }) : undefined,
      },
      massActions,
      entireList: total > page.records.length && massActions.some((a) => ENTIRE_LIST_ACTIONS.includes(a.id))
        ? { total, query: searchQuery(query), actions: massActions.filter((a) => ENTIRE_LIST_ACTIONS.includes(a.id)).map((a) => a.label).join(' and ') }
        : undefined,
      massButtons: massActions.filter((a) => a.id !== 'add_to_list'),
      addToList,
      newTargetListHref: `${base}/ProspectLists/new`,
      massUpdateFields,
      targetLists,
      massAction: `${base}/${module.name}/mass`,
      returnTo: ctx.originalUrl,
      notice: typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 300) : undefined,
      noticeLink: noticeList ? { href: `${base}/ProspectLists/${encodeURIComponent(noticeList.id)}`, label: `Open '${noticeList.name}'` } : undefined,
    });
  });

  router.post('/:module/mass', async (ctx) => {
    const module = ui.module(ctx.params.module);
    const actor = ui.actor(ctx);
    const form = await readFormData(ctx, ui.services.bodyLimit);
    const back = safeReturn(ui, ctx, form, module);
    const refuse = (message: string, status: number) => ui.render(ctx, 'error', { title: 'Refused', message, links: [{ href: back, label: `Back to ${ui.moduleLabel(module.name)}` }] }, status);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) return refuse('The form had no valid security token; nothing was changed. Reload the page and try again.', 403);
    const action = form.get('action') ?? '';
    const def = ui.actions.mass[action];
    if (!def || !appliesTo(def, module)) return refuse(`Unknown action '${action}'; nothing was changed.`, 422);
    const ids = form.all('ids').filter((id) => /^[\w.-]{1,36}$/.test(id));
    if (form.get('select_entire_list') === '1') {
      if (action === 'export') return exportCsv(ctx, ui, module, listFilter(module, Object.fromEntries(new URLSearchParams(form.get('list_query') ?? ''))), []);
      return ctx.redirect(withNotice(back, `${ui.label(module.name, def.label)} works on the rows you select, not on all matching records; nothing was changed.`));
    }
    if (action === 'export') return exportCsv(ctx, ui, module, ids.length ? [{ id: { $in: ids } }] : [], ids);
    if (!ids.length) return ctx.redirect(withNotice(back, 'Select at least one record first.'));
    try {
      await ui.services.acl.check(actor, module, def.acl);
      let done = 0;
      let outcome = action === 'delete' ? ': deleted' : ': done';
      let noticeList: string | undefined;
      const failed: string[] = [];
      // Records the user may not change are reported and skipped; the rest commit in one transaction.
      const together = async (plan: (id: string) => Promise<PlannedWrite<unknown>>) => {
        const { failures } = await engine.records.together(ids.map((id) => () => plan(id)), 'each');
        done = ids.length - failures.length;
        failed.push(...failures.map((f) => messageOf(f.error)));
      };
      if (action === 'delete') {
        await together((id) => engine.records.planDelete(actor, module.name, id));
      } else if (action === 'massupdate') {
        const values = massUpdateValues(module, form);
        if (!Object.keys(values).length) return ctx.redirect(withNotice(back, 'Choose at least one field to update.'));
        await together((id) => engine.records.planSave(actor, module.name, id, values));
      } else if (action === 'add_to_list') {
        const listId = form.get('prospect_list_id') ?? '';
        if (!listId) return ctx.redirect(withNotice(back, 'Choose a target list first; nothing was added.'));
        const lists = engine.registry.module('ProspectLists');
        const link = Object.values(lists.links).find((l) => l.module === module.name);
        if (!link) return refuse(`${module.name} records cannot be added to target lists.`, 422);
        const list = await engine.records.retrieve(actor, 'ProspectLists', listId, { fields: ['id', 'name'] }).catch((e) => {
          if (e instanceof NotFoundError) return undefined;
          throw e;
        });
        if (!list) return ctx.redirect(withNotice(back, 'That target list no longer exists; nothing was added.'));
        outcome = ` added to '${String(list.name ?? list.id)}'`;
        noticeList = list.id;
        for (const id of ids) await engine.records.link(actor, 'ProspectLists', listId, link.name, id).then(() => done++, (e) => failed.push(messageOf(e)));
      } else {
        return refuse(`Action '${action}' is not handled here.`, 422);
      }
      const result = withNotice(back, `${done} of ${ids.length} records${outcome}${failed.length ? `; ${failed.length} refused: ${[...new Set(failed)].join('; ')}` : ''}`);
      ctx.redirect(noticeList ? withParam(result, 'notice_list', noticeList) : result);
    } catch (err) {
      if (err instanceof AccessDeniedError) return refuse(err.message, 403);
      throw err;
    }
  });
}

function messageOf(err: unknown): string {
  if (err instanceof ValidationError) return err.problems.map((p) => `${p.field} ${p.message}`).join(', ');
  if (err instanceof CaneError) return err.message;
  throw err;
}

function massUpdateValues(module: ModuleDef, form: FormData): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const name of form.names()) {
    if (!name.startsWith('mu_')) continue;
    const field = name.slice(3);
    const value = form.get(name);
    if (value === '__nochange__' || value === undefined) continue;
    if (!massUpdatable(module, field)) throw new AccessDeniedError(`${field} cannot be mass updated`);
    values[field] = value;
  }
  return values;
}

function safeReturn(ui: Ui, ctx: Context, form: FormData, module: ModuleDef): string {
  const back = form.get('return_to') ?? '';
  const listBase = `${ui.base(ctx)}/${module.name}`;
  return back.startsWith(listBase) && !back.includes('//') ? back : listBase;
}

function withNotice(url: string, notice: string): string {
  const u = new URL(url, 'http://x');
  u.searchParams.delete('notice_list');
  u.searchParams.set('notice', notice);
  return `${u.pathname}${u.search}`;
}

function withParam(url: string, name: string, value: string): string {
  const u = new URL(url, 'http://x');
  u.searchParams.set(name, value);
  return `${u.pathname}${u.search}`;
}

/** The records the filter matches (every record the user may list when it is empty) as CSV; `ids` are the rows chosen, for the export event. */
async function exportCsv(ctx: Context, ui: Ui, module: ModuleDef, filter: Filter, ids: string[]) {
  const actor = ui.actor(ctx);
  await ui.services.acl.check(actor, module, 'export');
  const columns = module.columns.filter((c) => !module.fields[c].sensitive);
  const rows: unknown[][] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await ui.services.engine.records.list(actor, module.name, { filter, offset, maxNum: 500, orderBy: [{ field: 'id', direction: 'asc' }] });
    for (const r of page.records) rows.push(columns.map((c) => { const v = r[c]; return Array.isArray(v) ? v.join(',') : typeof v === 'boolean' ? (v ? '1' : '0') : v ?? ''; }));
    if (page.nextOffset < 0) break;
  }
  // A leading = + - @ would be a formula in a spreadsheet; prefix them so exported data stays data.
  const safe = rows.map((row) => row.map((v) => (typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v)));
  await publish(ui.services.engine.context, {
    event: 'export', module: module.name, id: '', isUpdate: false, actorId: actor.id, count: rows.length, changes: {},
    record: { date_modified: formatDateTime(ui.services.engine.context.clock()), modified_user_id: actor.id ?? null, ids: ids.slice(0, 1000) },
  });
  ctx.type = 'text/csv; charset=utf-8';
  ctx.set('Content-Disposition', `attachment; filename="${module.name}.csv"`);
  ctx.body = stringify([columns, ...safe]);
}
