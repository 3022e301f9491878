import { isAppendOnlyWrite } from '../records/append-only';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { AccessDeniedError } from '../errors';
import type { ModuleDef, Registry } from '../metadata/registry';
import type { Actor } from '../records/actor';
import type { AccessPolicy, ModuleAction } from '../records/context';
import { formatDateTime, type Clock } from '../records/time';

/** Sugar's ACL levels (modules/ACLActions/actiondefs.php). */
export const ACL = { ENABLED: 89, DISABLED: -98, ALL: 90, OWNER: 75, DEFAULT: 0, NONE: -99 } as const;

/** Module actions and their default levels, as Sugar installs them. */
export const MODULE_ACTIONS: Record<ModuleAction, number> = {
  access: ACL.ENABLED, view: ACL.ALL, list: ACL.ALL, edit: ACL.ALL, delete: ACL.ALL, import: ACL.ALL, export: ACL.ALL, massupdate: ACL.ALL,
};

/**
 * How a module is guarded, from the dictionary's `acltype`: 'module' (roles apply; the default),
 * 'admin' (administrators only) or 'self' (everyone may view and list; a user may edit only their
 * own record, as Sugar's Users module behaves).
 */
export function aclType(module: ModuleDef): 'module' | 'admin' | 'self' {
  const t = module.dictionary.acltype;
  return t === 'admin' || t === 'self' ? t : 'module';
}

/**
 * Module actions that would write to a `system_managed` module (workflow runs in AOW_Processed):
 * only system actors hold them, so no user, admin included, and no screen has them.
 */
export function isSystemManagedWrite(module: ModuleDef, action: string): boolean {
  return module.dictionary.system_managed === true && (action === 'edit' || action === 'delete' || action === 'massupdate' || action === 'import');
}

export type Levels = Map<string, Map<string, number>>;

/**
 * Sugar's role-based access: roles × module actions × levels. Several roles combine to the most
 * restrictive level; an override of 0 (DEFAULT) means the action's default. Admins and the system
 * bypass it. "Owner" becomes a where clause on assigned_user_id, so lists, counts, related lists and
 * exports all obey it.
 */
export class AclPolicy implements AccessPolicy {
  private readonly cache = new Map<string, { at: number; levels: Levels }>();

  constructor(private readonly db: Database, private readonly registry: Registry, private readonly cacheMs = 2000) {}

  /** Forget cached levels (after role changes in this process; other processes refresh within cacheMs). */
  invalidate(): void {
    this.cache.clear();
  }

  private privileged(actor: Actor): boolean {
    return actor.type === 'system' || actor.isAdmin;
  }

  async levels(userId: string): Promise<Levels> {
    const hit = this.cache.get(userId);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.levels;
    const defaults: Array<{ category: string; name: string; aclaccess: number }> = await this.db.knex('acl_actions').select('category', 'name', 'aclaccess').where({ acltype: 'module', deleted: 0 });
    const overrides: Array<{ category: string; name: string; access_override: number; aclaccess: number }> = await this.db.knex('acl_roles_users as ru')
      .join('acl_roles as r', 'r.id', 'ru.role_id')
      .join('acl_roles_actions as ra', 'ra.role_id', 'r.id')
      .join('acl_actions as a', 'a.id', 'ra.action_id')
      .where({ 'ru.user_id': userId, 'ru.deleted': 0, 'r.deleted': 0, 'ra.deleted': 0, 'a.deleted': 0, 'a.acltype': 'module' })
      .select('a.category', 'a.name', 'ra.access_override', 'a.aclaccess');
    const levels: Levels = new Map();
    const set = (module: string, action: string, level: number, combine: boolean) => {
      const m = levels.get(module) ?? new Map<string, number>();
      const current = m.get(action);
      m.set(action, combine && current !== undefined ? Math.min(current, level) : level);
      levels.set(module, m);
    };
    for (const d of defaults) set(d.category, d.name, Number(d.aclaccess), false);
    const fromRoles: Levels = new Map();
    for (const o of overrides) {
      const level = Number(o.access_override) === ACL.DEFAULT ? Number(o.aclaccess) : Number(o.access_override);
      const m = fromRoles.get(o.category) ?? new Map<string, number>();
      const current = m.get(o.name);
      m.set(o.name, current === undefined ? level : Math.min(current, level));
      fromRoles.set(o.category, m);
    }
    for (const [module, actions] of fromRoles) for (const [action, level] of actions) set(module, action, level, false);
    this.cache.set(userId, { at: Date.now(), levels });
    return levels;
  }

