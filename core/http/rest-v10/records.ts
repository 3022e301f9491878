import type Router from '@koa/router';
import type { Context } from 'koa';
import { CaneError, NotFoundError, ValidationError } from '../../errors';
import type { CrmServices } from '../../app/services';
import type { ModuleDef } from '../../metadata/registry';
import type { Actor } from '../../records/actor';
import { formatDateTime, parseDateTime } from '../../records/time';
import { recordETag } from '../../records/version';
import { favoriteIds, setFavorite } from '../../records/favorites';
import { duplicateFilter } from '../../records/duplicates';
import { readJson } from '../middleware/body';
import { RecordAcl, toV10 } from './format';
import { ownerColumn } from '../../security/acl';
import { linkOf, linkRoutes } from './links';
import { fieldsOf, listOptions, queryOf } from './params';

type State = { actor: Actor };

export function moduleOf(services: CrmServices, ctx: Context): ModuleDef {
  const module = services.engine.registry.modules.get(ctx.params.module);
  if (!module) throw new NotFoundError(`Unknown module: ${ctx.params.module}`, { module: ctx.params.module });
  return module;
}

/** Record input from a v10 body: Sugar clients echo back `_module`, `_acl`, `my_favorite` … which are dropped. */
export function recordInput(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CaneError('invalid_parameter', 'The request body must be a JSON object of fields', 422);
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('_') || key === 'my_favorite' || key === 'following') continue;
    input[key] = value;
  }
  return input;
}

const MASS_UPDATE_TYPES = new Set(['enum', 'multienum', 'radioenum', 'dynamicenum', 'bool', 'date', 'datetime', 'datetimecombo', 'relate', 'assigned_user_name', 'parent', 'parent_type']);

/** Sugar's MassUpdate rule: `massupdate` true, or unset on a field of a type mass update handles; never read-only, system or system_only fields. */
export function massUpdatable(module: ModuleDef, name: string): boolean {
  const field = module.fields[name];
  if (!field || field.readonly === true || field.readonly === 'true' || field.system_only || ['id', 'deleted', 'date_entered', 'date_modified', 'created_by', 'modified_user_id'].includes(name)) return false;
  if (field.massupdate === undefined) return MASS_UPDATE_TYPES.has(field.type);
  return field.massupdate === true || field.massupdate === 1 || field.massupdate === '1' || field.massupdate === 'true';
}

/** List options that also read the owner column, which `_acl` needs even when `fields=` leaves it out of the answer. */
function withOwner<T extends { fields?: readonly string[] }>(module: ModuleDef, options: T): T {
  const owner = ownerColumn(module);
  return options.fields && !options.fields.includes(owner) ? { ...options, fields: [...options.fields, owner] } : options;
}

