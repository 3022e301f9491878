import type Router from '@koa/router';
import type { Context } from 'koa';
import { AccessDeniedError, CaneError, ConflictError, HookVeto, NotFoundError, ValidationError } from '../../errors';
import type { LinkDef, ModuleDef } from '../../metadata/registry';
import type { PanelLayout } from '../../metadata/types';
import { cellLabel, cellName } from '../../metadata/layout-cells';
import { findLabel } from '../../metadata/labels';
import { isStored } from '../../metadata/field-types';
import type { ModuleAction } from '../../records/context';
import type { RecordData } from '../../records/read';
import { parseDateTime } from '../../records/time';
import { appliesTo, fillHref } from '../../views/actions';
import { fieldView, partialFor, type FieldContext, type FieldView } from '../../views/field-view';
import { utcToZoned, zonedToUtc } from '../../views/time-zone';
import { readFormData, type FormData } from './forms';
import type { Ui } from './ui-context';

const SUBPANEL_PAGE = 10;
const SYSTEM_INPUTS = new Set(['csrf', 'date_modified', 'view', 'return_to', 'return_module', 'return_id']);

/** Fields a form may set: the cells of the layout that are not read-only. */
export function editableFields(module: ModuleDef, layout: PanelLayout | undefined): string[] {
  const names: string[] = [];
  for (const rows of Object.values(layout?.panels ?? {})) {
    for (const row of rows) for (const cell of row) {
      const name = cellName(cell);
      const field = name ? module.fields[name] : undefined;
      if (name && field && field.readonly !== true && field.readonly !== 'true' && !field.system_only && field.type !== 'link') names.push(name);
    }
  }
  return names;
}

