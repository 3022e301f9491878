import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import type { ModuleDef, Registry } from '../metadata/registry';
import type { OutboxEvent } from '../records/context';
import { e164OrUndefined } from './phone';
import { fieldColumn, recordRows } from '../records/custom-fields';

/** Modules whose records can receive SMS, in the order inbound messages are matched to them. */
export const RECIPIENT_MODULES = ['Contacts', 'Leads', 'Prospects', 'Accounts', 'Users'];

/** The phone field used when the caller does not choose one. */
export const DEFAULT_PHONE_FIELD: Record<string, string> = { Contacts: 'phone_mobile', Leads: 'phone_mobile', Prospects: 'phone_mobile', Users: 'phone_mobile', Accounts: 'phone_office' };

export function phoneFields(module: ModuleDef): string[] {
  return Object.values(module.fields).filter((f) => f.type === 'phone' && module.columns.includes(f.name)).map((f) => f.name);
}

/**
 * sms_phone_index: the E.164 form of every phone field of the recipient modules, kept in the same
 * transaction as the record's save, so inbound messages and consent lookups find records through an
 * index instead of scanning formatted numbers.
 */
export class PhoneIndex {
  private readonly fields = new Map<string, string[]>();
  private readonly tables = new Map<string, string>();

  constructor(private readonly db: Database, registry: Registry, private readonly region: string) {
    for (const name of RECIPIENT_MODULES) {
      if (!registry.modules.has(name)) continue;
      this.fields.set(name, phoneFields(registry.module(name)));
      this.tables.set(name, registry.module(name).table);
    }
  }

  /** The outbox listener that keeps the index current. */
  listener = async (trx: Knex, event: OutboxEvent): Promise<void> => {
    const fields = this.fields.get(event.module);
    if (!fields?.length) return;
    if (event.event === 'after_delete') {
      await trx('sms_phone_index').where({ module: event.module, record_id: event.id }).delete();
      return;
    }
    if (event.event !== 'after_save' && event.event !== 'after_restore') return;
    const touched = event.isUpdate && event.event === 'after_save' ? fields.filter((f) => f in event.changes) : fields.filter((f) => event.record[f]);
    for (const field of touched) await this.write(trx, event.module, event.id, field, event.record[field]);
  };

  private async write(k: Knex, module: string, id: string, field: string, raw: unknown): Promise<void> {
    const phone = e164OrUndefined(raw, this.region);
    if (!phone) {
      await k('sms_phone_index').where({ module, record_id: id, field }).delete();
      return;
    }
    await k('sms_phone_index').insert({ phone_e164: phone, module, record_id: id, field }).onConflict(['module', 'record_id', 'field']).merge();
  }

  /** Records with this number, in RECIPIENT_MODULES order (deleted records excluded). */
  async find(phone: string): Promise<Array<{ module: string; id: string; field: string }>> {
    const rows: Array<{ module: string; record_id: string; field: string }> = await this.db.knex('sms_phone_index').where('phone_e164', phone).limit(50);
    const live: Array<{ module: string; id: string; field: string }> = [];
    for (const module of RECIPIENT_MODULES) {
      const ids = rows.filter((r) => r.module === module);
      if (!ids.length) continue;
      const present = new Set((await this.db.knex(this.tables.get(module)!).whereIn('id', ids.map((r) => r.record_id)).andWhere('deleted', 0).select('id')).map((r: { id: string }) => r.id));
      for (const r of ids) if (present.has(r.record_id)) live.push({ module, id: r.record_id, field: r.field });
    }
    return live;
  }

  /** Rebuilds the index from the records (after an import or on a database from before the index). */
  async rebuild(registry: Registry): Promise<number> {
    let count = 0;
    await this.db.knex('sms_phone_index').delete();
    for (const [name, fields] of this.fields) {
      if (!fields.length) continue;
      const module = registry.module(name);
      let last = '';
      for (;;) {
        const t = module.table;
        const rows = await recordRows(this.db.knex, module).clearSelect().select(`${t}.id`, ...fields.map((f) => fieldColumn(module, t, f)))
          .where(`${t}.deleted`, 0).andWhere(`${t}.id`, '>', last).orderBy(`${t}.id`).limit(1000);
        if (!rows.length) break;
        const entries = [];
        for (const row of rows) {
          for (const field of fields) {
            const phone = e164OrUndefined(row[field], this.region);
            if (phone) entries.push({ phone_e164: phone, module: name, record_id: row.id, field });
          }
        }
        if (entries.length) await this.db.knex.batchInsert('sms_phone_index', entries, 200);
        count += entries.length;
        last = rows[rows.length - 1].id;
      }
    }
    return count;
  }
}
