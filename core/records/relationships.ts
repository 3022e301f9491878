import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { LinkDef, RelationshipDef } from '../metadata/registry';
import type { RecordContext } from './context';
import { recordRows } from './custom-fields';

/** Where a link's rows live, seen from the record that owns the link. */
export interface LinkShape {
  kind: 'join' | 'parent-holds-children' | 'child-holds-parent';
  rel: RelationshipDef;
  /** Join table: column holding the owning record's id / the related id. */
  ownKey: string;
  otherKey: string;
  targetTable: string;
  /** Table of the module that owns the link. */
  ownTable: string;
}

export function linkShape(ctx: RecordContext, link: LinkDef): LinkShape {
  const rel = link.relationship;
  const targetTable = ctx.registry.module(link.module).table;
  const ownTable = ctx.registry.module(link.side === 'lhs' ? rel.lhs_module : rel.rhs_module).table;
  if (rel.join_table) {
    return link.side === 'lhs'
      ? { kind: 'join', rel, ownKey: rel.join_key_lhs!, otherKey: rel.join_key_rhs!, targetTable, ownTable }
      : { kind: 'join', rel, ownKey: rel.join_key_rhs!, otherKey: rel.join_key_lhs!, targetTable, ownTable };
  }
  return link.side === 'lhs'
    ? { kind: 'parent-holds-children', rel, ownKey: rel.lhs_key, otherKey: rel.rhs_key, targetTable, ownTable }
    : { kind: 'child-holds-parent', rel, ownKey: rel.rhs_key, otherKey: rel.lhs_key, targetTable, ownTable };
}

/**
 * Cane relates records by writing the parent's id into the child's key. Sugar also declares
 * one-to-many relationships whose parent side is another column (campaignlog_contact:
 * campaign_log.related_id = contacts.id); those are read like any link but cannot be written so.
 */
export function isWritableShape(shape: LinkShape): boolean {
  return shape.kind === 'join' || (shape.rel.lhs_key === 'id' && shape.rel.rhs_key !== 'id');
}

/** One-to-many link whose parent side is joined on a column other than id. */
function parentKeyedOffId(shape: LinkShape): boolean {
  return shape.kind !== 'join' && shape.rel.lhs_key !== 'id';
}

function roleWhere(rel: RelationshipDef, alias: string): Record<string, string> {
  return rel.relationship_role_column && rel.relationship_role_column_value
    ? { [`${alias}.${rel.relationship_role_column}`]: rel.relationship_role_column_value }
    : {};
}

/**
 * Rows of the related module reachable through a link from one record, as a query on the
 * target table (aliased by its own name) that callers filter, sort and page. Relationship
 * fields of join tables come back as `_rel_<field>`.
 */
export function relatedQuery(ctx: RecordContext, knex: Knex, link: LinkDef, recordId: string): Knex.QueryBuilder {
  const shape = linkShape(ctx, link);
  const t = shape.targetTable;
  const query = recordRows(knex, ctx.registry.module(link.module)).where(`${t}.deleted`, 0);
  if (shape.kind === 'join') {
    const j = 'jt';
    query
      .innerJoin({ [j]: shape.rel.join_table! }, `${j}.${shape.otherKey}`, `${t}.id`)
      .where(`${j}.${shape.ownKey}`, recordId)
      .andWhere(`${j}.deleted`, 0)
      .andWhere(roleWhere(shape.rel, j));
    for (const f of shape.rel.relFields) query.select({ [`_rel_${f}`]: `${j}.${f}` });
  } else if (shape.kind === 'parent-holds-children') {
    const parentKey = shape.ownKey === 'id' ? [recordId] : knex(shape.ownTable).select(shape.ownKey).where('id', recordId);
    query.whereIn(`${t}.${shape.otherKey}`, parentKey).andWhere(roleWhere(shape.rel, t));
  } else {
    const own = shape.ownTable;
    query.whereIn(`${t}.${shape.otherKey}`, knex(own).select(shape.ownKey).where('id', recordId).andWhere(roleWhere(shape.rel, own)));
  }
  return query;
}

