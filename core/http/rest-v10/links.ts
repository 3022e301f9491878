import type Router from '@koa/router';
import type { Context } from 'koa';
import type { CrmServices } from '../../app/services';
import { CaneError, NotFoundError } from '../../errors';
import type { LinkDef, ModuleDef } from '../../metadata/registry';
import type { Actor } from '../../records/actor';
import { readJson } from '../middleware/body';
import { RecordAcl, toV10 } from './format';
import { listOptions, queryOf } from './params';
import { moduleOf, recordInput } from './records';

/** At most this many ids in one POST /<module>/:id/link. */
export const MAX_LINK_IDS = 200;

export function linkOf(module: ModuleDef, name: unknown): LinkDef {
  const link = typeof name === 'string' && Object.hasOwn(module.links, name) ? module.links[name] : undefined;
  if (!link) throw new NotFoundError(`Could not find a relationship named: ${String(name)}`);
  return link;
}

/** `ids` of Sugar's multi-link body: record ids, or `{id, <relationship field>: value}`. */
function linkTargets(raw: unknown): Array<{ id: string; relFields: Record<string, unknown> }> {
  if (!Array.isArray(raw) || !raw.length) throw new CaneError('missing_parameter', 'ids must be a non-empty list of record ids', 422, { field: 'ids' });
  if (raw.length > MAX_LINK_IDS) throw new CaneError('invalid_parameter', `ids may hold at most ${MAX_LINK_IDS} records, got ${raw.length}`, 422, { field: 'ids' });
  return raw.map((entry, index) => {
    if (typeof entry === 'string' && entry) return { id: entry, relFields: {} };
    if (entry && typeof entry === 'object' && !Array.isArray(entry) && typeof (entry as { id?: unknown }).id === 'string') {
      const { id, ...relFields } = entry as { id: string } & Record<string, unknown>;
      return { id, relFields };
    }
    throw new CaneError('invalid_parameter', `ids[${index}] must be a record id or an object with an id`, 422, { field: `ids[${index}]` });
  });
}

/** Sugar's RelateApi / RelateRecordApi extras: link counts, create-and-link, link several at once. */
export function linkRoutes(router: Router, services: CrmServices): void {
  const { engine, acl } = services;
  const records = engine.records;
  const actor = (ctx: Context) => (ctx.state as { actor: Actor }).actor;
  const shaped = async (ctx: Context, module: ModuleDef, record: Awaited<ReturnType<typeof records.retrieve>>) => toV10(module, record, await RecordAcl.for(acl, actor(ctx), module));

  const count = async (ctx: Context) => {
    const module = moduleOf(services, ctx);
    const link = linkOf(module, ctx.params.link);
    const { filter } = listOptions(engine.registry.module(link.module), queryOf(ctx));
    ctx.body = { record_count: await records.countRelated(actor(ctx), module.name, ctx.params.id, link.name, { filter }) };
  };
  router.get('/:module/:id/link/:link/count', count);
  router.get('/:module/:id/link/:link/filter/count', count);

  router.post('/:module/:id/link', async (ctx) => {
    const module = moduleOf(services, ctx);
    const body = (await readJson(ctx, services.bodyLimit)) as { link_name?: unknown; ids?: unknown };
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CaneError('invalid_parameter', 'The request body must be a JSON object with link_name and ids', 422);
    if (body.link_name === undefined) throw new CaneError('missing_parameter', 'link_name is required', 422, { field: 'link_name' });
    const link = linkOf(module, body.link_name);
    const targets = linkTargets(body.ids);
    const target = engine.registry.module(link.module);
    for (const { id, relFields } of targets) await records.link(actor(ctx), module.name, ctx.params.id, link.name, id, relFields);
    const record = await records.retrieve(actor(ctx), module.name, ctx.params.id);
    const related = await Promise.all(targets.map(({ id }) => records.retrieve(actor(ctx), target.name, id)));
    const rights = await RecordAcl.for(acl, actor(ctx), target);
    ctx.body = { record: await shaped(ctx, module, record), related_records: related.map((r) => toV10(target, r, rights)) };
  });

  router.post('/:module/:id/link/:link', async (ctx) => {
    const module = moduleOf(services, ctx);
    const link = linkOf(module, ctx.params.link);
    const target = engine.registry.module(link.module);
    const input = recordInput(await readJson(ctx, services.bodyLimit));
    // The parent must be visible before anything is written.
    await records.retrieve(actor(ctx), module.name, ctx.params.id, { fields: ['id'] });
    const created = await records.create(actor(ctx), target.name, input);
    try {
      await records.link(actor(ctx), module.name, ctx.params.id, link.name, created.id as string);
    } catch (err) {
      // The related record is only wanted linked: take it back when the link is refused.
      await records.delete(actor(ctx), target.name, created.id as string).catch(() => undefined);
      throw err;
    }
    const [record, related] = await Promise.all([records.retrieve(actor(ctx), module.name, ctx.params.id), records.retrieve(actor(ctx), target.name, created.id as string)]);
    ctx.body = { record: await shaped(ctx, module, record), related_record: await shaped(ctx, target, related) };
  });
}
