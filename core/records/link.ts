import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors';
import type { LinkDef, ModuleDef } from '../metadata/registry';
import { isTruthy } from '../metadata/field-types';
import { makeBean } from '../hooks/hook-registry';
import type { Actor } from './actor';
import { originOf, type RecordContext } from './context';
import { isWritableShape, linkShape, relatedIds, removeJoinRows, writeJoinRow, type LinkShape } from './relationships';
import { formatDateTime } from './time';
import { normalizeInput, toStorage } from './values';
import { retrieveRecord } from './queries';
import { requireVisible, runAfter, saveRecord } from './save';

export interface LinkStep {
  op: 'add' | 'delete';
  link: string;
  relatedId: string;
}

/** What setting relate ids (Contacts.account_id = X) changes: remove the old link, add the new one. */
export async function planRelateLinks(ctx: RecordContext, module: ModuleDef, id: string, relateLinks: Record<string, string | null>): Promise<LinkStep[]> {
  const steps: LinkStep[] = [];
  for (const [linkName, relatedId] of Object.entries(relateLinks)) {
    const current = (await relatedIds(ctx, ctx.db.knex, module.links[linkName], [id])).get(id) ?? [];
    for (const old of current) if (old !== relatedId) steps.push({ op: 'delete', link: linkName, relatedId: old });
    if (relatedId && !current.includes(relatedId)) steps.push({ op: 'add', link: linkName, relatedId });
  }
  return steps;
}

export async function applyRelateLinks(ctx: RecordContext, trx: Knex, module: ModuleDef, id: string, steps: LinkStep[], now: string): Promise<void> {
  for (const step of steps) {
    const shape = writableShape(ctx, module, module.links[step.link]);
    if (shape.kind === 'join') {
      if (step.op === 'add') await writeJoinRow(trx, shape, id, step.relatedId, {}, now);
      else await removeJoinRows(trx, shape, id, step.relatedId, now);
    } else if (shape.kind === 'child-holds-parent') {
      await trx(module.table).where('id', id).update({ [shape.ownKey]: step.op === 'add' ? step.relatedId : null });
    } else {
      await trx(shape.targetTable).where('id', step.relatedId).update({ [shape.otherKey]: step.op === 'add' ? id : null });
    }
  }
}

/** The link on the other module that names the same relationship from the other side. */
export function reverseLink(ctx: RecordContext, link: LinkDef): LinkDef | undefined {
  const other = ctx.registry.modules.get(link.module);
  if (!other) return undefined;
  return Object.values(other.links).find((l) => l.relationship.name === link.relationship.name && (l.module !== link.module || l.side !== link.side || link.relationship.lhs_module !== link.relationship.rhs_module));
}

/** before/after_relationship_add/delete on both records, with Sugar's arguments. */
export async function fireRelationshipHooks(ctx: RecordContext, when: 'before' | 'after', op: 'add' | 'delete', module: ModuleDef, id: string, link: LinkDef, relatedId: string): Promise<void> {
  const event = `${when}_relationship_${op}` as const;
  const other = ctx.registry.module(link.module);
  const sides: Array<[ModuleDef, string, ModuleDef, string, string]> = [
    [module, id, other, relatedId, link.name],
    [other, relatedId, module, id, reverseLink(ctx, link)?.name ?? ''],
  ];
  for (const [m, recordId, relatedModule, relId, linkName] of sides) {
    if (!ctx.hooks.has(m.name, event)) continue;
    const record = await retrieveRecord(ctx, m, recordId, {}, false).catch(() => ({ id: recordId }));
    await ctx.hooks.run(m.name, event, makeBean(m.name, m.objectName, record, null), {
      id: recordId, related_id: relId, module: m.name, related_module: relatedModule.name, link: linkName, relationship: link.relationship.name,
    });
  }
}

async function requireRecord(ctx: RecordContext, module: ModuleDef, id: string) {
  const row = await ctx.db.knex(module.table).where('id', id).first();
  if (!row || isTruthy(row.deleted)) throw new NotFoundError(`Could not find record: ${id} in module: ${module.name}`, { module: module.name, id });
  return row;
}

/** The link's shape, refused (422 naming the link) when Cane can read the link but not write it. */
function writableShape(ctx: RecordContext, module: ModuleDef, link: LinkDef): LinkShape {
  const shape = linkShape(ctx, link);
  if (isWritableShape(shape)) return shape;
  const { rel } = shape;
  throw new ValidationError(module.name, [{
    field: link.name, rule: 'read_only',
    message: `is read-only: ${rel.name} joins ${rel.lhs_table}.${rel.lhs_key} to ${rel.rhs_table}.${rel.rhs_key}, which a link cannot set`,
  }]);
}

export function requireLink(module: ModuleDef, linkName: string): LinkDef {
  const link = module.links[linkName];
  if (!link) throw new NotFoundError(`Could not find a relationship named: ${linkName}`, { module: module.name, link: linkName });
  return link;
}

/**
 * Relates two records through a link. One-to-many links set the child's key through a full save
 * of the child (hooks, validation, audit), as Sugar re-saves the child bean; many-to-many links
 * write a join row, with relationship fields (contact_role) when given.
 */