export function recordPages(router: Router, ui: Ui): void {
  const { engine, acl } = ui.services;

  async function fieldContext(ctx: Context, module: ModuleDef): Promise<FieldContext> {
    const prefs = await ui.preferences(ui.actor(ctx).id!);
    return { registry: engine.registry, module, timeZone: prefs.timeZone, base: ui.base(ctx) };
  }

  async function allowed(ctx: Context, module: ModuleDef, action: ModuleAction, record?: Record<string, unknown>): Promise<boolean> {
    try {
      await acl.check(ui.actor(ctx), module, action, record);
      return true;
    } catch (err) {
      if (err instanceof AccessDeniedError) return false;
      throw err;
    }
  }

  function panelsOf(fctx: FieldContext, layout: PanelLayout | undefined, record: Record<string, unknown>, mode: 'detail' | 'edit', errors: Record<string, string> = {}, readonlyFields?: ReadonlySet<string>) {
    return Object.entries(layout?.panels ?? {}).map(([key, rows], i) => ({
      key,
      id: `panel-${i}`,
      label: ui.panelLabel(fctx.module.name, key),
      rows: rows.map((row) => ({
        cells: row.filter((c) => cellName(c) && fctx.module.fields[cellName(c)!]).map((cell) => {
          const name = cellName(cell)!;
          const view = fieldView(fctx, name, record, { label: cellLabel(cell), error: errors[name], readonlyFields });
          return { ...view, mode, span: row.length === 1 };
        }),
      })).filter((r) => r.cells.length),
    })).filter((p) => p.rows.length);
  }

  async function detailButtons(ctx: Context, module: ModuleDef, record: RecordData) {
    const wanted = (module.views.detail?.templateMeta?.form as { buttons?: unknown[] } | undefined)?.buttons ?? [];
    const ids = [...wanted.filter((b): b is string => typeof b === 'string'), ...Object.entries(ui.actions.detail).filter(([, a]) => a.always).map(([id]) => id)];
    const buttons = [];
    for (const id of [...new Set(ids)]) {
      const action = ui.actions.detail[id];
      if (!action?.href || !appliesTo(action, module)) continue;
      if (Object.entries(action.hide_when ?? {}).some(([field, values]) => values.includes(record[field] as never))) continue;
      const guarded = action.aclModule && engine.registry.modules.has(action.aclModule) ? engine.registry.module(action.aclModule) : undefined;
      if (action.aclModule && !guarded) continue;
      if (!(await (guarded ? allowed(ctx, guarded, action.acl) : allowed(ctx, module, action.acl, record)))) continue;
      buttons.push({ id, label: ui.label(module.name, action.label), href: fillHref(action.href, { base: ui.base(ctx), module: module.name, id: record.id }), post: action.method === 'post', confirm: action.confirm ? ui.label(module.name, action.confirm) : undefined, primary: action.primary });
    }
    return buttons;
  }

  async function subpanels(ctx: Context, module: ModuleDef, record: RecordData, canEdit: boolean) {
    const setup = Object.entries(module.views.subpanels?.subpanel_setup ?? {}).sort(([, a], [, b]) => Number(a.order ?? 0) - Number(b.order ?? 0));
    const result = [];
    const base = ui.base(ctx);
    for (const [key, def] of setup) {
      if (def.type === 'collection') {
        const panel = await collectionSubpanel(ctx, module, record, key, def);
        if (panel) result.push(panel);
        continue;
      }
      const link = module.links[String(def.get_subpanel_data)];
      if (!link) continue;
      const target = engine.registry.module(link.module);
      if (!(await allowed(ctx, target, 'list'))) continue;
      // Without a join table, linking and unlinking rewrite the child's key: the child must be editable too.
      const canRelink = canEdit && (Boolean(link.relationship.join_table) || link.side === 'rhs' || (await allowed(ctx, target, 'edit')));
      const offset = Math.max(0, Number.parseInt(String(ctx.query[`sp_${key}`] ?? '0'), 10) || 0);
      const columns = ((def.list_fields as string[] | undefined) ?? ['name']).filter((f) => target.fields[f]);
      const sortBy = typeof def.sort_by === 'string' && target.fields[def.sort_by] && (isStored(target.fields[def.sort_by]) || target.fields[def.sort_by].db_concat_fields) ? def.sort_by : 'date_modified';
      const page = await engine.records.listRelated(ui.actor(ctx), module.name, record.id, link.name, { offset, maxNum: SUBPANEL_PAGE, orderBy: [{ field: sortBy, direction: def.sort_order === 'desc' ? 'desc' : 'asc' }] });
      const tctx = await fieldContext(ctx, target);
      const here = (o: number) => { const u = new URL(ctx.originalUrl, 'http://x'); u.searchParams.set(`sp_${key}`, String(o)); return `${u.pathname}${u.search}#subpanel-${key}`; };
      result.push({
        key,
        title: ui.label(module.name, String(def.title_key ?? link.name)),
        headers: columns.map((c) => ui.fieldLabel(target.name, c)),
        rows: page.records.map((r) => ({
          id: r.id,
          href: `${base}/${target.name}/${encodeURIComponent(r.id)}`,
          cells: columns.map((c, i) => ({ ...fieldView(tctx, c, r), link: i === 0 })),
          unlinkAction: canRelink ? `${base}/${module.name}/${encodeURIComponent(record.id)}/unlink/${link.name}/${encodeURIComponent(r.id)}` : undefined,
        })),
        prevHref: offset > 0 ? here(Math.max(0, offset - SUBPANEL_PAGE)) : undefined,
        nextHref: page.nextOffset > 0 ? here(page.nextOffset) : undefined,
        linkAction: canRelink && !link.one ? `${base}/${module.name}/${encodeURIComponent(record.id)}/link/${link.name}` : undefined,
        targetModule: target.name,
        targetLabel: ui.singular(target.name),
        createHref: canEdit && (await allowed(ctx, target, 'edit')) ? `${base}/${target.name}/new?${new URLSearchParams({ view: 'quick', return_module: module.name, return_id: record.id, return_link: link.name })}` : undefined,
      });
    }
    return result;
  }

  /**
   * A subpanel collection (Sugar's History and Activities): the records of every member link the user
   * may list, newest first, one page of the union. Members fed by a function were left out at load.
   */
  async function collectionSubpanel(ctx: Context, module: ModuleDef, record: RecordData, key: string, def: Record<string, unknown>) {
    const base = ui.base(ctx);
    const offset = Math.max(0, Number.parseInt(String(ctx.query[`sp_${key}`] ?? '0'), 10) || 0);
    const members = Object.values((def.collection_list ?? {}) as Record<string, { get_subpanel_data?: string; filter?: Array<Record<string, unknown>> }>)
      .map((m) => ({ link: module.links[String(m.get_subpanel_data)], filter: m.filter }))
      .filter((m) => m.link);
    if (!members.length) return undefined;
    const rows: Array<{ target: ModuleDef; record: RecordData }> = [];
    let more = false;
    for (const { link, filter } of members) {
      const target = engine.registry.module(link.module);
      if (!target.fields.date_modified || !(await allowed(ctx, target, 'list'))) continue;
      // Enough of each member to fill this page of the merged list.
      const page = await engine.records.listRelated(ui.actor(ctx), module.name, record.id, link.name, { filter, maxNum: offset + SUBPANEL_PAGE, orderBy: [{ field: 'date_modified', direction: 'desc' }] });
      if (page.nextOffset > 0) more = true;
      rows.push(...page.records.map((r) => ({ target, record: r })));
    }
    rows.sort((a, b) => String(b.record.date_modified ?? '').localeCompare(String(a.record.date_modified ?? '')) || String(a.record.id).localeCompare(String(b.record.id)));
    const shown = rows.slice(offset, offset + SUBPANEL_PAGE);
    const contexts = new Map<string, FieldContext>();
    for (const { target } of shown) if (!contexts.has(target.name)) contexts.set(target.name, await fieldContext(ctx, target));
    const here = (o: number) => { const u = new URL(ctx.originalUrl, 'http://x'); u.searchParams.set(`sp_${key}`, String(o)); return `${u.pathname}${u.search}#subpanel-${key}`; };
    return {
      key,
      title: ui.label(module.name, String(def.title_key ?? key)),
      headers: ['Name', 'Type', ui.fieldLabel(module.name, 'date_modified')],
      rows: shown.map(({ target, record: r }) => {
        const tctx = contexts.get(target.name)!;
        const name = target.fields.name ? fieldView(tctx, 'name', r) : { ...fieldView(tctx, 'id', r) };
        return {
          id: r.id,
          href: `${base}/${target.name}/${encodeURIComponent(r.id)}`,
          cells: [{ ...name, link: true }, { ...fieldView(tctx, 'id', r), partial: 'base', display: ui.singular(target.name), link: false }, { ...fieldView(tctx, 'date_modified', r), link: false }],
        };
      }),
      prevHref: offset > 0 ? here(Math.max(0, offset - SUBPANEL_PAGE)) : undefined,
      nextHref: rows.length > offset + SUBPANEL_PAGE || more ? here(offset + SUBPANEL_PAGE) : undefined,
      targetModule: undefined,
      targetLabel: undefined,
    };
  }

  // ---------------------------------------------------------------- detail

  router.get('/:module/:id', async (ctx, next) => {
    if (['new', 'mass'].includes(ctx.params.id)) return next();
    const module = ui.module(ctx.params.module);
    const record = await engine.records.retrieve(ui.actor(ctx), module.name, ctx.params.id);
    const fctx = await fieldContext(ctx, module);
    const canEdit = await allowed(ctx, module, 'edit', record);
    await ui.render(ctx, 'detail', {
      title: `${ui.moduleLabel(module.name)}: ${String(record.name ?? record.id)}`,
      moduleName: module.name,
      moduleLabel: ui.moduleLabel(module.name),
      listHref: `${ui.base(ctx)}/${module.name}`,
      recordName: String(record.name ?? record.id),
      panels: panelsOf(fctx, module.views.detail, record, 'detail'),
      buttons: await detailButtons(ctx, module, record),
      subpanels: await subpanels(ctx, module, record, canEdit),
      notice: typeof ctx.query.notice === 'string' ? ctx.query.notice.slice(0, 200) : undefined,
    });
  });

  router.post('/:module/:id/delete', async (ctx) => {
    const module = ui.module(ctx.params.module);
    const form = await readFormData(ctx, 4096);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) return refuse(ctx, 'The form had no valid security token; nothing was changed.', 403);
    await engine.records.delete(ui.actor(ctx), module.name, ctx.params.id);
    ctx.redirect(`${ui.base(ctx)}/${module.name}?notice=${encodeURIComponent('Record deleted.')}`);
  });

  router.get('/:module/:id/changelog', async (ctx) => {
    const module = ui.module(ctx.params.module);
    const record = await engine.records.retrieve(ui.actor(ctx), module.name, ctx.params.id);
    const fctx = await fieldContext(ctx, module);
    const entries = await engine.records.auditLog(ui.actor(ctx), module.name, record.id);
    const userIds = [...new Set(entries.map((e) => e.created_by).filter(Boolean))] as string[];
    const users = new Map((await engine.db.knex('users').whereIn('id', userIds).select('id', 'user_name')).map((u: { id: string; user_name: string }) => [u.id, u.user_name]));
    const show = (field: string, value: string | null) => {
      if (value === null) return '';
      const def = module.fields[field];
      if (!def) return value;
      const view = fieldView(fctx, field, { [field]: partialFor(def) === 'multienum' ? value.replace(/^\^|\^$/g, '').split('^,^') : partialFor(def) === 'bool' ? value === '1' : value });
      return view.display;
    };
    await ui.render(ctx, 'changelog', {
      title: `${ui.label(undefined, 'LBL_CHANGE_LOG')}: ${String(record.name ?? record.id)}`,
      moduleName: module.name,
      recordName: String(record.name ?? record.id),
      recordHref: `${ui.base(ctx)}/${module.name}/${encodeURIComponent(record.id)}`,
      crumbLeaf: ui.label(undefined, 'LBL_CHANGE_LOG'),
      entries: entries.map((e) => ({
        field: ui.fieldLabel(module.name, e.field_name),
        before: show(e.field_name, e.before_value),
        after: show(e.field_name, e.after_value),
        user: e.created_by ? users.get(e.created_by) ?? e.created_by : '',
        date: utcToZoned(e.date_created, fctx.timeZone),
      })),
    });
  });

  // ---------------------------------------------------------------- subpanel link / unlink

  router.post('/:module/:id/link/:link', async (ctx) => {
    const module = ui.module(ctx.params.module);
    const form = await readFormData(ctx, 4096);
    const back = `${ui.base(ctx)}/${module.name}/${encodeURIComponent(ctx.params.id)}`;
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) return refuse(ctx, 'The form had no valid security token; nothing was changed.', 403);
    const link = module.links[ctx.params.link];
    if (!link) throw new NotFoundError(`Could not find a relationship named: ${ctx.params.link}`);
    let relatedId = form.get('related_id') ?? '';
    if (!relatedId) {
      const name = (form.get('related_name') ?? '').trim();
      const matches = name ? (await engine.records.list(ui.actor(ctx), link.module, { filter: [{ name: { $starts: name } }], maxNum: 2, fields: ['id', 'name'] })).records : [];
      if (matches.length !== 1) return ctx.redirect(`${back}?notice=${encodeURIComponent(matches.length ? `More than one ${ui.moduleLabel(link.module)} record starts with "${name}"; type more of the name.` : `No ${ui.moduleLabel(link.module)} record is called "${name}".`)}`);
      relatedId = matches[0].id;
    }
    try {
      await engine.records.link(ui.actor(ctx), module.name, ctx.params.id, link.name, relatedId);
      ctx.redirect(`${back}?notice=${encodeURIComponent('Linked.')}#subpanel-${link.name}`);
    } catch (err) {
      if (err instanceof CaneError && !(err instanceof AccessDeniedError)) return ctx.redirect(`${back}?notice=${encodeURIComponent(err.message)}`);
      throw err;
    }
  });

  router.post('/:module/:id/unlink/:link/:related', async (ctx) => {
    const module = ui.module(ctx.params.module);
    const form = await readFormData(ctx, 4096);
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) return refuse(ctx, 'The form had no valid security token; nothing was changed.', 403);
    await engine.records.unlink(ui.actor(ctx), module.name, ctx.params.id, ctx.params.link, ctx.params.related);
    ctx.redirect(`${ui.base(ctx)}/${module.name}/${encodeURIComponent(ctx.params.id)}?notice=${encodeURIComponent('Removed.')}#subpanel-${ctx.params.link}`);
  });

  // ---------------------------------------------------------------- edit, create, quick create

  async function renderEdit(ctx: Context, module: ModuleDef, record: Record<string, unknown>, options: { id?: string; errors?: Record<string, string>; message?: string; raw?: Record<string, string>; dateModified?: string; quick?: boolean; status?: number; back?: ReturnTarget; backLink?: string }) {
    const fctx = await fieldContext(ctx, module);
    const layout = options.quick ? module.views.quickcreate ?? module.views.edit : module.views.edit;
    const actor = ui.actor(ctx);
    const locked = new Set(Object.keys(module.fields).filter((f) => module.fields[f].system_only || (module.fields[f].admin_only && actor.type === 'user' && !actor.isAdmin)));
    const panels = panelsOf(fctx, layout, record, 'edit', options.errors, locked);
    for (const p of panels) for (const r of p.rows) for (const c of r.cells as Array<FieldView & { mode: string }>) {
      if (options.raw && c.partial === 'datetime' && options.raw[c.name] !== undefined) c.input = options.raw[c.name];
    }
    const base = ui.base(ctx);
    const problems = Object.entries(options.errors ?? {}).map(([field, message]) => ({ field, label: ui.fieldLabel(module.name, field), message }));
    await ui.render(ctx, 'edit', {
      title: options.id ? `${ui.moduleLabel(module.name)}: ${String(record.name ?? options.id)}` : findLabel(engine.registry, module.name, 'LBL_NEW_FORM_TITLE') ?? `New ${ui.singular(module.name)}`,
      moduleName: module.name,
      action: options.id ? `${base}/${module.name}/${encodeURIComponent(options.id)}/edit` : `${base}/${module.name}/new${query({ view: options.quick ? 'quick' : undefined, return_link: options.back && options.backLink ? options.backLink : undefined })}`,
      recordName: options.id ? String(record.name ?? options.id) : undefined,
      recordHref: options.id ? `${base}/${module.name}/${encodeURIComponent(options.id)}` : undefined,
      crumbLeaf: options.id ? 'Edit' : 'Create',
      cancelHref: options.back ? returnHref(base, options.back) : options.id ? `${base}/${module.name}/${encodeURIComponent(options.id)}` : `${base}/${module.name}`,
      returnModule: options.back?.module,
      returnId: options.back?.id,
      dateModified: options.dateModified ?? '',
      panels,
      problems,
      message: options.message,
      quick: options.quick,
    }, options.status ?? 200);
  }

  router.get('/:module/new', async (ctx) => {
    const module = ui.module(ctx.params.module);
    await ui.services.acl.check(ui.actor(ctx), module, 'edit');
    let record: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(module.fields)) if (field.default !== undefined && isStored(field)) record[name] = field.type === 'bool' ? ['1', 1, true, 'true'].includes(field.default as never) : field.default;
    if (typeof ctx.query.duplicate === 'string') {
      const source = await engine.records.retrieve(ui.actor(ctx), module.name, ctx.query.duplicate);
      record = { ...source, id: undefined };
    }
    if (module.fields.assigned_user_id && !record.assigned_user_id) {
      record.assigned_user_id = ui.actor(ctx).id;
      record.assigned_user_name = ctx.state.user.user_name;
    }
    await prefillParent(ctx, module, record);
    const back = returnTarget(ctx.query.return_module, ctx.query.return_id);
    const backLink = back ? subpanelLink(module, back, ctx.query.return_link) : undefined;
    if (back && backLink) await prefillRelate(ctx, module, record, back, backLink);
    await renderEdit(ctx, module, record, { quick: ctx.query.view === 'quick', back, backLink: backLink?.name });
  });

  router.get('/:module/:id/edit', async (ctx) => {
    const module = ui.module(ctx.params.module);
    const record = await engine.records.retrieve(ui.actor(ctx), module.name, ctx.params.id);
    await ui.services.acl.check(ui.actor(ctx), module, 'edit', record);
    await renderEdit(ctx, module, record, { id: record.id, dateModified: String(record.date_modified ?? '') });
  });

  /**
   * Sugar's "create from a record" (quick actions such as Log Call): ?parent_type=&parent_id= fill the
   * flex relate when the user may see that record; a parent the user may not see is left empty.
   */
  async function prefillParent(ctx: Context, module: ModuleDef, record: Record<string, unknown>) {
    const type = typeof ctx.query.parent_type === 'string' ? ctx.query.parent_type : '';
    const id = typeof ctx.query.parent_id === 'string' ? ctx.query.parent_id : '';
    const field = Object.values(module.fields).find((f) => f.type === 'parent' && f.type_name && f.id_name);
    if (!field || !type || !id || !engine.registry.modules.has(type)) return;
    const parent = await engine.records.retrieve(ui.actor(ctx), type, id).catch((err) => {
      if (err instanceof NotFoundError || err instanceof AccessDeniedError) return undefined;
      throw err;
    });
    if (!parent) return;
    record[field.type_name!] = type;
    record[field.id_name!] = parent.id;
    record[field.name] = String(parent.name ?? parent.id);
  }

  /** The parent's link a subpanel "Create" came from (?return_link=), when it leads to the module being created. */
  function subpanelLink(module: ModuleDef, back: ReturnTarget, name: unknown) {
    if (typeof name !== 'string') return undefined;
    const parent = engine.registry.module(back.module);
    const link = Object.hasOwn(parent.links, name) ? parent.links[name] : undefined;
    return link && link.module === module.name ? link : undefined;
  }

  /**
   * Subpanel "Create" (Contacts from an Account's Contacts subpanel): the relate field of the same
   * relationship (Contacts.account_name / account_id) shows the parent; saving also links explicitly,
   * so relationships without such a field are linked too.
   */
  async function prefillRelate(ctx: Context, module: ModuleDef, record: Record<string, unknown>, back: ReturnTarget, link: LinkDef) {
    const field = relateFieldOf(module, back, link);
    if (!field) return;
    const parent = await engine.records.retrieve(ui.actor(ctx), back.module, back.id).catch((err) => {
      if (err instanceof NotFoundError || err instanceof AccessDeniedError) return undefined;
      throw err;
    });
    if (!parent) return;
    record[field.id_name!] = parent.id;
    record[field.name] = String(parent.name ?? parent.id);
  }

  /** The relate field holding the parent of a subpanel's relationship (Contacts.account_name for Accounts' contacts). */
  function relateFieldOf(module: ModuleDef, back: ReturnTarget, link: LinkDef) {
    const reverse = Object.values(module.links).find((l) => l.relationship.name === link.relationship.name && l.module === back.module);
    return reverse && Object.values(module.fields).find((f) => f.type === 'relate' && f.link === reverse.name && f.id_name && f.module === back.module);
  }

  /** Where Save and Cancel go back to (Sugar's return_module/return_id): a record of a known module. */
  function returnTarget(module: unknown, id: unknown): ReturnTarget | undefined {
    if (typeof module !== 'string' || typeof id !== 'string' || !id || id.length > 64) return undefined;
    return engine.registry.modules.has(module) ? { module, id } : undefined;
  }

  const save = (mode: 'create' | 'update') => async (ctx: Context) => {
    const module = ui.module(ctx.params.module);
    const form = await readFormData(ctx, ui.services.bodyLimit);
    const id = mode === 'update' ? ctx.params.id : undefined;
    const quick = mode === 'create' && ctx.query.view === 'quick';
    if (!ui.sessions.checkCsrf(ctx, form.get('csrf'))) return refuse(ctx, 'The form had no valid security token; nothing was changed. Reload the page and try again.', 403);
    const layout = quick ? module.views.quickcreate ?? module.views.edit : module.views.edit;
    const fctx = await fieldContext(ctx, module);
    const { input, raw, unknown } = readRecordForm(module, editableFields(module, layout), form, fctx.timeZone);
    if (unknown.length) return refuse(ctx, `The form had fields that are not on it (${unknown.join(', ')}); nothing was changed.`, 422);
    const dateModified = form.get('date_modified') ?? '';
    const back = returnTarget(form.get('return_module'), form.get('return_id'));
    const backLink = mode === 'create' && back ? subpanelLink(module, back, ctx.query.return_link) : undefined;
    try {
      const saved = mode === 'create'
        ? await engine.records.create(ui.actor(ctx), module.name, input)
        : await engine.records.update(ui.actor(ctx), module.name, id!, input, { expectedDateModified: dateModified ? parseDateTime(dateModified) ?? dateModified : undefined });
      if (back && backLink) {
        // A relate field on the form links by itself, to the parent or to whatever the user chose instead.
        const relate = relateFieldOf(module, back, backLink);
        if (!relate || input[relate.id_name!] === undefined) {
          const refused = await engine.records.link(ui.actor(ctx), back.module, back.id, backLink.name, saved.id).then(() => undefined, (e: unknown) => {
            if (e instanceof CaneError && e.status < 500) return e.message;
            throw e;
          });
          if (refused) return ctx.redirect(`${ui.base(ctx)}/${module.name}/${encodeURIComponent(saved.id)}?notice=${encodeURIComponent(`Saved, but not linked to the ${ui.singular(back.module)}: ${refused}`)}`);
        }
        return ctx.redirect(`${returnHref(ui.base(ctx), back)}?notice=${encodeURIComponent(`${ui.singular(module.name)} '${String(saved.name ?? saved.id)}' created and linked.`)}#subpanel-${backLink.name}`);
      }
      ctx.redirect(`${back ? returnHref(ui.base(ctx), back) : `${ui.base(ctx)}/${module.name}/${encodeURIComponent(saved.id)}`}?notice=${encodeURIComponent('Saved.')}`);
    } catch (err) {
      const record = { ...(id ? await engine.records.retrieve(ui.actor(ctx), module.name, id).catch(() => ({})) : {}), ...displayBack(module, input, form) };
      if (err instanceof ValidationError) {
        const errors: Record<string, string> = {};
        for (const p of err.problems) errors[fieldForProblem(module, p.field)] = p.message;
        return renderEdit(ctx, module, record, { id, errors, raw, dateModified, quick, status: 422, back, backLink: backLink?.name });
      }
      if (err instanceof HookVeto) {
        return renderEdit(ctx, module, record, { id, errors: err.field ? { [err.field]: err.message } : {}, message: err.field ? undefined : err.message, raw, dateModified, quick, status: 422, back, backLink: backLink?.name });
      }
      if (err instanceof ConflictError) {
        const current = await engine.records.retrieve(ui.actor(ctx), module.name, id!);
        return renderEdit(ctx, module, record, { id, message: ui.label(undefined, 'LBL_CONFLICT'), raw, dateModified: String(current.date_modified ?? ''), status: 409 });
      }
      if (err instanceof AccessDeniedError) return refuse(ctx, `${err.message}. Nothing was changed.`, 403);
      throw err;
    }
  };
  router.post('/:module/new', save('create'));
  router.post('/:module/:id/edit', save('update'));

  async function refuse(ctx: Context, message: string, status: number) {
    await ui.render(ctx, 'error', { title: 'Refused', message }, status);
  }
}

