import { PluginHost } from '../../core/plugins/plugin-host';
import type { Delivery } from '../../core/plugins/delivery';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { createEngine, type Engine } from '../../core/app/engine';
import { admin, fixedClock } from '../helpers/engine';
import { describeEachKind } from '../helpers/databases';
import { pluginDir } from '../helpers/plugins';

const clock = fixedClock('2026-09-01T08:00:00Z');

/** Each delivery a host makes, in the order they start and end, across the hosts of one test. */
function recordDeliveries(hosts: PluginHost[]) {
  const log: Array<{ host: number; phase: 'start' | 'end'; delivery: Delivery }> = [];
  hosts.forEach((host, i) => {
    const deliver = host.deliver.bind(host);
    host.deliver = async (d) => {
      log.push({ host: i, phase: 'start', delivery: d });
      try {
        return await deliver(d);
      } finally {
        log.push({ host: i, phase: 'end', delivery: d });
      }
    };
  });
  return log;
}

const dir = pluginDir([
  {
    // Ordered: appends to its own tally in commit order, idempotent by event id.
    manifest: { id: 'test.tally', hooks: [{ module: 'Accounts', event: 'after_save', handler: 'count', delivery: 'ordered' }], permissions: ['read:Leads', 'write:Leads'] },
    code: `definePlugin({ hooks: { async count(ctx) {
      const seen = await ctx.crm.records.find('Leads', { filter: [{ lead_source_description: ctx.event.eventId }], maxNum: 1 });
      if (seen.length) return;
      await ctx.crm.records.create('Leads', { last_name: 'tally ' + ctx.event.record.name, lead_source_description: ctx.event.eventId });
    } } });`,
  },
  {
    // Unordered, faults on demand: a name starting with 'fail' throws, one starting with 'host' writes to a table the test hides.
    manifest: { id: 'test.flaky', hooks: [{ module: 'Contacts', event: 'after_save', handler: 'react' }], permissions: ['write:Prospects'] },
    code: `definePlugin({ hooks: { async react(ctx) {
      const name = String(ctx.event.record.last_name);
      if (name.startsWith('fail')) throw new Error('flaky plugin failed on ' + name);
      await ctx.crm.records.create('Prospects', { last_name: 'seen ' + name });
    } } });`,
  },
]);

