import type { Database } from '../db/connection';
import { AccessDeniedError, NotFoundError } from '../errors';
import type { ModuleDef, Registry } from '../metadata/registry';
import type { Actor } from '../records/actor';
import type { AccessPolicy } from '../records/context';
import type { PhoneIndex } from './phone-index';

export interface ConsentAccessDeps {
  db: Database;
  registry: Registry;
  access: AccessPolicy;
  phoneIndex: PhoneIndex;
}

/**
 * A number's consent belongs to the records that carry the number: reading it needs view rights,
 * changing it edit rights, on one of them (administrators and the system need neither). The refusal
 * reads the same whether or not any record has the number, so it tells nothing about the number.
 */
export async function requireConsentAccess(deps: ConsentAccessDeps, actor: Actor, phone: string, action: 'view' | 'edit'): Promise<void> {
  if (actor.type === 'system' || actor.isAdmin) return;
  for (const entry of await deps.phoneIndex.find(phone)) {
    const module = deps.registry.module(entry.module);
    const record = await deps.db.knex(module.table).where({ id: entry.id }).first();
    if (record && (await allows(deps.access, actor, module, record, action))) return;
  }
  if (action === 'view') throw new NotFoundError(`No record you may view has the number ${phone}`, { field: 'number' });
  throw new AccessDeniedError(`You may change the SMS consent of ${phone} only if you may edit a record with that number`, { field: 'number' });
}

async function allows(access: AccessPolicy, actor: Actor, module: ModuleDef, record: Record<string, unknown>, action: 'view' | 'edit'): Promise<boolean> {
  try {
    await access.check(actor, module, 'view', record);
    if (action === 'edit') await access.check(actor, module, 'edit', record);
    return true;
  } catch (err) {
    if (err instanceof AccessDeniedError) return false;
    throw err;
  }
}
