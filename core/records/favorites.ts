import crypto from 'node:crypto';
import type { Knex } from 'knex';

/**
 * SuiteCRM's favourites (table `favorites`): a user's favourite record is a row with
 * assigned_user_id = the user, parent_type = the module, parent_id = the record.
 */
export async function setFavorite(knex: Knex, userId: string, module: string, recordId: string, favorite: boolean, now: string): Promise<void> {
  await knex.transaction(async (trx) => {
    const existing = await trx('favorites').where({ assigned_user_id: userId, parent_type: module, parent_id: recordId, deleted: 0 }).first('id');
    if (favorite && !existing) {
      await trx('favorites').insert({ id: crypto.randomUUID(), name: `${module} ${recordId}`, date_entered: now, date_modified: now, modified_user_id: userId, created_by: userId, deleted: 0, assigned_user_id: userId, parent_id: recordId, parent_type: module });
    } else if (!favorite && existing) {
      await trx('favorites').where({ assigned_user_id: userId, parent_type: module, parent_id: recordId, deleted: 0 }).update({ deleted: 1, date_modified: now });
    }
  });
}

/** Which of these records the user marked as favourites. */
export async function favoriteIds(knex: Knex, userId: string | undefined, module: string, ids: string[]): Promise<Set<string>> {
  if (!userId || !ids.length) return new Set();
  const rows: Array<{ parent_id: string }> = await knex('favorites').where({ assigned_user_id: userId, parent_type: module, deleted: 0 }).whereIn('parent_id', ids).select('parent_id');
  return new Set(rows.map((r) => r.parent_id));
}

/** A subquery of the ids of the user's favourite records of a module (Sugar's $favorite filter). */
export function favoritesQuery(knex: Knex, userId: string | undefined, module: string): Knex.QueryBuilder {
  return knex('favorites').select('parent_id').where({ assigned_user_id: userId ?? '', parent_type: module, deleted: 0 });
}
