import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { formatDateTime, type Clock } from '../records/time';

/** How stale the enabled/disabled state may be in one process (a change in another process takes effect within this). */
export const STATE_TTL_MS = 2000;

export interface HookState {
  enabled: boolean;
  consecutiveFaults: number;
  totalFaults: number;
  lastError: string | null;
}

/**
 * Enabled/disabled switches and fault counts of plugins ('*') and their hooks, in
 * cane_plugin_state, shared by every process on the database. Reads are cached for STATE_TTL_MS.
 */
export class PluginState {
  private cache: { at: number; rows: Map<string, Record<string, unknown>> } | undefined;

  constructor(private readonly db: Database, private readonly clock: Clock) {}

  private async rows(): Promise<Map<string, Record<string, unknown>>> {
    if (this.cache && Date.now() - this.cache.at < STATE_TTL_MS) return this.cache.rows;
    const rows = await this.db.knex('cane_plugin_state').select('*');
    this.cache = { at: Date.now(), rows: new Map(rows.map((r: { plugin_id: string; hook: string }) => [`${r.plugin_id}|${r.hook}`, r])) };
    return this.cache.rows;
  }

  forget(): void {
    this.cache = undefined;
  }

  async get(pluginId: string, hook: string): Promise<HookState> {
    const row = (await this.rows()).get(`${pluginId}|${hook}`);
    return {
      enabled: !row || Number(row.enabled) !== 0,
      consecutiveFaults: Number(row?.consecutive_faults ?? 0),
      totalFaults: Number(row?.total_faults ?? 0),
      lastError: (row?.last_error as string | undefined) ?? null,
    };
  }

  async isEnabled(pluginId: string, hook: string): Promise<boolean> {
    if (!(await this.get(pluginId, '*')).enabled) return false;
    return hook === '*' || (await this.get(pluginId, hook)).enabled;
  }

  /** `trx`: the transaction the change belongs to (an admin change bumps the plugin generation in it). */
  async setEnabled(pluginId: string, hook: string, enabled: boolean, trx?: Knex): Promise<void> {
    await this.upsert(pluginId, hook, { enabled: enabled ? 1 : 0, ...(enabled ? { consecutive_faults: 0 } : {}) }, trx);
  }

  /** Counts one of the plugin's own faults (atomically, so parallel faults all count); switches the hook off at `maxFaults` in a row. */
  async recordFault(pluginId: string, hook: string, error: string, maxFaults: number): Promise<{ consecutive: number; disabled: boolean }> {
    const knex = this.db.knex;
    await this.upsert(pluginId, hook, {});
    await knex('cane_plugin_state').where({ plugin_id: pluginId, hook }).update({
      consecutive_faults: knex.raw('consecutive_faults + 1'), total_faults: knex.raw('total_faults + 1'), last_error: error.slice(0, 2000), date_modified: formatDateTime(this.clock()),
    });
    const switched = await knex('cane_plugin_state').where({ plugin_id: pluginId, hook }).where('consecutive_faults', '>=', maxFaults).where('enabled', 1).update({ enabled: 0 });
    const row = await knex('cane_plugin_state').where({ plugin_id: pluginId, hook }).first('consecutive_faults');
    this.forget();
    return { consecutive: Number(row?.consecutive_faults ?? 0), disabled: switched === 1 };
  }

  async resetFaults(pluginId: string, hook: string): Promise<void> {
    if ((await this.get(pluginId, hook)).consecutiveFaults > 0) await this.upsert(pluginId, hook, { consecutive_faults: 0 });
  }

  /** Every state row of a plugin (for descriptions). */
  async all(): Promise<Array<Record<string, unknown>>> {
    return this.db.knex('cane_plugin_state').select('*');
  }

  async remove(pluginId: string, trx?: Knex): Promise<void> {
    await (trx ?? this.db.knex)('cane_plugin_state').where('plugin_id', pluginId).delete();
    this.forget();
  }

  private async upsert(pluginId: string, hook: string, values: Record<string, unknown>, trx?: Knex) {
    this.forget();
    const knex = trx ?? this.db.knex;
    const now = formatDateTime(this.clock());
    const updated = Object.keys(values).length ? await knex('cane_plugin_state').where({ plugin_id: pluginId, hook }).update({ ...values, date_modified: now }) : 0;
    if (updated) return;
    if (!Object.keys(values).length && (await knex('cane_plugin_state').where({ plugin_id: pluginId, hook }).first('id'))) return;
    await knex('cane_plugin_state')
      .insert({ id: crypto.randomUUID(), plugin_id: pluginId, hook, enabled: 1, consecutive_faults: 0, total_faults: 0, ...values, date_modified: now })
      .onConflict(['plugin_id', 'hook']).merge({ ...values, date_modified: now });
  }
}
