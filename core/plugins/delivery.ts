import crypto from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import type { Logger } from '../records/context';
import { formatDateTime, type Clock } from '../records/time';

/**
 * Delivery of after-events (saves, deletes, relationship changes, logins, exports, schedule
 * firings) to the plugins subscribed to them.
 *
 * Why nothing is lost: a change writes one row per subscribed hook into cane_plugin_events inside
 * its own transaction, so a committed change always has its deliveries and a rolled-back one has
 * none. A row is deleted only after its hook answered without fault; a fault, a crash or a lost
 * lease leaves it in place to be tried again. So every event reaches every subscribed hook at least
 * once; the event id (the same on every attempt) lets a plugin make its effect idempotent.
 *
 * Why ordered lanes are in commit order: an ordered hook's row takes the next position of its
 * plugin's lane by incrementing cane_plugin_lanes.last_seq in the same transaction. That update
 * holds the lane row's lock until commit, so positions are handed out in commit order and a
 * position is visible only with its row. One worker at a time holds a lane (a lease on the lane
 * row, taken by compare-and-set), and it delivers positions one by one; a fault stops the lane
 * until the row's retry time, so no later event overtakes an earlier one.
 */

/** A stored delivery: one event for one hook. */
export interface Delivery {
  id: string;
  eventId: string;
  pluginId: string;
  hook: string;
  lane: string | null;
  laneSeq: number | null;
  payload: Record<string, unknown>;
  attempts: number;
}

/** What became of one delivery attempt. */
export type DeliveryResult =
  | { status: 'delivered' }
  /** The hook is not loaded here or is switched off: the delivery waits, no attempt is counted. */
  | { status: 'paused'; reason: string }
  /** `blame` says whose fault it was; only the plugin's own faults count toward switching it off. */
  | { status: 'failed'; blame: 'plugin' | 'host'; error: string };

/** The plugin host's side: runs one delivery and says whether this process can run a plugin's hooks. */
export interface DeliveryTarget {
  deliver(delivery: Delivery): Promise<DeliveryResult>;
  /** Plugins loaded and enabled in this process (others' deliveries are left to other processes). */
  activePluginIds(): string[];
  /** Plugins whose lane this process can work on. */
  orderedPluginIds(): string[];
}

export interface NewDelivery {
  pluginId: string;
  hook: string;
  ordered: boolean;
  payload: Record<string, unknown>;
}

export interface DeliveryOptions {
  /** Seconds a worker holds a claimed delivery or lane before others may take it over (default 30). */
  leaseSeconds?: number;
  /** Identifies this worker in claimed_by and the lanes' owner. */
  worker?: string;
}

/** Seconds before the next attempt: the host's faults are retried soon, the plugin's back off longer. */
export function retryDelaySeconds(blame: 'plugin' | 'host', attempts: number): number {
  const n = Math.max(0, attempts - 1);
  return blame === 'host' ? Math.min(2 ** n, 60) : Math.min(5 * 2 ** n, 600);
}

export class EventDelivery {
  readonly worker: string;
  private readonly leaseSeconds: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private polling: Promise<unknown> | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private readonly busyLanes = new Set<string>();

