import type { Engine } from '../app/engine';
import { CaneError } from '../errors';
import { SYSTEM } from '../records/actor';
import type { ModuleAction } from '../records/context';
import { ACL, MODULE_ACTIONS, type AclPolicy } from './acl';

/** Level names accepted by `cane role:set` and the admin API, as Sugar's role editor labels them. */
export const LEVEL_NAMES: Record<string, number> = {
  all: ACL.ALL, owner: ACL.OWNER, none: ACL.NONE, default: ACL.DEFAULT, enabled: ACL.ENABLED, disabled: ACL.DISABLED,
};

export function parseLevel(action: string, value: string | number): number {
  const level = typeof value === 'number' ? value : LEVEL_NAMES[value.toLowerCase()] ?? (/^-?\d+$/.test(value) ? Number(value) : NaN);
  const allowed = action === 'access' ? [ACL.ENABLED, ACL.DISABLED, ACL.DEFAULT] : action === 'import' || action === 'export' ? [ACL.ALL, ACL.NONE, ACL.DEFAULT] : [ACL.ALL, ACL.OWNER, ACL.NONE, ACL.DEFAULT];
  if (!allowed.includes(level as never)) {
    throw new CaneError('invalid_parameter', `level '${value}' is not valid for ${action}; use ${allowed.map((l) => Object.keys(LEVEL_NAMES).find((k) => LEVEL_NAMES[k] === l)).join(', ')}`, 422);
  }
  return level;
}

/** Role management over Sugar's tables (acl_roles, acl_roles_actions, acl_roles_users). */
export class RoleAdmin {
  constructor(private readonly engine: Engine, private readonly acl?: AclPolicy) {}

  private async roleId(name: string): Promise<string> {
    const row = await this.engine.db.knex('acl_roles').where({ name, deleted: 0 }).first('id');
    if (!row) throw new CaneError('not_found', `no role named '${name}'`, 404);
    return row.id;
  }

  async create(name: string, description = ''): Promise<string> {
    if (await this.engine.db.knex('acl_roles').where({ name, deleted: 0 }).first('id')) throw new CaneError('invalid_parameter', `a role named '${name}' exists`, 422);
    return (await this.engine.records.create(SYSTEM, 'ACLRoles', { name, description })).id;
  }

  /** Sets a role's level for one module action (access_override on acl_roles_actions). */
  async set(roleName: string, module: string, action: string, level: string | number): Promise<void> {
    if (!(action in MODULE_ACTIONS)) throw new CaneError('invalid_parameter', `action must be one of ${Object.keys(MODULE_ACTIONS).join(', ')}`, 422);
    this.engine.registry.module(module);
    const value = parseLevel(action, level);
    const roleId = await this.roleId(roleName);
    const actionRow = await this.engine.db.knex('acl_actions').where({ category: module, name: action as ModuleAction, acltype: 'module', deleted: 0 }).first('id');
    if (!actionRow) throw new CaneError('invalid_parameter', `${module} is not guarded by roles`, 422);
    await this.engine.records.link(SYSTEM, 'ACLRoles', roleId, 'actions', actionRow.id, { access_override: value });
    this.acl?.invalidate();
  }

  private async userId(userName: string): Promise<string> {
    const user = await this.engine.db.knex('users').where({ user_name: userName, deleted: 0 }).first('id');
    if (!user) throw new CaneError('not_found', `no user named '${userName}'`, 404);
    return user.id;
  }

  async assign(roleName: string, userName: string): Promise<void> {
    await this.engine.records.link(SYSTEM, 'ACLRoles', await this.roleId(roleName), 'users', await this.userId(userName));
    this.acl?.invalidate();
  }

  async unassign(roleName: string, userName: string): Promise<void> {
    await this.engine.records.unlink(SYSTEM, 'ACLRoles', await this.roleId(roleName), 'users', await this.userId(userName));
    this.acl?.invalidate();
  }

  /** Roles with their non-default settings and users. */
  async list(): Promise<Array<{ name: string; description: string | null; settings: Record<string, Record<string, number>>; users: string[] }>> {
    const knex = this.engine.db.knex;
    const roles = await knex('acl_roles').where('deleted', 0).orderBy('name');
    const result = [];
    for (const role of roles) {
      const settings: Record<string, Record<string, number>> = {};
      const rows = await knex('acl_roles_actions as ra').join('acl_actions as a', 'a.id', 'ra.action_id').where({ 'ra.role_id': role.id, 'ra.deleted': 0 }).select('a.category', 'a.name', 'ra.access_override');
      for (const r of rows) (settings[r.category] ??= {})[r.name] = Number(r.access_override);
      const users = await knex('acl_roles_users as ru').join('users as u', 'u.id', 'ru.user_id').where({ 'ru.role_id': role.id, 'ru.deleted': 0 }).pluck('u.user_name');
      result.push({ name: role.name, description: role.description, settings, users });
    }
    return result;
  }
}
