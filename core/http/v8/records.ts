import type Router from '@koa/router';
import type { Context } from 'koa';
import qs from 'qs';
import type { CrmServices } from '../../app/services';
import { NotFoundError } from '../../errors';
import type { ModuleDef } from '../../metadata/registry';
import type { Actor } from '../../records/actor';
import { MAX_PAGE, type ListOptions } from '../../records/queries';
import type { RecordData } from '../../records/read';
import { readJson } from '../middleware/body';
import { recordPath, resourceOf } from './document';
import { badRequest } from './errors';
import { requireModule } from './module-names';
import { fieldsParam, filterParam, pageParam, sortParam, v8Query, type Page } from './params';

/** Without page[size] SuiteCRM answers every record; Cane does up to this many and asks for paging beyond. */
export const ALL_RECORDS_LIMIT = 10_000;

const actorOf = (ctx: Context) => ctx.state.actor as Actor;
const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

/** A record id as a path or body value: SuiteCRM takes UUIDs and numbers; Cane also its own ids (demo-account-01). */
export function requireId(value: unknown, option = 'id'): string {
  if (value === undefined || value === null || value === '') throw badRequest(`The required option "${option}" is missing.`);
  if (typeof value !== 'string' || !/^[\w-]{1,36}$/.test(value)) throw badRequest(`The option "${option}" with value ${JSON.stringify(value)} is invalid.`);
  return value;
}

/** Not found and outside the user's view scope answer alike, so neither tells the other apart. */
export async function retrieveOr404(services: CrmServices, actor: Actor, module: ModuleDef, id: string): Promise<RecordData> {
  try {
    return await services.engine.records.retrieve(actor, module.name, id);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`${module.name} module with id ${id} is not found`, { module: module.name, id });
    throw err;
  }
}

/** `count` records from `offset`, in list pages of at most MAX_PAGE. */
export async function fetchRange(services: CrmServices, actor: Actor, module: ModuleDef, base: ListOptions, offset: number, count: number, related?: { id: string; link: string; from: ModuleDef }): Promise<RecordData[]> {
  const records = services.engine.records;
  const out: RecordData[] = [];
  let next = offset;
  while (out.length < count) {
    const options = { ...base, offset: next, maxNum: Math.min(MAX_PAGE, count - out.length) };
    const page = related ? await records.listRelated(actor, related.from.name, related.id, related.link, options) : await records.list(actor, module.name, options);
    out.push(...page.records);
    if (page.nextOffset === -1) break;
    next = page.nextOffset;
  }
  return out;
}

/** SuiteCRM's paging links: the request's own query with page[number] changed; null where there is no such page. */
export function pageLinks(path: string, query: Record<string, unknown>, totalPages: number, number: number) {
  const link = (n: number) => `${path}?${qs.stringify({ ...query, page: { ...(isObject(query.page) ? query.page : {}), number: n } }, { encode: false })}`;
  return {
    first: number > 1 ? link(1) : null,
    prev: number > 1 ? link(number - 1) : null,
    next: number + 1 <= totalPages ? link(number + 1) : null,
    last: number + 1 <= totalPages ? link(totalPages) : null,
  };
}

export function offsetOf(page: Page): number {
  return page.size && page.number ? (page.number - 1) * page.size : 0;
}

export const NO_RESULT = { message: 'Request was successful, but there is no result' };

/** The data of a create or update: `{type, id?, attributes}` whose type names a module and whose attributes are its fields. */
function resourceInput(services: CrmServices, body: unknown, needsId: boolean) {
  if (!isObject(body) || body.data === undefined) throw badRequest('The required option "data" is missing.');
  const data = body.data;
  if (!isObject(data)) throw badRequest('The option "data" with value ' + JSON.stringify(data) + ' is expected to be of type "array".');
  if (data.type === undefined) throw badRequest('The required option "type" is missing.');
  const module = requireModule(services.engine.registry, data.type);
  const id = needsId || data.id !== undefined ? requireId(data.id) : undefined;
  const attributes = data.attributes ?? {};
  if (!isObject(attributes)) throw badRequest('The option "attributes" is expected to be an object of fields and values.');
  for (const name of Object.keys(attributes)) {
    const field = module.fields[name];
    if (!field || field.type === 'link' || name === 'id') throw badRequest(`Property ${name} in ${module.objectName} module is invalid`);
  }
  return { module, id, attributes: { ...attributes } };
}

