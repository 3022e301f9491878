import { NotFoundError } from '../errors';
import type { ModuleDef } from '../metadata/registry';
import { isTruthy } from '../metadata/field-types';
import { makeBean } from '../hooks/hook-registry';
import { actorId, type Actor } from './actor';
import { emit, originOf, type RecordContext } from './context';
import { linkShape, removeJoinRows } from './relationships';
import { nextDateModified } from './version';
import { retrieveRecord } from './queries';
import { recordRows } from './custom-fields';
import { requireVisible, runAfter, withoutSensitive } from './save';
import type { RecordData } from './read';
import type { PlannedWrite } from './batch';

/**
 * SugarBean::mark_deleted: before_delete → (one transaction) soft-delete the join rows (deleted = 1,
 * stamped with the deletion time) and mark the record deleted → after_delete. Unlike Sugar,
 * one-to-many children keep their key, so history stays attached and a restore is exact.
 */
export async function deleteRecord(ctx: RecordContext, actor: Actor, module: ModuleDef, id: string): Promise<void> {
  const planned = await planDelete(ctx, actor, module, id);
  await ctx.db.knex.transaction((trx) => planned.write(trx));
  await planned.finish();
}

/** The delete checked and its before_delete hooks run; `write` marks it deleted inside the caller's transaction. */
export async function planDelete(ctx: RecordContext, actor: Actor, module: ModuleDef, id: string): Promise<PlannedWrite<void>> {
  const record = await retrieveRecord(ctx, module, id, {}, false);
  await requireVisible(ctx, actor, module, record);
  await ctx.access.check(actor, module, 'delete', record);
  await ctx.hooks.run(module.name, 'before_delete', makeBean(module.name, module.objectName, record, record), { id });
  // The join rows carry the same stamp as the record, so a restore knows which ones to bring back.
  const now = nextDateModified(ctx.clock(), record.date_modified);
  return {
    async write(trx) {
      for (const link of Object.values(module.links)) {
        const shape = linkShape(ctx, link);
        if (shape.kind === 'join') {
          await removeJoinRows(trx, shape, id, undefined, now);
        }
      }
      const row: Record<string, unknown> = { deleted: 1 };
      if (module.columns.includes('date_modified')) row.date_modified = now;
      if (module.columns.includes('modified_user_id')) row.modified_user_id = actorId(actor);
      const count = await trx(module.table).where({ id, deleted: 0 }).update(row);
      if (count !== 1) throw new NotFoundError(`Could not find record: ${id} in module: ${module.name}`, { module: module.name, id });
      const deleted = withoutSensitive(module, { ...record, ...row, deleted: true } as RecordData);
      for (const listener of ctx.outbox) await listener(trx, { event: 'after_delete', module: module.name, id, isUpdate: true, record: deleted, changes: {}, actorId: actorId(actor) ?? undefined, ...originOf(actor) });
    },
    async finish() {
      await runAfter(ctx, () => ctx.hooks.run(module.name, 'after_delete', makeBean(module.name, module.objectName, record, record), { id }));
    },
  };
}

/**
 * SugarBean::mark_undeleted: before_restore → deleted = 0 → after_restore. Join rows that the
 * delete removed (same timestamp) come back with the record.
 */
export async function restoreRecord(ctx: RecordContext, actor: Actor, module: ModuleDef, id: string) {
  const row = await recordRows(ctx.db.knex, module).where(`${module.table}.id`, id).first();
  if (!row) throw new NotFoundError(`Could not find record: ${id} in module: ${module.name}`, { module: module.name, id });
  const record = await retrieveRecord(ctx, module, id, { deleted: true }, false);
  await requireVisible(ctx, actor, module, record);
  await ctx.access.check(actor, module, 'delete', record);
  if (!isTruthy(row.deleted)) return record;
  await ctx.hooks.run(module.name, 'before_restore', makeBean(module.name, module.objectName, record, record), { id });
  const update: Record<string, unknown> = { deleted: 0 };
  const now = nextDateModified(ctx.clock(), row.date_modified);
  if (module.columns.includes('date_modified')) update.date_modified = now;
  if (module.columns.includes('modified_user_id')) update.modified_user_id = actorId(actor);
  const deletedAt = row.date_modified ? String(row.date_modified).slice(0, 19) : undefined;
  await ctx.db.knex.transaction(async (trx) => {
    await trx(module.table).where('id', id).update(update);
    // Join rows the delete removed carry its timestamp; they come back with the record.
    if (deletedAt) {
      for (const link of Object.values(module.links)) {
        const shape = linkShape(ctx, link);
        if (shape.kind !== 'join') continue;
        const role = shape.rel.relationship_role_column && shape.rel.relationship_role_column_value ? { [shape.rel.relationship_role_column]: shape.rel.relationship_role_column_value } : {};
        await trx(shape.rel.join_table!).where({ [shape.ownKey]: id, deleted: 1, date_modified: deletedAt, ...role }).update({ deleted: 0, date_modified: now });
      }
    }
    await emit(ctx.outbox, trx, { event: 'after_restore', module: module.name, id, isUpdate: true, record: withoutSensitive(module, { ...record, ...update, deleted: false } as RecordData), changes: {}, actorId: actorId(actor) ?? undefined, ...originOf(actor) });
  });
  const restored = await retrieveRecord(ctx, module, id, {}, false);
  await runAfter(ctx, () => ctx.hooks.run(module.name, 'after_restore', makeBean(module.name, module.objectName, restored, record), { id }));
  return restored;
}