  /** The effective level of an action for an actor (ALL for admins and the system). */
  async level(actor: Actor, module: ModuleDef, action: ModuleAction): Promise<number> {
    // Admins included: append-only modules take writes only from their writers, system-managed ones only from system actors.
    if (actor.type === 'user' && (isAppendOnlyWrite(module, action) || isSystemManagedWrite(module, action))) return ACL.NONE;
    if (this.privileged(actor)) return ACL.ALL;
    const type = aclType(module);
    if (type === 'admin') return ACL.NONE;
    if (type === 'self') return action === 'view' || action === 'list' || action === 'access' ? ACL.ALL : action === 'edit' ? ACL.OWNER : ACL.NONE;
    const levels = await this.levels(actor.id!);
    const access = levels.get(module.name)?.get('access') ?? MODULE_ACTIONS.access;
    if (access <= ACL.DISABLED) return ACL.NONE;
    if (action === 'access') return ACL.ALL;
    return levels.get(module.name)?.get(action) ?? MODULE_ACTIONS[action];
  }

  async scope(actor: Actor, module: ModuleDef, action: ModuleAction, query: Knex.QueryBuilder, alias: string): Promise<void> {
    const level = await this.level(actor, module, action);
    if (level >= ACL.ALL) return;
    if (level === ACL.OWNER) {
      query.where(`${alias}.${ownerColumn(module)}`, actor.id ?? '');
      return;
    }
    if (level < ACL.OWNER) query.whereRaw('1 = 0');
  }

  async check(actor: Actor, module: ModuleDef, action: ModuleAction, record?: Record<string, unknown>): Promise<void> {
    const level = await this.level(actor, module, action);
    if (level >= ACL.ALL) return;
    const creating = !record && action === 'edit';
    if (level === ACL.OWNER && !(creating && aclType(module) === 'self') && (!record || record[ownerColumn(module)] === actor.id)) return;
    throw new AccessDeniedError(`You are not allowed to ${action} ${module.name}${record?.id ? ` record ${String(record.id)}` : ''}`, { module: module.name, action });
  }
}

/** The column "owner" refers to: assigned_user_id, or the record's own id for Users ('self'). */
export function ownerColumn(module: ModuleDef): string {
  if (aclType(module) === 'self') return 'id';
  return module.columns.includes('assigned_user_id') ? 'assigned_user_id' : 'created_by';
}

/** Creates the acl_actions rows (one per module and action) that are missing, as Sugar does on install. */
export async function ensureAclActions(db: Database, registry: Registry, clock: Clock): Promise<number> {
  const existing = new Set((await db.knex('acl_actions').select('category', 'name').where({ acltype: 'module', deleted: 0 })).map((r: { category: string; name: string }) => `${r.category}:${r.name}`));
  const now = formatDateTime(clock());
  const rows = [];
  for (const module of registry.modules.values()) {
    if (aclType(module) !== 'module') continue;
    for (const [action, level] of Object.entries(MODULE_ACTIONS)) {
      if (existing.has(`${module.name}:${action}`)) continue;
      rows.push({ id: crypto.randomUUID(), date_entered: now, date_modified: now, modified_user_id: '1', created_by: '1', name: action, category: module.name, acltype: 'module', aclaccess: level, deleted: 0 });
    }
  }
  if (rows.length) await db.knex.batchInsert('acl_actions', rows, 100);
  return rows.length;
}