/** /module routes: list, get, create (POST /module), update (PATCH /module), delete. */
export function moduleRoutes(router: Router, services: CrmServices): void {
  const { registry, records } = { registry: services.engine.registry, records: services.engine.records };

  router.get('/module/:module', async (ctx) => {
    const module = requireModule(registry, ctx.params.module);
    const query = v8Query(ctx);
    const fields = fieldsParam(registry, module, query.fields);
    const { filter, deleted } = filterParam(module, query.filter);
    const orderBy = sortParam(module, query.sort);
    const page = pageParam(query.page);
    const actor = actorOf(ctx);
    const total = await records.count(actor, module.name, { filter, deleted });
    if (page.size === undefined && total > ALL_RECORDS_LIMIT) {
      throw badRequest(`${total} ${module.name} records match, more than ${ALL_RECORDS_LIMIT} in one answer; ask for them a page at a time with page[size] and page[number]`);
    }
    const base: ListOptions = { filter, deleted, orderBy, fields: fields && [...fields, 'id'] };
    const rows = await fetchRange(services, actor, module, base, offsetOf(page), page.size ?? total);
    const data = rows.map((r) => resourceOf(registry, module, r, { fields, selfPath: recordPath(module, String(r.id)) }));
    if (!data.length) {
      ctx.body = { meta: NO_RESULT, data: [] };
    } else if (page.size) {
      const totalPages = Math.ceil(total / page.size);
      ctx.body = { meta: { 'total-pages': totalPages, 'records-on-this-page': data.length }, data, links: pageLinks(`V8/module/${ctx.params.module}`, query, totalPages, page.number) };
    } else {
      ctx.body = { data };
    }
  });

  router.get('/module/:module/:id', async (ctx) => {
    const module = requireModule(registry, ctx.params.module);
    const id = requireId(ctx.params.id);
    const fields = fieldsParam(registry, module, v8Query(ctx).fields);
    const record = await retrieveOr404(services, actorOf(ctx), module, id);
    ctx.body = { data: resourceOf(registry, module, record, { fields }) };
  });

  router.post('/module', async (ctx) => {
    const { module, id, attributes } = resourceInput(services, await readJson(ctx, services.bodyLimit), false);
    const created = await records.create(actorOf(ctx), module.name, id ? { ...attributes, id } : attributes);
    ctx.status = 201;
    ctx.body = { data: resourceOf(registry, module, created) };
  });

  router.patch('/module', async (ctx) => {
    const { module, id, attributes } = resourceInput(services, await readJson(ctx, services.bodyLimit), true);
    const actor = actorOf(ctx);
    // SuiteCRM deletes a record whose update sets deleted; the delete needs delete rights.
    const { deleted, ...changes } = attributes;
    await retrieveOr404(services, actor, module, id!);
    const updated = Object.keys(changes).length ? await records.update(actor, module.name, id!, changes) : await retrieveOr404(services, actor, module, id!);
    if (deleted === true || deleted === 1 || deleted === '1' || deleted === 'true') await records.delete(actor, module.name, id!);
    // SuiteCRM answers an update 201, like a create.
    ctx.status = 201;
    ctx.body = { data: resourceOf(registry, module, updated) };
  });

  router.delete('/module/:module/:id', async (ctx) => {
    const module = requireModule(registry, ctx.params.module);
    const id = requireId(ctx.params.id);
    await retrieveOr404(services, actorOf(ctx), module, id);
    await records.delete(actorOf(ctx), module.name, id);
    ctx.body = { meta: { message: `Record with id ${id} is deleted` }, data: [] };
  });
}