// Two engines with a plugin host each on one database stand for two Cane processes (each has its own
// connection pool, runner process and delivery worker); saves go through the first.
describeEachKind('plugin event delivery', async (db, test) => {
  const engines: Engine[] = [
    await createEngine({ database: db, customDir: '/nonexistent', logger: silentLogger, clock }),
    await createEngine({ databaseUrl: test.url, customDir: '/nonexistent', logger: silentLogger, clock, sync: false }),
  ];
  const hosts = engines.map((engine) => new PluginHost(engine, { dirs: [{ dir, builtIn: false }], maxConsecutiveFaults: 3, leaseSeconds: 30 }, silentLogger, clock));
  for (const host of hosts) await host.start();
  return {
    value: { engine: engines[0], hosts },
    stop: async () => {
      for (const host of hosts) await host.close();
      for (const engine of engines) await engine.close();
    },
  };
}, (getAll) => {
  const get = () => getAll().engine;
  let first: PluginHost;
  let second: PluginHost;
  beforeAll(() => {
    [first, second] = getAll().hosts;
  });

  const pending = async (pluginId: string) => Number((await get().db.knex('cane_plugin_events').where('plugin_id', pluginId).count({ n: '*' }).first())?.n);

  it('hands an ordered lane to one worker at a time and delivers it in commit order', async () => {
    const { records } = get();
    const log = recordDeliveries([first, second]);
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      names.push(`ordered ${i}`);
      await records.create(admin, 'Accounts', { name: `ordered ${i}` });
    }
    // both workers compete for the lane
    await Promise.all([first.drain(), second.drain(), first.drain(), second.drain()]);
    expect(await pending('test.tally')).toBe(0);
    const starts = log.filter((e) => e.phase === 'start' && e.delivery.pluginId === 'test.tally');
    expect(starts.map((e) => e.delivery.payload.record && (e.delivery.payload.record as { name: string }).name)).toEqual(names);
    expect(starts.map((e) => e.delivery.laneSeq)).toEqual([...starts.map((e) => e.delivery.laneSeq)].sort((a, b) => a! - b!));
    // never two deliveries of the lane at once
    let inFlight = 0;
    for (const e of log.filter((x) => x.delivery.pluginId === 'test.tally')) {
      inFlight += e.phase === 'start' ? 1 : -1;
      expect(inFlight).toBeLessThanOrEqual(1);
    }
    const tallies = await records.list(SYSTEM, 'Leads', { filter: [{ last_name: { $starts: 'tally ordered' } }], maxNum: 100 });
    expect(tallies.records).toHaveLength(12);
  }, 60_000);

  it('keeps commit order when saves run in parallel', async () => {
    const { records, db } = get();
    await Promise.all(Array.from({ length: 20 }, (_, i) => records.create(admin, 'Accounts', { name: `parallel ${i}` })));
    const rows = await db.knex('cane_plugin_events').where('lane', 'test.tally').orderBy('lane_seq');
    const seqs = rows.map((r: { lane_seq: number }) => Number(r.lane_seq));
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => seqs[0] + i));
    await Promise.all([first.drain(), second.drain()]);
    expect(await pending('test.tally')).toBe(0);
    expect((await records.list(SYSTEM, 'Leads', { filter: [{ last_name: { $starts: 'tally parallel' } }], maxNum: 100 })).records).toHaveLength(20);
  }, 60_000);

  it('redelivers after a crash between the effect and the acknowledgement, and the effect happens once', async () => {
    const { records, db } = get();
    await records.create(admin, 'Accounts', { name: 'crash between' });
    const row = await db.knex('cane_plugin_events').where('lane', 'test.tally').first();
    const delivery: Delivery = { id: row.id, eventId: row.event_id, pluginId: row.plugin_id, hook: row.hook, lane: row.lane, laneSeq: Number(row.lane_seq), payload: JSON.parse(row.payload), attempts: 1 };
    // the worker acts, then dies before the ack: the row and the lane position stay
    expect(await first.deliver(delivery)).toEqual({ status: 'delivered' });
    // a new worker holds the lane and delivers the same event again, with the same event id
    await db.knex('cane_plugin_events').where('id', row.id).update({ claimed_by: null, lease_until: null });
    expect(await second.drain()).toBe(1);
    const tallies = await records.list(SYSTEM, 'Leads', { filter: [{ lead_source_description: row.event_id }] });
    expect(tallies.records.map((l) => l.last_name)).toEqual(['tally crash between']);
    expect(await pending('test.tally')).toBe(0);
  }, 60_000);

  it("counts only the plugin's own faults, retries the host's, and switches off after repeated plugin faults", async () => {
    const { records, db } = get();
    // a host fault: the table the plugin writes to is missing for a moment (a real database error, not the plugin's doing)
    await records.create(admin, 'Contacts', { last_name: 'host trouble' });
    await db.knex.schema.renameTable('prospects', 'prospects_away');
    try {
      expect(await first.drain()).toBe(1);
    } finally {
      await db.knex.schema.renameTable('prospects_away', 'prospects');
    }
    const retrying = await db.knex('cane_plugin_events').where('plugin_id', 'test.flaky').first();
    expect(retrying.last_error).toMatch(/^host: /);
    expect((await first.state.get('test.flaky', 'Contacts.after_save.react')).consecutiveFaults).toBe(0);
    clock.advance(2);
    expect(await second.drain()).toBe(1);
    expect((await records.list(SYSTEM, 'Prospects', { filter: [{ last_name: 'seen host trouble' }] })).records).toHaveLength(1);

    // plugin faults count, back off, and switch the hook off at the third in a row
    for (const name of ['fail 1', 'fail 2', 'fail 3']) await records.create(admin, 'Contacts', { last_name: name });
    await first.drain();
    first.state.forget();
    const state = await first.state.get('test.flaky', 'Contacts.after_save.react');
    expect(state).toMatchObject({ enabled: false, consecutiveFaults: 3 });
    expect(state.lastError).toMatch(/flaky plugin failed on fail/);
    expect(await pending('test.flaky')).toBe(3);
  }, 60_000);

  it('keeps the events of a switched-off plugin and delivers them when it is enabled again', async () => {
    const { records, db } = get();
    await first.setEnabled('test.tally', '*', false);
    second.state.forget();
    for (let i = 0; i < 3; i++) await records.create(admin, 'Accounts', { name: `while off ${i}` });
    await Promise.all([first.drain(), second.drain()]);
    expect(await pending('test.tally')).toBe(3);
    const described = await first.describe();
    expect(described.loaded.find((p) => p.id === 'test.tally')).toMatchObject({ enabled: false, backlog: { pending: 3 } });

    // the faulty hook above, fixed and enabled again: its kept events arrive (the 'fail' ones fail again: they are still its events)
    await db.knex('cane_plugin_events').where('plugin_id', 'test.flaky').update({ payload: db.knex.raw("REPLACE(payload, 'fail ', 'fixed ')") });
    await first.setEnabled('test.flaky', 'Contacts.after_save.react', true);
    await first.setEnabled('test.tally', '*', true);
    second.state.forget();
    clock.advance(3600);
    await Promise.all([first.drain(), second.drain()]);
    expect(await pending('test.tally')).toBe(0);
    expect(await pending('test.flaky')).toBe(0);
    expect((await records.list(SYSTEM, 'Leads', { filter: [{ last_name: { $starts: 'tally while off' } }], orderBy: [{ field: 'last_name', direction: 'asc' }] })).records.map((l) => l.last_name))
      .toEqual(['tally while off 0', 'tally while off 1', 'tally while off 2']);
    expect((await records.list(SYSTEM, 'Prospects', { filter: [{ last_name: { $starts: 'seen fixed' } }] })).records).toHaveLength(3);
  }, 60_000);

  it("drops, with a note, events of a hook the loaded version no longer has, so they never hold the lane", async () => {
    const { db } = get();
    const base = await db.knex('cane_plugin_lanes').where('lane', 'test.tally').first();
    const seq = Number(base.last_seq) + 1;
    await db.knex('cane_plugin_lanes').where('lane', 'test.tally').update({ last_seq: seq });
    await db.knex('cane_plugin_events').insert({ id: 'removed-hook-event', event_id: 'e-removed', plugin_id: 'test.tally', hook: 'Accounts.after_save.removedHandler', lane: 'test.tally', lane_seq: seq, payload: '{}', attempts: 0, available_at: '2000-01-01 00:00:00', date_entered: '2000-01-01 00:00:00' });
    await get().records.create(admin, 'Accounts', { name: 'after the removed hook' });
    await first.drain();
    expect(await pending('test.tally')).toBe(0);
    const note = await db.knex('plugin_audit').where({ plugin_id: 'test.tally', outcome: 'dropped' }).first();
    expect(note.message).toMatch(/event e-removed dropped: test.tally@1.0.0 has no hook Accounts.after_save.removedHandler/);
  }, 60_000);
});