interface ReturnTarget { module: string; id: string }

function query(params: Record<string, string | undefined>): string {
  const defined = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  return defined.length ? `?${new URLSearchParams(defined)}` : '';
}

function returnHref(base: string, back: ReturnTarget): string {
  return `${base}/${back.module}/${encodeURIComponent(back.id)}`;
}

/** The field a problem belongs beside: a relate id problem shows at its relate field. */
function fieldForProblem(module: ModuleDef, field: string): string {
  const relate = Object.values(module.fields).find((f) => (f.type === 'relate' || f.type === 'parent') && f.id_name === field && f.name !== field && f.source === 'non-db');
  return relate ? relate.name : field;
}

/** Turns the posted form into record input, refusing names that are not on the form. */
export function readRecordForm(module: ModuleDef, editable: string[], form: FormData, timeZone: string) {
  const input: Record<string, unknown> = {};
  const raw: Record<string, string> = {};
  const accepted = new Set<string>(SYSTEM_INPUTS);
  for (const name of editable) {
    const field = module.fields[name];
    accepted.add(name);
    const partial = partialFor(field);
    if (partial === 'relate' && field.id_name) {
      accepted.add(field.id_name);
      if (form.has(field.id_name)) input[field.id_name] = form.get(field.id_name) ?? '';
      continue;
    }
    if (partial === 'parent' && field.id_name && field.type_name) {
      accepted.add(field.id_name).add(field.type_name).add(`${name}_label`);
      if (form.has(field.type_name)) input[field.type_name] = form.get(field.type_name) ?? '';
      if (form.has(field.id_name)) input[field.id_name] = form.get(field.id_name) ?? '';
      continue;
    }
    if (partial === 'bool') {
      accepted.add(`${name}__present`);
      if (form.has(`${name}__present`)) input[name] = form.has(name);
      continue;
    }
    if (partial === 'emails') {
      for (const suffix of ['__present', '__address', '__primary', '__opt_out', '__invalid']) accepted.add(`${name}${suffix}`);
      if (form.has(`${name}__present`)) input[name] = emailRows(form, name);
      continue;
    }
    if (partial === 'multienum') {
      accepted.add(`${name}__present`);
      if (form.has(`${name}__present`)) input[name] = form.all(name);
      continue;
    }
    if (!form.has(name)) continue;
    const value = form.get(name) ?? '';
    if (partial === 'datetime') {
      raw[name] = value;
      input[name] = value ? zonedToUtc(value, timeZone) ?? value : '';
      continue;
    }
    input[name] = value;
  }
  const unknown = form.names().filter((n) => !accepted.has(n));
  return { input, raw, unknown };
}

/** The e-mail addresses editor's rows as the `email` list; empty rows are dropped. */
function emailRows(form: FormData, name: string): Array<Record<string, unknown>> {
  const primary = form.get(`${name}__primary`);
  const optOut = new Set(form.all(`${name}__opt_out`));
  const invalid = new Set(form.all(`${name}__invalid`));
  return form.all(`${name}__address`)
    .map((address, i) => ({ email_address: address.trim(), primary_address: primary === String(i), opt_out: optOut.has(String(i)), invalid_email: invalid.has(String(i)) }))
    .filter((row) => row.email_address !== '');
}

/** What the user typed, shaped like a record, so the form shows it again after an error. */
function displayBack(module: ModuleDef, input: Record<string, unknown>, form: FormData): Record<string, unknown> {
  const record: Record<string, unknown> = { ...input };
  for (const [name, field] of Object.entries(module.fields)) {
    if (partialFor(field) === 'relate' && field.id_name && name in module.fields && form.has(name)) record[name] = form.get(name);
    if (field.type === 'parent' && form.has(`${name}_label`)) record[name] = form.get(`${name}_label`);
  }
  return record;
}
