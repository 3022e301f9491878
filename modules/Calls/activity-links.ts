import { HookVeto } from '../../core/errors';
import type { Database } from '../../core/db/connection';
import type { HookDefinition } from '../../core/hooks/types';
import type { Registry } from '../../core/metadata/registry';
import type { RecordService } from '../../core/records/record-service';
import { SYSTEM } from '../../core/records/actor';

/**
 * As SuiteCRM's Call and Meeting save do: a Contact or Lead chosen as the parent is also invited
 * (calls_contacts / calls_leads, meetings_…), so the activity shows on that person's subpanels, and
 * the assigned user of a new activity is on it as organizer (calls_users / meetings_users, accepted).
 */
export function inviteParentHook(services: { records?: RecordService }): HookDefinition {
  const linkFor: Record<string, string> = { Contacts: 'contacts', Leads: 'leads' };
  return {
    event: 'after_save', order: 5, label: 'Invite the parent contact or lead and the organizer',
    handler: async (bean) => {
      const { records } = services;
      if (!records) return;
      const id = String(bean.id);
      if (!bean.fetched_row && typeof bean.assigned_user_id === 'string' && bean.assigned_user_id) {
        await records.link(SYSTEM, bean.module_dir, id, 'users', bean.assigned_user_id, { accept_status: 'accept' });
      }
      const link = linkFor[String(bean.parent_type ?? '')];
      const parentId = typeof bean.parent_id === 'string' ? bean.parent_id : '';
      if (!link || !parentId) return;
      if (bean.fetched_row && bean.fetched_row.parent_id === parentId && bean.fetched_row.parent_type === bean.parent_type) return;
      await records.link(SYSTEM, bean.module_dir, id, link, parentId);
    },
  } satisfies HookDefinition<'after_save'> as HookDefinition;
}

/** Tasks and Notes whose parent is a Contact carry it in contact_id too (the Contact's tasks and notes links). */
export function contactFromParentHook(): HookDefinition {
  return {
    event: 'before_save', order: 5, label: 'Contact from the parent',
    handler: (bean) => {
      if (bean.parent_type === 'Contacts' && bean.parent_id && !bean.contact_id) bean.contact_id = bean.parent_id;
    },
  } satisfies HookDefinition<'before_save'> as HookDefinition;
}

/**
 * The flex relate must point at something: parent_type one of parent_type_display's installed
 * modules, parent_id a record of it that is not deleted (Sugar saves any pair; Cane refuses a dangling one).
 */
export function parentCheckHook(registry: Registry, db: Database): HookDefinition {
  return {
    event: 'before_save', order: 1, label: 'Check the parent',
    handler: async (bean) => {
      const type = typeof bean.parent_type === 'string' ? bean.parent_type : '';
      const id = typeof bean.parent_id === 'string' ? bean.parent_id : '';
      if (!type && !id) return;
      if (bean.fetched_row && bean.fetched_row.parent_type === (type || null) && bean.fetched_row.parent_id === (id || null)) return;
      const allowed = Object.keys(registry.dropdown('parent_type_display') ?? {}).filter((m) => registry.modules.has(m));
      if (!type) throw new HookVeto('parent_type is required when parent_id is set', 'parent_type');
      if (!allowed.includes(type)) throw new HookVeto(`parent_type must be one of ${allowed.join(', ')}; got '${type}'`, 'parent_type');
      if (!id) return;
      const parent = registry.module(type);
      const found = await db.knex(parent.table).where({ id, ...(parent.columns.includes('deleted') ? { deleted: 0 } : {}) }).first('id');
      if (!found) throw new HookVeto(`parent_id: no ${registry.dropdown('moduleListSingular')?.[type] ?? type} has the id '${id}'`, 'parent_id');
    },
  } satisfies HookDefinition<'before_save'> as HookDefinition;
}