/** Routes for /<Module>…: list, filter, count, CRUD, links, mass update, audit. */
export function recordRoutes(router: Router, services: CrmServices): void {
  const { engine, acl } = services;
  const records = engine.records;
  const actor = (ctx: Context) => (ctx.state as State).actor;
  /** `_acl` rights plus which of these records the actor marked as favourites. */
  const rightsWithFavorites = async (who: Actor, module: ModuleDef, shown: Array<{ id: string }>) =>
    RecordAcl.for(acl, who, module, await favoriteIds(engine.db.knex, who.type === 'user' ? who.id : undefined, module.name, shown.map((r) => r.id)));

  const list = async (ctx: Context, params: Record<string, unknown>) => {
    const module = moduleOf(services, ctx);
    const options = listOptions(module, params);
    if (options.end) {
      ctx.body = { next_offset: -1, records: [] };
      return;
    }
    const page = await records.list(actor(ctx), module.name, withOwner(module, options));
    const rights = await rightsWithFavorites(actor(ctx), module, page.records);
    ctx.body = { next_offset: page.nextOffset, records: page.records.map((r) => toV10(module, r, rights, options.fields)) };
  };

  const count = async (ctx: Context, params: Record<string, unknown>) => {
    const module = moduleOf(services, ctx);
    const options = listOptions(module, params);
    ctx.body = { record_count: await records.count(actor(ctx), module.name, { filter: options.filter, deleted: options.deleted }) };
  };

  router.get('/:module', (ctx) => list(ctx, queryOf(ctx)));
  router.get('/:module/filter', (ctx) => list(ctx, queryOf(ctx)));
  router.post('/:module/filter', async (ctx) => list(ctx, { ...queryOf(ctx), ...((await readJson(ctx, services.bodyLimit)) as Record<string, unknown>) }));
  router.get('/:module/count', (ctx) => count(ctx, queryOf(ctx)));
  router.get('/:module/filter/count', (ctx) => count(ctx, queryOf(ctx)));
  router.post('/:module/filter/count', async (ctx) => count(ctx, { ...queryOf(ctx), ...((await readJson(ctx, services.bodyLimit)) as Record<string, unknown>) }));

  router.get('/:module/enum/:field', (ctx) => {
    const module = moduleOf(services, ctx);
    const field = module.fields[ctx.params.field];
    if (!field?.options) throw new NotFoundError(`${ctx.params.field} is not a dropdown field of ${module.name}`);
    ctx.body = engine.registry.dropdown(field.options) ?? {};
  });

  // Sugar's duplicate check: the records that look like the posted one (names, e-mail addresses).
  router.post('/:module/duplicateCheck', async (ctx) => {
    const module = moduleOf(services, ctx);
    const body = await readJson(ctx, services.bodyLimit);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CaneError('invalid_parameter', 'duplicateCheck needs the record as a JSON object', 422);
    const filter = duplicateFilter(module, body as Record<string, unknown>);
    if (!filter) {
      ctx.body = { next_offset: -1, records: [] };
      return;
    }
    const page = await records.list(actor(ctx), module.name, { filter, maxNum: 20 });
    const rights = await rightsWithFavorites(actor(ctx), module, page.records);
    ctx.body = { next_offset: -1, records: page.records.map((r) => toV10(module, r, rights)) };
  });
  router.put('/:module/MassUpdate', async (ctx) => massUpdate(ctx, 'update'));
  router.delete('/:module/MassUpdate', async (ctx) => massUpdate(ctx, 'delete'));

  async function massUpdate(ctx: Context, mode: 'update' | 'delete') {
    const module = moduleOf(services, ctx);
    const body = (await readJson(ctx, services.bodyLimit)) as { massupdate_params?: Record<string, unknown> };
    const params = body?.massupdate_params;
    if (!params || typeof params !== 'object') throw new CaneError('missing_parameter', 'massupdate_params is required', 422);
    const { uid, ...fields } = params as { uid?: unknown } & Record<string, unknown>;
    if (!Array.isArray(uid) || !uid.length || !uid.every((u) => typeof u === 'string')) throw new CaneError('missing_parameter', 'massupdate_params.uid must be a non-empty list of record ids', 422);
    await acl.check(actor(ctx), module, mode === 'delete' ? 'delete' : 'massupdate');
    const refused = Object.keys(fields).filter((f) => !massUpdatable(module, f));
    if (mode === 'update' && refused.length) {
      throw new ValidationError(module.name, refused.map((f) => ({ field: f, rule: 'massupdate', message: module.fields[f] ? 'cannot be mass updated' : `is not a field of ${module.name}` })));
    }
    if (mode === 'update' && !Object.keys(fields).length) throw new CaneError('missing_parameter', 'massupdate_params has no fields to set', 422);
    // Records the user may not change are reported and skipped; the rest commit in one transaction.
    const ids = uid as string[];
    const { failures } = await records.together<unknown>(ids.map((id) => () => (mode === 'delete' ? records.planDelete(actor(ctx), module.name, id) : records.planSave(actor(ctx), module.name, id, fields))), 'each');
    ctx.body = { failed: failures.length, status: 'done', failures: failures.map((f) => ({ id: ids[f.index], error: f.error.message })) };
  }

  router.post('/:module', async (ctx) => {
    const module = moduleOf(services, ctx);
    const created = await records.create(actor(ctx), module.name, recordInput(await readJson(ctx, services.bodyLimit)));
    ctx.set('ETag', recordETag(created.date_modified));
    ctx.body = toV10(module, created, await RecordAcl.for(acl, actor(ctx), module));
  });

  router.get('/:module/:id', async (ctx) => {
    const module = moduleOf(services, ctx);
    const fields = fieldsOf(module, queryOf(ctx).fields);
    // The favourite flag only needs the id, so on MySQL it travels beside the record's read.
    const [record, rights] = await Promise.all([records.retrieve(actor(ctx), module.name, ctx.params.id), rightsWithFavorites(actor(ctx), module, [{ id: ctx.params.id }])]);
    ctx.set('ETag', recordETag(record.date_modified));
    ctx.body = toV10(module, record, rights, fields);
  });

  router.put('/:module/:id', async (ctx) => {
    const module = moduleOf(services, ctx);
    const input = recordInput(await readJson(ctx, services.bodyLimit));
    // Optimistic locking: X-Timestamp (Sugar 7 clients) or the date_modified the client read.
    const stamp = ctx.get('x-timestamp') || (typeof input.date_modified === 'string' ? input.date_modified : undefined);
    const expected = stamp ? parseDateTime(stamp) : undefined;
    if (stamp && !expected) throw new CaneError('invalid_parameter', `date_modified/X-Timestamp '${stamp}' is not a date and time`, 422);
    const ifMatch = ctx.get('if-match') || undefined;
    const updated = await records.update(actor(ctx), module.name, ctx.params.id, input, { expectedDateModified: expected, ifMatch });
    ctx.set('ETag', recordETag(updated.date_modified));
    ctx.body = toV10(module, updated, await rightsWithFavorites(actor(ctx), module, [updated]));
  });

  // Sugar's favourites: PUT marks, DELETE unmarks; both answer the record with my_favorite.
  const favorite = (on: boolean) => async (ctx: Context) => {
    const module = moduleOf(services, ctx);
    const who = actor(ctx);
    const record = await records.retrieve(who, module.name, ctx.params.id);
    if (who.type !== 'user') throw new CaneError('not_authorized', 'Only users have favourites', 403);
    await setFavorite(engine.db.knex, who.id, module.name, record.id, on, formatDateTime(engine.context.clock()));
    ctx.body = toV10(module, record, await rightsWithFavorites(who, module, [record]));
  };
  router.put('/:module/:id/favorite', favorite(true));
  router.delete('/:module/:id/favorite', favorite(false));

  router.delete('/:module/:id', async (ctx) => {
    const module = moduleOf(services, ctx);
    await records.delete(actor(ctx), module.name, ctx.params.id);
    ctx.body = { id: ctx.params.id };
  });

  router.get('/:module/:id/audit', async (ctx) => {
    const module = moduleOf(services, ctx);
    const entries = await records.auditLog(actor(ctx), module.name, ctx.params.id);
    ctx.body = {
      next_offset: -1,
      records: entries.map((e) => ({ id: e.id, parent_id: e.parent_id, date_created: e.date_created.replace(' ', 'T') + '+00:00', created_by: e.created_by, field_name: e.field_name, data_type: e.data_type, before: e.before_value, after: e.after_value })),
    };
  });

  linkRoutes(router, services);

  router.get('/:module/:id/link/:link', async (ctx) => {
    const module = moduleOf(services, ctx);
    const link = linkOf(module, ctx.params.link);
    const target = engine.registry.module(link.module);
    const options = listOptions(target, queryOf(ctx));
    const page = await records.listRelated(actor(ctx), module.name, ctx.params.id, link.name, withOwner(target, options));
    const rights = await rightsWithFavorites(actor(ctx), target, page.records);
    ctx.body = { next_offset: page.nextOffset, records: page.records.map((r) => toV10(target, r, rights, options.fields && [...options.fields, ...link.relationship.relFields])) };
  });

  const linkChange = (op: 'link' | 'unlink') => async (ctx: Context) => {
    const module = moduleOf(services, ctx);
    const link = linkOf(module, ctx.params.link);
    const target = engine.registry.module(link.module);
    if (op === 'link') {
      const body = (await readJson(ctx, services.bodyLimit)) as Record<string, unknown>;
      const relFields = Object.fromEntries(Object.entries(body ?? {}).filter(([k]) => !k.startsWith('_')));
      await records.link(actor(ctx), module.name, ctx.params.id, link.name, ctx.params.remote_id, relFields);
    } else {
      await records.unlink(actor(ctx), module.name, ctx.params.id, link.name, ctx.params.remote_id);
    }
    const [record, related] = await Promise.all([
      records.retrieve(actor(ctx), module.name, ctx.params.id),
      records.retrieve(actor(ctx), target.name, ctx.params.remote_id),
    ]);
    ctx.body = {
      record: toV10(module, record, await RecordAcl.for(acl, actor(ctx), module)),
      related_record: toV10(target, related, await RecordAcl.for(acl, actor(ctx), target)),
    };
  };
  router.post('/:module/:id/link/:link/:remote_id', linkChange('link'));
  router.delete('/:module/:id/link/:link/:remote_id', linkChange('unlink'));
}
