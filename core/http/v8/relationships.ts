import type Router from '@koa/router';
import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import type { LinkDef, ModuleDef, Registry } from '../../metadata/registry';
import type { Actor } from '../../records/actor';
import type { ListOptions } from '../../records/queries';
import { readJson } from '../middleware/body';
import { attributesOf } from './document';
import { badRequest } from './errors';
import { requireModule } from './module-names';
import { filterParam, pageParam, sortParam, v8Query } from './params';
import { fetchRange, offsetOf, pageLinks, requireId, retrieveOr404 } from './records';

const actorOf = (ctx: Context) => ctx.state.actor as Actor;

function requireLink(module: ModuleDef, name: string): LinkDef {
  if (!Object.hasOwn(module.links, name)) throw badRequest(`Cannot load relationship ${name} for ${module.objectName} module`);
  return module.links[name];
}

/** The module's label in the module list (SuiteCRM's translate(module_dir)). */
export function moduleLabel(registry: Registry, module: ModuleDef): string {
  const list = registry.appListStrings.moduleList;
  return (list && Object.hasOwn(list, module.name) && list[module.name]) || module.name;
}

/** `{data: {type, id}}` of a relationship request: the related module and record id. */
function relatedInput(registry: Registry, body: unknown): { module: ModuleDef; id: string } {
  const data = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).data : undefined;
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw badRequest('The required option "data" is missing.');
  const { type, id } = data as Record<string, unknown>;
  if (type === undefined) throw badRequest('The required option "type" is missing.');
  return { module: requireModule(registry, type), id: requireId(id) };
}

/** /module/{Module}/{id}/relationships…: related records through a link, relate and unrelate. */
export function relationshipRoutes(router: Router, services: CrmServices): void {
  const registry = services.engine.registry;
  const records = services.engine.records;

  /** Every id reachable through the link (visible to the user), for the totals SuiteCRM answers. */
  const relatedCount = async (actor: Actor, module: ModuleDef, id: string, link: LinkDef, base: ListOptions) =>
    (await fetchRange(services, actor, registry.module(link.module), { ...base, fields: ['id'] }, 0, Number.MAX_SAFE_INTEGER, { id, link: link.name, from: module })).length;

  router.get('/module/:module/:id/relationships/:link', async (ctx) => {
    const module = requireModule(registry, ctx.params.module);
    const id = requireId(ctx.params.id);
    const link = requireLink(module, ctx.params.link);
    const target = registry.module(link.module);
    const query = v8Query(ctx);
    const { filter } = filterParam(target, query.filter);
    const orderBy = sortParam(target, query.sort);
    const page = pageParam(query.page);
    const actor = actorOf(ctx);
    await retrieveOr404(services, actor, module, id);
    const base: ListOptions = { filter, orderBy };
    const total = await relatedCount(actor, module, id, link, base);
    const rows = await fetchRange(services, actor, target, base, offsetOf(page), page.size ?? total, { id, link: link.name, from: module });
    if (!rows.length) {
      ctx.body = { meta: { message: `There is no relationship set in ${module.objectName} module with ${link.name} link field` }, data: [] };
      return;
    }
    const data = rows.map((r) => ({ type: target.objectName, id: r.id, attributes: attributesOf(target, r), links: { self: `V8/module/${target.objectName}/${r.id}` } }));
    const totalPages = page.size ? Math.ceil(total / page.size) : 1;
    ctx.body = {
      meta: { 'total-records': page.size ? total : data.length, 'total-pages': totalPages, 'records-on-this-page': data.length },
      data,
      ...(page.size ? { links: pageLinks(`V8/module/${ctx.params.module}/${id}/relationships/${link.name}`, query, totalPages, page.number) } : {}),
    };
  });

  const relate = async (ctx: Context, linkName: string | undefined) => {
    const module = requireModule(registry, ctx.params.module);
    const id = requireId(ctx.params.id);
    const explicit = linkName === undefined ? undefined : requireLink(module, linkName);
    const related = relatedInput(registry, await readJson(ctx, services.bodyLimit));
    const link = explicit ?? Object.values(module.links).find((l) => l.module === related.module.name);
    if (!link) throw badRequest(`Link field has not found in ${module.objectName} to determine relationship for ${related.module.objectName}`);
    if (link.module !== related.module.name) throw badRequest(`Link ${link.name} of ${module.objectName} relates ${link.module}, not ${related.module.name}`);
    const actor = actorOf(ctx);
    await retrieveOr404(services, actor, module, id);
    await retrieveOr404(services, actor, related.module, related.id);
    await records.link(actor, module.name, id, link.name, related.id);
    ctx.status = 201;
    if (!explicit) {
      ctx.body = { meta: { message: `${related.module.objectName} with id ${related.id} has been added to ${module.objectName} with id ${id}` }, data: [] };
      return;
    }
    const [sourceLabel, relatedLabel] = [moduleLabel(registry, module), moduleLabel(registry, related.module)];
    ctx.body = {
      meta: {
        message: `${relatedLabel} record with id ${related.id} has been related to ${sourceLabel} record with id ${id} using link ${link.name}`,
        sourceModule: module.name, sourceModuleLabel: sourceLabel, sourceId: id,
        relatedModule: related.module.name, relatedModuleLabel: relatedLabel, relatedId: related.id, relationshipLink: link.name,
      },
      data: [],
    };
  };
  router.post('/module/:module/:id/relationships', (ctx) => relate(ctx, undefined));
  router.post('/module/:module/:id/relationships/:link', (ctx) => relate(ctx, ctx.params.link));

  router.delete('/module/:module/:id/relationships/:link/:related', async (ctx) => {
    const module = requireModule(registry, ctx.params.module);
    const id = requireId(ctx.params.id);
    const relatedId = requireId(ctx.params.related, 'relatedBeanId');
    const link = requireLink(module, ctx.params.link);
    const target = registry.module(link.module);
    const actor = actorOf(ctx);
    await retrieveOr404(services, actor, module, id);
    const found = await records.listRelated(actor, module.name, id, link.name, { filter: [{ id: { $equals: relatedId } }], fields: ['id'], maxNum: 1 });
    if (!found.records.length) throw badRequest(`Module with ${relatedId} id is not related to ${module.objectName}`);
    await records.unlink(actor, module.name, id, link.name, relatedId);
    ctx.body = { meta: { message: `Relationship has been deleted between ${module.objectName} with id ${id} and ${target.objectName} with id ${relatedId}` }, data: [] };
  });
}