/** recordId -> ids of the records it reaches through a link, for many records at once. */
export async function relatedIds(ctx: RecordContext, knex: Knex, link: LinkDef, recordIds: string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (!recordIds.length) return result;
  const shape = linkShape(ctx, link);
  const add = (own: string, other: string | null) => {
    if (other) result.set(own, [...(result.get(own) ?? []), other]);
  };
  if (shape.kind === 'join') {
    const rows = await knex(shape.rel.join_table!).select({ own: shape.ownKey, other: shape.otherKey })
      .whereIn(shape.ownKey, recordIds).andWhere('deleted', 0).andWhere(roleWhere(shape.rel, shape.rel.join_table!))
      .orderBy('date_modified', 'desc');
    for (const r of rows) add(r.own, r.other);
  } else if (parentKeyedOffId(shape)) {
    // Sugar keeps a one-to-many role column on the rhs table: the target's when the record is the parent.
    const roleAlias = shape.kind === 'parent-holds-children' ? 't' : 'o';
    const rows = await knex({ o: shape.ownTable }).innerJoin({ t: shape.targetTable }, `t.${shape.otherKey}`, `o.${shape.ownKey}`)
      .select({ own: 'o.id', other: 't.id' }).whereIn('o.id', recordIds).andWhere('t.deleted', 0).andWhere(roleWhere(shape.rel, roleAlias));
    for (const r of rows) add(r.own, r.other);
  } else if (shape.kind === 'parent-holds-children') {
    const rows = await knex(shape.targetTable).select({ own: shape.otherKey, other: 'id' })
      .whereIn(shape.otherKey, recordIds).andWhere('deleted', 0).andWhere(roleWhere(shape.rel, shape.targetTable));
    for (const r of rows) add(r.own, r.other);
  } else {
    const own = shape.ownTable;
    const rows = await knex(own).select({ own: 'id', other: shape.ownKey }).whereIn('id', recordIds).andWhere(roleWhere(shape.rel, own));
    for (const r of rows) add(r.own, r.other);
  }
  return result;
}

/**
 * Writes a join-table row (or updates its relationship fields when the pair is already linked).
 * Returns true when something changed.
 */
export async function writeJoinRow(trx: Knex, shape: LinkShape, recordId: string, relatedId: string, relFields: Record<string, unknown>, now: string): Promise<boolean> {
  const rel = shape.rel;
  const role = rel.relationship_role_column && rel.relationship_role_column_value ? { [rel.relationship_role_column]: rel.relationship_role_column_value } : {};
  const existing = await trx(rel.join_table!).where({ [shape.ownKey]: recordId, [shape.otherKey]: relatedId, deleted: 0, ...role }).first();
  if (existing) {
    const changed = Object.entries(relFields).filter(([k, v]) => existing[k] !== v);
    if (!changed.length) return false;
    await trx(rel.join_table!).where('id', existing.id).update({ ...Object.fromEntries(changed), date_modified: now });
    return true;
  }
  await trx(rel.join_table!).insert({ id: crypto.randomUUID(), [shape.ownKey]: recordId, [shape.otherKey]: relatedId, ...role, ...relFields, date_modified: now, deleted: 0 });
  return true;
}

/** Soft-deletes join rows (deleted = 1, as Sugar's SugarRelationship::removeRow). */
export async function removeJoinRows(trx: Knex, shape: LinkShape, recordId: string, relatedId: string | undefined, now: string): Promise<number> {
  const rel = shape.rel;
  const role = rel.relationship_role_column && rel.relationship_role_column_value ? { [rel.relationship_role_column]: rel.relationship_role_column_value } : {};
  const where: Record<string, unknown> = { [shape.ownKey]: recordId, deleted: 0, ...role };
  if (relatedId !== undefined) where[shape.otherKey] = relatedId;
  return trx(rel.join_table!).where(where).update({ deleted: 1, date_modified: now });
}