  constructor(private readonly db: Database, private readonly target: DeliveryTarget, private readonly log: Logger, private readonly clock: Clock, options: DeliveryOptions = {}) {
    this.leaseSeconds = options.leaseSeconds ?? 30;
    this.worker = options.worker ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`.slice(0, 100);
  }

  private now(offsetSeconds = 0): string {
    return formatDateTime(new Date(this.clock().getTime() + offsetSeconds * 1000));
  }

  // ---------------------------------------------------------------- writing (inside the change's transaction)

  /** Writes the deliveries of one event in the caller's transaction; ordered ones take their lane position here. */
  async enqueue(trx: Knex, eventId: string, deliveries: NewDelivery[]): Promise<void> {
    if (!deliveries.length) return;
    const now = this.now();
    const rows = [];
    for (const d of deliveries) {
      const seq = d.ordered ? await this.nextPosition(trx, d.pluginId) : null;
      rows.push({
        id: crypto.randomUUID(), event_id: eventId, plugin_id: d.pluginId, hook: d.hook, lane: d.ordered ? d.pluginId : null, lane_seq: seq,
        payload: JSON.stringify({ ...d.payload, eventId }), attempts: 0, available_at: now, date_entered: now,
      });
    }
    await trx('cane_plugin_events').insert(rows);
  }

  /** Writes one delivery outside any change (schedule firings); the same event id for the same hook is written once. */
  async enqueueOnce(eventId: string, delivery: NewDelivery): Promise<boolean> {
    try {
      await this.db.knex.transaction((trx) => this.enqueue(trx, eventId, [delivery]));
      return true;
    } catch (err) {
      if (this.db.dialect.isDuplicateKey(err)) return false;
      throw err;
    }
  }

  private async nextPosition(trx: Knex, lane: string): Promise<number> {
    // The increment locks the lane row until commit: that is what puts positions in commit order.
    let updated = await trx('cane_plugin_lanes').where('lane', lane).increment('last_seq', 1);
    if (!updated) {
      try {
        await trx('cane_plugin_lanes').insert({ lane, last_seq: 0, delivered_seq: 0, date_modified: this.now() });
      } catch (err) {
        if (!this.db.dialect.isDuplicateKey(err)) throw err;
      }
      updated = await trx('cane_plugin_lanes').where('lane', lane).increment('last_seq', 1);
    }
    const row = await trx('cane_plugin_lanes').where('lane', lane).first('last_seq');
    return Number(row.last_seq);
  }

  /** Creates the lane rows of ordered plugins ahead of time, so saves only ever update them. */
  async ensureLanes(pluginIds: string[]): Promise<void> {
    for (const lane of pluginIds) {
      await this.db.knex('cane_plugin_lanes').insert({ lane, last_seq: 0, delivered_seq: 0, date_modified: this.now() }).onConflict('lane').ignore();
    }
  }

  // ---------------------------------------------------------------- working

  /** Attempts what is due once: a batch of unordered deliveries and every free lane. Returns how many attempts were made. */
  async runOnce(limit = 50): Promise<number> {
    const claimed = await this.claimUnordered(limit);
    await Promise.all(claimed.map((d) => this.attempt(d)));
    let attempts = claimed.length;
    for (const lane of this.target.orderedPluginIds()) attempts += await this.runLane(lane);
    return attempts;
  }

  /** Attempts until nothing due is left (a failed delivery waits for its retry time); gives up after `maxRounds`. */
  async drain(maxRounds = 1000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      const n = await this.runOnce();
      total += n;
      if (!n) break;
    }
    return total;
  }

  /** Polls until stop(): unordered deliveries with up to `concurrency` in flight, each lane on its own. */
  start(pollMs = 200, concurrency = 4): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      if (this.stopped) return;
      this.polling = this.poll(concurrency)
        .catch((err) => this.log.error({ err }, 'plugin event delivery poll failed'))
        .then((busy) => {
          this.polling = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, busy ? 0 : pollMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  private async poll(concurrency: number): Promise<boolean> {
    let busy = false;
    const free = concurrency - this.running.size;
    if (free > 0) {
      const claimed = await this.claimUnordered(free);
      busy = claimed.length === free;
      for (const d of claimed) this.track(this.attempt(d));
    }
    for (const lane of this.target.orderedPluginIds()) {
      if (this.busyLanes.has(lane) || this.stopped) continue;
      this.track(this.runLane(lane));
    }
    return busy;
  }

  private track(work: Promise<unknown>) {
    const p = work.catch((err) => this.log.error({ err }, 'plugin event delivery failed')).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await Promise.allSettled([...this.running]);
  }

  // ---------------------------------------------------------------- unordered

  private async claimUnordered(limit: number): Promise<Delivery[]> {
    const plugins = this.target.activePluginIds();
    if (!plugins.length || limit <= 0) return [];
    const { knex, dialect } = this.db;
    const now = this.now();
    const claimed: Delivery[] = [];
    const claim = async (trx: Knex) => {
      const rows = await trx('cane_plugin_events as e')
        .select('e.*')
        .whereNull('e.lane')
        .whereIn('e.plugin_id', plugins)
        .where('e.available_at', '<=', now)
        .where((q) => q.whereNull('e.claimed_by').orWhere('e.lease_until', '<', now))
        .whereNotExists((q) => q.select(trx.raw('1')).from('cane_plugin_state as s')
          .whereRaw('s.plugin_id = e.plugin_id').where((h) => h.where('s.hook', '*').orWhereRaw('s.hook = e.hook')).where('s.enabled', 0))
        .orderBy([{ column: 'e.available_at' }, { column: 'e.date_entered' }])
        .limit(limit)
        .modify((q) => { if (dialect.skipLocked) q.forUpdate().skipLocked(); });
      for (const row of rows) {
        // Compare-and-set: of two workers that read the same row, one takes it.
        const taken = await trx('cane_plugin_events').where('id', row.id)
          .where((q) => q.whereNull('claimed_by').orWhere('lease_until', '<', now))
          .update({ claimed_by: this.worker, lease_until: this.now(this.leaseSeconds), attempts: Number(row.attempts) + 1 });
        if (taken === 1) claimed.push(toDelivery({ ...row, attempts: Number(row.attempts) + 1 }));
      }
    };
    // MySQL skips rows other workers locked; SQLite has one writer, and a read transaction that
    // later writes would fail at once when another connection wrote in between, so it claims row by row.
    if (dialect.skipLocked) await knex.transaction(claim);
    else await claim(knex);
    return claimed;
  }

  /** One attempt at a claimed unordered delivery; true when delivered. */
  private async attempt(d: Delivery): Promise<boolean> {
    const mine = { id: d.id, claimed_by: this.worker };
    // A scheduled hook may run longer than the lease: keep the claim alive so no other worker starts it too.
    const heartbeat = setInterval(() => {
      this.db.knex('cane_plugin_events').where(mine).update({ lease_until: this.now(this.leaseSeconds) }).catch(() => undefined);
    }, Math.max(1000, (this.leaseSeconds * 1000) / 3));
    let result: DeliveryResult;
    try {
      result = await this.target.deliver(d);
    } finally {
      clearInterval(heartbeat);
    }
    if (result.status === 'delivered') {
      await this.db.knex.transaction(async (trx) => {
        await trx('cane_plugin_events').where(mine).delete();
        await forgetEffects(trx, d.id);
      });
      return true;
    }
    await this.db.knex('cane_plugin_events').where(mine).update(this.retryValues(d, result));
    return false;
  }

  private retryValues(d: Delivery, result: Exclude<DeliveryResult, { status: 'delivered' }>) {
    if (result.status === 'paused') return { claimed_by: null, lease_until: null, attempts: Math.max(0, d.attempts - 1) };
    return { claimed_by: null, lease_until: null, available_at: this.now(retryDelaySeconds(result.blame, d.attempts)), last_error: `${result.blame === 'host' ? 'host' : 'plugin'}: ${result.error}`.slice(0, 4000) };
  }

  // ---------------------------------------------------------------- ordered lanes

  /** Takes the lane if it has work and nobody holds it, then delivers its positions in order; answers the attempts made. */
  async runLane(lane: string): Promise<number> {
    if (this.busyLanes.has(lane)) return 0;
    this.busyLanes.add(lane);
    try {
      return await this.workLane(lane);
    } finally {
      this.busyLanes.delete(lane);
    }
  }

  private async workLane(lane: string): Promise<number> {
    const { knex } = this.db;
    const now = this.now();
    const taken = await knex('cane_plugin_lanes').where('lane', lane).whereRaw('delivered_seq < last_seq')
      .where((q) => q.whereNull('owner').orWhere('lease_until', '<', now))
      .update({ owner: this.worker, lease_until: this.now(this.leaseSeconds), date_modified: now });
    if (taken !== 1) return 0;
    const mine = { lane, owner: this.worker };
    const release = () => knex('cane_plugin_lanes').where(mine).update({ owner: null, lease_until: null });
    const heartbeat = setInterval(() => {
      knex('cane_plugin_lanes').where(mine).update({ lease_until: this.now(this.leaseSeconds) }).catch(() => undefined);
    }, Math.max(1000, (this.leaseSeconds * 1000) / 3));
    let attempts = 0; // delivered ones and the failed one that stops the lane
    try {
      while (!this.stopped) {
        const state = await knex('cane_plugin_lanes').where(mine).first();
        if (!state) return attempts; // another worker took the lane over
        const position = Number(state.delivered_seq) + 1;
        if (position > Number(state.last_seq)) break;
        const row = await knex('cane_plugin_events').where({ lane, lane_seq: position }).first();
        if (!row) {
          // Removed with its plugin's events (uninstall) : nothing to deliver at this position.
          await knex('cane_plugin_lanes').where(mine).update({ delivered_seq: position });
          continue;
        }
        if (String(row.available_at) > this.now()) break;
        const d = toDelivery({ ...row, attempts: Number(row.attempts) + 1 });
        await knex('cane_plugin_events').where('id', d.id).update({ attempts: d.attempts, claimed_by: this.worker, lease_until: this.now(this.leaseSeconds) });
        const result = await this.target.deliver(d);
        if (result.status !== 'delivered') {
          await knex('cane_plugin_events').where('id', d.id).update(this.retryValues(d, result));
          if (result.status === 'failed') attempts++;
          break;
        }
        const acked = await knex.transaction(async (trx) => {
          const moved = await trx('cane_plugin_lanes').where({ ...mine, delivered_seq: position - 1 }).update({ delivered_seq: position, lease_until: this.now(this.leaseSeconds), date_modified: this.now() });
          if (moved !== 1) return false;
          await trx('cane_plugin_events').where('id', d.id).delete();
          await forgetEffects(trx, d.id);
          return true;
        });
        if (!acked) return attempts;
        attempts++;
      }
      await release();
      return attempts;
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
  }

  // ---------------------------------------------------------------- reading

  /** Undelivered events per plugin: how many, how many are waiting for a retry, the oldest, and the last error. */
  async backlog(): Promise<Map<string, { pending: number; retrying: number; oldest: string | null; lastError: string | null }>> {
    const rows = await this.db.knex('cane_plugin_events').select('plugin_id')
      .count({ pending: '*' })
      .sum({ retrying: this.db.knex.raw('CASE WHEN attempts > 0 THEN 1 ELSE 0 END') })
      .min({ oldest: 'date_entered' })
      .max({ lastError: 'last_error' })
      .groupBy('plugin_id');
    return new Map(rows.map((r: Record<string, unknown>) => [String(r.plugin_id), {
      pending: Number(r.pending), retrying: Number(r.retrying ?? 0), oldest: r.oldest ? String(r.oldest) : null, lastError: r.lastError ? String(r.lastError) : null,
    }]));
  }

  /** Drops every undelivered event of a plugin (uninstall). */
  async discard(pluginId: string): Promise<number> {
    return this.db.knex.transaction(async (trx) => {
      const ids: string[] = (await trx('cane_plugin_events').where('plugin_id', pluginId).select('id')).map((r: { id: string }) => r.id);
      for (const id of ids) await forgetEffects(trx, id);
      const n = await trx('cane_plugin_events').where('plugin_id', pluginId).delete();
      await trx('cane_plugin_lanes').where('lane', pluginId).delete();
      return n;
    });
  }
}

/** Side-effect results remembered for a delivery are only needed until it is acknowledged. */
async function forgetEffects(trx: Knex, deliveryId: string): Promise<void> {
  await trx('cane_plugin_effects').where('id', 'like', `${deliveryId}:%`).delete();
}

function toDelivery(row: Record<string, unknown>): Delivery {
  let payload: Record<string, unknown> = {};
  try { payload = JSON.parse(String(row.payload ?? '{}')); } catch { /* an unreadable payload reaches the plugin as {} */ }
  return {
    id: String(row.id), eventId: String(row.event_id), pluginId: String(row.plugin_id), hook: String(row.hook),
    lane: (row.lane as string) ?? null, laneSeq: row.lane_seq === null || row.lane_seq === undefined ? null : Number(row.lane_seq),
    payload, attempts: Number(row.attempts ?? 0),
  };
}