export async function linkRecords(ctx: RecordContext, actor: Actor, module: ModuleDef, id: string, linkName: string, relatedId: string, relFields: Record<string, unknown> = {}): Promise<void> {
  const link = requireLink(module, linkName);
  const shape = writableShape(ctx, module, link);
  const other = ctx.registry.module(link.module);
  const record = await requireRecord(ctx, module, id);
  const related = await requireRecord(ctx, other, relatedId);
  await requireVisible(ctx, actor, module, record);
  await requireVisible(ctx, actor, other, related);
  await ctx.access.check(actor, module, 'edit', record);
  const fields = checkRelFields(ctx, module, link, relFields);
  const now = formatDateTime(ctx.clock());

  if (shape.kind === 'parent-holds-children' || shape.kind === 'child-holds-parent') {
    const [childModule, childId, parentId] = shape.kind === 'parent-holds-children' ? [other, relatedId, id] : [module, id, relatedId];
    const rel = shape.rel;
    const update: Record<string, unknown> = { [rel.rhs_key]: parentId };
    if (rel.relationship_role_column && rel.relationship_role_column_value) update[rel.relationship_role_column] = rel.relationship_role_column_value;
    await fireRelationshipHooks(ctx, 'before', 'add', module, id, link, relatedId);
    await saveRecord(ctx, actor, childModule, childId, update);
    await runAfter(ctx, () => fireRelationshipHooks(ctx, 'after', 'add', module, id, link, relatedId));
    return;
  }

  const replaced = link.one ? ((await relatedIds(ctx, ctx.db.knex, link, [id])).get(id) ?? []).filter((r) => r !== relatedId) : [];
  const reverse = reverseLink(ctx, link);
  const replacedOnOtherSide = reverse?.one ? ((await relatedIds(ctx, ctx.db.knex, reverse, [relatedId])).get(relatedId) ?? []).filter((r) => r !== id) : [];
  for (const old of replaced) await fireRelationshipHooks(ctx, 'before', 'delete', module, id, link, old);
  await fireRelationshipHooks(ctx, 'before', 'add', module, id, link, relatedId);
  await ctx.db.knex.transaction(async (trx) => {
    for (const old of replaced) await removeJoinRows(trx, shape, id, old, now);
    if (reverse) for (const old of replacedOnOtherSide) await removeJoinRows(trx, linkShape(ctx, reverse), relatedId, old, now);
    const changed = await writeJoinRow(trx, shape, id, relatedId, fields, now);
    if (changed) await emitRelationship(ctx, trx, actor, 'after_relationship_add', module, id, link, relatedId, now);
  });
  for (const old of replaced) await runAfter(ctx, () => fireRelationshipHooks(ctx, 'after', 'delete', module, id, link, old));
  await runAfter(ctx, () => fireRelationshipHooks(ctx, 'after', 'add', module, id, link, relatedId));
}

export async function unlinkRecords(ctx: RecordContext, actor: Actor, module: ModuleDef, id: string, linkName: string, relatedId: string): Promise<void> {
  const link = requireLink(module, linkName);
  const shape = writableShape(ctx, module, link);
  const other = ctx.registry.module(link.module);
  const record = await requireRecord(ctx, module, id);
  await requireVisible(ctx, actor, module, record);
  await ctx.access.check(actor, module, 'edit', record);
  const current = (await relatedIds(ctx, ctx.db.knex, link, [id])).get(id) ?? [];
  if (!current.includes(relatedId)) throw new NotFoundError(`${other.name} ${relatedId} is not related to ${module.name} ${id} through ${linkName}`, { link: linkName });
  await fireRelationshipHooks(ctx, 'before', 'delete', module, id, link, relatedId);
  if (shape.kind === 'join') {
    const now = formatDateTime(ctx.clock());
    await ctx.db.knex.transaction(async (trx) => {
      await removeJoinRows(trx, shape, id, relatedId, now);
      await emitRelationship(ctx, trx, actor, 'after_relationship_delete', module, id, link, relatedId, now);
    });
  } else {
    const [childModule, childId] = shape.kind === 'parent-holds-children' ? [other, relatedId] : [module, id];
    await saveRecord(ctx, actor, childModule, childId, { [shape.rel.rhs_key]: null });
  }
  await runAfter(ctx, () => fireRelationshipHooks(ctx, 'after', 'delete', module, id, link, relatedId));
}

async function emitRelationship(ctx: RecordContext, trx: Knex, actor: Actor, event: 'after_relationship_add' | 'after_relationship_delete', module: ModuleDef, id: string, link: LinkDef, relatedId: string, now: string) {
  for (const listener of ctx.outbox) {
    await listener(trx, { event, module: module.name, id, isUpdate: true, record: { id, date_modified: now, modified_user_id: actor.id ?? null }, changes: {}, link: link.name, relatedModule: link.module, relatedId, actorId: actor.id, ...originOf(actor) });
  }
}

function checkRelFields(ctx: RecordContext, module: ModuleDef, link: LinkDef, relFields: Record<string, unknown>): Record<string, unknown> {
  const allowed = link.relationship.relFields;
  const table = ctx.registry.tables.find((t) => t.name === link.relationship.join_table);
  const problems = [];
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(relFields)) {
    const field = table?.fields.find((f) => f.name === name);
    if (!allowed.includes(name) || !field) {
      problems.push({ field: name, rule: 'unknown', message: `is not a relationship field of ${link.name}` });
      continue;
    }
    const normalized = normalizeInput(field, raw);
    if (!normalized.ok) {
      problems.push({ field: name, rule: normalized.rule, message: normalized.message });
      continue;
    }
    const options = field.options ? ctx.registry.dropdown(field.options) : undefined;
    if (options && normalized.value !== null && normalized.value !== '' && !(String(normalized.value) in options)) {
      problems.push({ field: name, rule: 'enum', message: `'${String(normalized.value)}' is not an option of ${field.options}` });
      continue;
    }
    out[name] = toStorage(field, normalized.value);
  }
  if (problems.length) throw new ValidationError(module.name, problems);
  return out;
}
