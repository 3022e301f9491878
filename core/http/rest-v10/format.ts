import type { ModuleDef } from '../../metadata/registry';
import { valueKind } from '../../metadata/field-types';
import { isCane, type Actor } from '../../records/actor';
import type { RecordData } from '../../records/read';
import { toIso } from '../../records/time';
import type { AclPolicy } from '../../security/acl';
import { ACL, ownerColumn } from '../../security/acl';

/** A record as REST v10 returns it: ISO-8601 datetimes with offset, typed values, `_module` and `_acl`. */
export function toV10(module: ModuleDef, record: RecordData, acl: RecordAcl, fields?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    if (fields && !fields.includes(name)) continue;
    const field = module.fields[name];
    out[name] = field && valueKind(field) === 'datetime' && typeof value === 'string' ? toIso(value) : value;
  }
  if (!fields || fields.includes('my_favorite')) out.my_favorite = acl.isFavorite(String(record.id));
  out._acl = acl.forRecord(record);
  out._module = module.name;
  return out;
}

/** Computes `_acl` for the records of one response from the actor's levels, once per module. */
export class RecordAcl {
  private constructor(
    private readonly module: ModuleDef, private readonly actor: Actor, private readonly levels: Record<'view' | 'edit' | 'delete', number>, private readonly favorites: ReadonlySet<string>,
  ) {}

  /** `favorites`: the ids among the response's records that the actor marked as favourites (my_favorite). */
  static async for(policy: AclPolicy, actor: Actor, module: ModuleDef, favorites: ReadonlySet<string> = new Set()): Promise<RecordAcl> {
    const [view, edit, del] = await Promise.all([policy.level(actor, module, 'view'), policy.level(actor, module, 'edit'), policy.level(actor, module, 'delete')]);
    return new RecordAcl(module, actor, { view, edit, delete: del }, favorites);
  }

  isFavorite(id: string): boolean {
    return this.favorites.has(id);
  }

  /** Sugar's shape: `{fields: {<field>: {write: 'no'}}, edit: 'no', delete: 'no'}` listing only what is refused. */
  forRecord(record: Record<string, unknown>): Record<string, unknown> {
    const result: Record<string, unknown> = { fields: {} };
    const owner = record[ownerColumn(this.module)] === this.actor.id;
    for (const action of ['view', 'edit', 'delete'] as const) {
      const level = this.levels[action];
      if (level < ACL.OWNER || (level === ACL.OWNER && !owner)) result[action] = 'no';
    }
    const fields: Record<string, unknown> = {};
    const admin = this.actor.type === 'system' || this.actor.isAdmin;
    for (const [name, field] of Object.entries(this.module.fields)) if ((field.system_only && !isCane(this.actor)) || (field.admin_only && !admin)) fields[name] = { write: 'no', create: 'no' };
    result.fields = fields;
    return result;
  }
}
