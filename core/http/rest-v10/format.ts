import type { ModuleDef } from '../../metadata/registry';
import { valueKind } from '../../metadata/field-types';
import { isCane, type Actor } from '../../records/actor';
import type { RecordData } from '../../records/read';
import { toIso } from '../../records/time';
import type { AclPolicy } from '../../security/acl';
import { ACL, ownerColumn } from '../../security/acl';
import { perModule } from '../../metadata/per-module';

const datetimeFields = perModule((module) => new Set(Object.values(module.fields).filter((f) => valueKind(f) === 'datetime').map((f) => f.name)));
/** Fields nobody but Cane writes (system_only) and fields only admins write (admin_only). */
const guardedFields = perModule((module) => Object.values(module.fields).filter((f) => f.system_only || f.admin_only));

/** A record as REST v10 returns it: ISO-8601 datetimes with offset, typed values, `_module` and `_acl`. */
export function toV10(module: ModuleDef, record: RecordData, acl: RecordAcl, fields?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const datetimes = datetimeFields(module);
  const only = fields && new Set(fields);
  for (const name in record) {
    if (only && !only.has(name)) continue;
    const value = record[name];
    out[name] = typeof value === 'string' && datetimes.has(name) ? toIso(value) : value;
  }
  if (!fields || fields.includes('my_favorite')) out.my_favorite = acl.isFavorite(String(record.id));
  out._acl = acl.forRecord(record);
  out._module = module.name;
  return out;
}

/** Computes `_acl` for the records of one response from the actor's levels, once per module. */
export class RecordAcl {
  /** The `fields` part of `_acl` is the same for every record of a response. */
  private readonly fieldRights: Record<string, unknown>;

  private constructor(
    private readonly module: ModuleDef, private readonly actor: Actor, private readonly levels: Record<'view' | 'edit' | 'delete', number>, private readonly favorites: ReadonlySet<string>,
  ) {
    const admin = actor.type === 'system' || actor.isAdmin;
    const refused = guardedFields(module).filter((f) => (f.system_only && !isCane(actor)) || (f.admin_only && !admin));
    this.fieldRights = Object.fromEntries(refused.map((f) => [f.name, { write: 'no', create: 'no' }]));
  }

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
    const result: Record<string, unknown> = { fields: this.fieldRights };
    const owner = record[ownerColumn(this.module)] === this.actor.id;
    for (const action of ['view', 'edit', 'delete'] as const) {
      const level = this.levels[action];
      if (level < ACL.OWNER || (level === ACL.OWNER && !owner)) result[action] = 'no';
    }
    return result;
  }
}
