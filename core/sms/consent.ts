import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { formatDateTime, type Clock } from '../records/time';

export type ConsentState = 'opted_in' | 'opted_out';
export type ConsentSource = 'keyword' | '21610' | 'ui' | 'import' | 'api' | 'workflow';

export interface ConsentRecord {
  phone: string;
  state: ConsentState | 'unknown';
  source?: string;
  actorId?: string | null;
  note?: string | null;
  date?: string;
}

/**
 * Consent per E.164 number: the current state in sms_consent, every change in sms_consent_history.
 * No row means unknown. Every sending path asks it before a message is queued and again before the
 * provider is called.
 */
export class ConsentLedger {
  constructor(private readonly db: Database, private readonly clock: Clock) {}

  async states(phones: string[]): Promise<Map<string, ConsentRecord>> {
    const result = new Map<string, ConsentRecord>();
    for (let i = 0; i < phones.length; i += 500) {
      const rows = await this.db.knex('sms_consent').whereIn('phone_e164', phones.slice(i, i + 500));
      for (const r of rows) result.set(r.phone_e164, { phone: r.phone_e164, state: r.state, source: r.source, actorId: r.actor_id, note: r.note, date: String(r.date_modified).slice(0, 19) });
    }
    return result;
  }

  async state(phone: string): Promise<ConsentRecord> {
    return (await this.states([phone])).get(phone) ?? { phone, state: 'unknown' };
  }

  /** Records a change (inside `trx` when given). */
  async record(change: { phone: string; state: ConsentState; source: ConsentSource; actorId?: string | null; note?: string; reference?: string }, trx?: Knex): Promise<void> {
    const now = formatDateTime(this.clock());
    const write = async (k: Knex) => {
      const current = { phone_e164: change.phone, state: change.state, source: change.source, actor_id: change.actorId ?? null, note: change.note?.slice(0, 255) ?? null, date_modified: now };
      await k('sms_consent').insert(current).onConflict('phone_e164').merge();
      await k('sms_consent_history').insert({
        id: crypto.randomUUID(), phone_e164: change.phone, state: change.state, source: change.source, actor_id: change.actorId ?? null,
        note: change.note?.slice(0, 255) ?? null, reference: change.reference?.slice(0, 64) ?? null, date_entered: now,
      });
    };
    if (trx) await write(trx);
    else await this.db.knex.transaction(write);
  }

  async history(phone: string): Promise<Array<Record<string, unknown>>> {
    return this.db.knex('sms_consent_history').where('phone_e164', phone).orderBy([{ column: 'date_entered', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(200);
  }
}

/** Why a number may not be sent to, or undefined. */
export function consentRefusal(record: ConsentRecord | undefined): string | undefined {
  if (record?.state !== 'opted_out') return undefined;
  return `${record.phone} has opted out of SMS (${record.source ?? 'unknown source'}, ${record.date ?? 'unknown date'})`;
}
