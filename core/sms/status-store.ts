import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Dialect } from '../db/dialects/dialect';
import { movesForward } from './status';

export interface StatusChange {
  status: string;
  providerStatus?: string;
  errorCode?: string;
  errorMessage?: string;
  price?: number;
  priceUnit?: string;
  /** dispatch, reconcile, callback, inbound */
  source: string;
  at: string;
  raw?: unknown;
  /** Internal transitions name the status they leave instead of having to move forward. */
  expect?: string;
}

/** Told of every status an SMS moved to, inside the transaction that moved it (plugins get `sms.status` from it). */
export type StatusListener = (trx: Knex, smsId: string, before: string, change: StatusChange) => Promise<void>;

/** The stored status of SMS rows and their history in sms_status_events. */
export class StatusStore {
  constructor(private readonly dialect: Pick<Dialect, 'isDuplicateKey'>, private readonly onChange?: StatusListener) {}

  /** Appends to sms_status_events; false when this (message, status, error) was already recorded. */
  private async recordEvent(trx: Knex, smsId: string, change: StatusChange): Promise<boolean> {
    try {
      await trx('sms_status_events').insert({
        id: crypto.randomUUID(), sms_id: smsId, status: change.status, error_code: change.errorCode ?? '', source: change.source, provider_status: change.providerStatus ?? null,
        raw: change.raw === undefined ? null : JSON.stringify(change.raw).slice(0, 4000), date_entered: change.at,
      });
      return true;
    } catch (err) {
      if (this.dialect.isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * Applies a status to an SMS if it is progress (or, for internal transitions, if the row is still
   * in `expect`), with a compare-and-set on the stored status so concurrent callbacks cannot
   * regress it. Returns whether the row changed.
   */
  async advance(trx: Knex, row: { id: string; status: string; [key: string]: unknown }, change: StatusChange): Promise<boolean> {
    const fresh = await this.recordEvent(trx, row.id, change);
    if (!fresh && change.source === 'callback') return false;
    let current = row.status;
    for (let round = 0; round < 3; round++) {
      const allowed = change.expect ? current === change.expect : movesForward(current, change.status);
      if (!allowed) return false;
      const update: Record<string, unknown> = { status: change.status, date_modified: change.at };
      if (change.errorCode !== undefined) update.error_code = change.errorCode.slice(0, 16);
      if (change.errorMessage !== undefined) update.error_message = change.errorMessage.slice(0, 255);
      if (change.price !== undefined) Object.assign(update, { price: change.price, price_unit: change.priceUnit ?? null });
      if (change.status === 'sent' || change.status === 'delivered') update.date_sent = trx.raw('COALESCE(date_sent, ?)', [change.at]);
      if (change.status === 'delivered') update.date_delivered = change.at;
      if ((await trx('sms').where({ id: row.id, status: current }).update(update)) === 1) {
        await this.onChange?.(trx, row.id, current, change);
        return true;
      }
      const now = await trx('sms').where('id', row.id).first('status');
      if (!now) return false;
      current = now.status;
    }
    return false;
  }

  /**
   * advance() for many messages at once, for internal sources (dispatch): the history rows in one
   * insert, one compare-and-set update per target status. For rows the caller holds in `trx`: if
   * one moved meanwhile it throws, and the caller falls back to advance() for each.
   */
  async advanceMany(trx: Knex, changes: Array<{ row: { id: string; status: string }; change: StatusChange }>): Promise<void> {
    if (!changes.length) return;
    if (changes.some(({ change }) => change.source === 'callback' || change.expect)) throw new Error('advanceMany is for internal status changes only');
    await trx('sms_status_events').insert(changes.map(({ row, change }) => ({
      id: crypto.randomUUID(), sms_id: row.id, status: change.status, error_code: change.errorCode ?? '', source: change.source, provider_status: change.providerStatus ?? null,
      raw: change.raw === undefined ? null : JSON.stringify(change.raw).slice(0, 4000), date_entered: change.at,
    }))).onConflict(['sms_id', 'status', 'error_code']).ignore();
    const groups = new Map<string, typeof changes>();
    for (const entry of changes) {
      if (!movesForward(entry.row.status, entry.change.status)) continue;
      const key = JSON.stringify([entry.row.status, entry.change.status, entry.change.providerStatus ?? null, entry.change.at]);
      groups.set(key, [...(groups.get(key) ?? []), entry]);
    }
    for (const group of groups.values()) {
      const { row: { status: before }, change } = group[0];
      const update: Record<string, unknown> = { status: change.status, date_modified: change.at };
      if (change.status === 'sent' || change.status === 'delivered') update.date_sent = trx.raw('COALESCE(date_sent, ?)', [change.at]);
      if (change.status === 'delivered') update.date_delivered = change.at;
      const moved = await trx('sms').whereIn('id', group.map(({ row }) => row.id)).andWhere('status', before).update(update);
      // The caller holds these rows (it has just written them in this transaction), so a row that
      // moved means something is wrong: fail, and the caller stores them one by one with advance().
      if (moved !== group.length) throw new Error(`advanceMany: ${group.length - moved} of ${group.length} messages were no longer '${before}'`);
      for (const { row } of group) await this.onChange?.(trx, row.id, before, change);
    }
  }

  /** Callbacks that arrived before the SID was stored wait under the SID; apply them now. */
  async applyEarlyCallbacks(trx: Knex, smsId: string, sid: string, at: string): Promise<void> {
    const early = await trx('sms_status_events').where('sms_id', sid).orderBy('date_entered');
    if (!early.length) return;
    await trx('sms_status_events').where('sms_id', sid).delete();
    for (const event of early) {
      const row = await trx('sms').where('id', smsId).first('id', 'status');
      await this.advance(trx, row, { status: event.status, providerStatus: event.provider_status ?? undefined, errorCode: event.error_code || undefined, source: 'callback', at, raw: event.raw ? JSON.parse(event.raw) : undefined });
    }
  }

  /** Keeps a callback for a SID not stored yet (the provider can call back before its create answer is processed). */
  async park(trx: Knex, sid: string, change: StatusChange): Promise<void> {
    await this.recordEvent(trx, sid, change);
  }
}
