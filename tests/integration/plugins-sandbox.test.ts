import { PluginHost } from '../../core/plugins/plugin-host';
import { HookVeto, CaneError } from '../../core/errors';
import { SYSTEM } from '../../core/records/actor';
import { silentLogger } from '../../core/logger';
import { admin, describeEachEngine, fixedClock } from '../helpers/engine';
import { pluginDir } from '../helpers/plugins';

const clock = fixedClock('2026-06-01T10:00:00Z');

const adversarial = (handler: string, body: string, extra: Record<string, unknown> = {}) => ({
  manifest: { id: `test.adversary.${handler.toLowerCase()}`, hooks: [{ module: 'Leads', event: 'before_save', handler, onError: 'allow', limits: { timeoutMs: 50, wallMs: 300, cpuMs: 100 } }], permissions: ['read:Leads'], limits: { memoryMb: 16 }, ...extra },
  code: `definePlugin({ hooks: { async ${handler}(ctx) { ${body} } } });`,
});

const dir = pluginDir([
  {
    manifest: { id: 'test.normalise', hooks: [{ module: 'Contacts', event: 'before_save', handler: 'normalise', priority: 10 }], permissions: ['write:Contacts#last_name', 'write:Contacts#title'] },
    code: `definePlugin({ hooks: { normalise(ctx) {
      const r = ctx.event.record;
      if (typeof r.last_name === 'string' && r.last_name !== r.last_name.trim().toUpperCase()) return { patch: { last_name: r.last_name.trim().toUpperCase() } };
    } } });`,
  },
  {
    manifest: { id: 'test.veto', hooks: [{ module: 'Accounts', event: 'before_save', handler: 'check' }] },
    code: `definePlugin({ hooks: { check(ctx) { if (ctx.event.record.industry === 'Other') throw new Veto('Choose a real industry', { field: 'industry' }); } } });`,
  },
  {
    manifest: { id: 'test.followup', hooks: [{ module: 'Opportunities', event: 'after_save', handler: 'followUp' }], permissions: ['read:Opportunities', 'write:Leads', 'log'] },
    code: `definePlugin({ hooks: { async followUp(ctx) {
      if (ctx.event.isUpdate) return;
      ctx.log('creating follow-up lead for', ctx.event.record.name);
      await ctx.crm.records.create('Leads', { last_name: 'Follow-up ' + ctx.event.record.name, opportunity_id: ctx.event.id, status: 'New' });
    } } });`,
  },
  {
    manifest: { id: 'test.greedy', hooks: [{ module: 'Prospects', event: 'before_save', handler: 'grab', onError: 'block' }], permissions: ['read:Prospects'] },
    code: `definePlugin({ hooks: { async grab(ctx) { await ctx.crm.records.find('Users', {}); } } });`,
  },
  {
    manifest: { id: 'test.escalator', hooks: [{ module: 'Campaigns', event: 'before_save', handler: 'patch' }], permissions: ['write:Campaigns#name'] },
    code: `definePlugin({ hooks: { patch() { return { patch: { status: 'Active' } }; } } });`,
  },
  adversarial('spin', 'if (ctx.event.record.last_name === "spin") { for (;;) {} }'),
  adversarial('spinAfterAwait', 'if (ctx.event.record.last_name === "spin-after-await") { await ctx.crm.records.find("Leads", { maxNum: 1 }); for (;;) {} }'),
  adversarial('hang', 'if (ctx.event.record.last_name === "hang") { await new Promise(() => {}); }'),
  // Both build their megabytes in a few large pieces, so the limit under test (memory, result size)
  // trips long before the time limits do, even on a busy machine (limits can only be tightened).
  adversarial('blowUp', 'const a = []; for (let i = 0; ; i++) a.push("x".repeat(2e7) + i);', { hooks: [{ module: 'SMSTemplates', event: 'after_save', handler: 'blowUp' }] }),
  adversarial('huge', 'if (ctx.event.record.last_name === "huge") return { patch: { description: "x".repeat(2e5) } };'),
  adversarial('throwNonError', 'if (ctx.event.record.last_name === "throw") throw { code: 42 };'),
  adversarial('ambient', 'if (ctx.event.record.last_name === "ambient") return { patch: { description: [typeof process, typeof require, typeof fetch, typeof setTimeout].join(",") } };', { permissions: ['write:Leads#description', 'read:Leads'] }),
  adversarial('undeclared', 'if (ctx.event.record.last_name === "undeclared") { await ctx.crm.records.create("Accounts", { name: "smuggled" }); }'),
  adversarial('crash', 'for (;;) {}', { hooks: [{ module: 'SMSTemplates', event: 'after_save', handler: 'crash' }] }),
  { manifest: { id: 'test.broken-syntax', hooks: [] }, code: 'definePlugin({ hooks: {' },
  { manifest: { id: 'test.bad-permission', permissions: ['write:Nowhere'] }, code: 'definePlugin({ hooks: {} });' },
  {
    manifest: { id: 'test.tight-cpu', hooks: [{ module: 'Leads', event: 'before_save', handler: 'busy', limits: { timeoutMs: 50, wallMs: 300, cpuMs: 10 } }], permissions: ['read:Leads'] },
    code: `definePlugin({ hooks: { busy(ctx) { if (ctx.event.record.last_name === 'busy') { const end = Date.now() + 40; while (Date.now() < end) {} } } } });`,
  },
  {
    manifest: { id: 'test.hash-writer', hooks: [{ module: 'Users', event: 'after_save', handler: 'steal' }], permissions: ['write:Users', 'write:Users#user_hash'] },
    code: `definePlugin({ hooks: { async steal(ctx) { await ctx.crm.records.update('Users', '1', { user_hash: 'x' }); } } });`,
  },
  {
    manifest: { id: 'test.caller', hooks: [{ module: 'Leads', event: 'call', handler: 'peek' }], permissions: ['read:Leads', 'write:Leads'] },
    code: `definePlugin({ hooks: { async peek(ctx) {
      const found = await ctx.crm.records.find('Leads', { maxNum: 1 });
      if (ctx.event.write) await ctx.crm.records.create('Leads', { last_name: 'from a dry run' });
      return { seen: found.length, asked: ctx.event.call };
    } } });`,
  },
  { manifest: { id: 'test.no-handler', hooks: [{ module: 'Accounts', event: 'after_save', handler: 'missing' }] }, code: 'definePlugin({ hooks: { present() {} } });' },
  {
    manifest: { id: 'test.after-veto', hooks: [{ module: 'Campaigns', event: 'after_save', handler: 'late' }] },
    code: `definePlugin({ hooks: { late() { throw new Veto('too late'); } } });`,
  },
  {
    manifest: { id: 'test.fail-closed', hooks: [{ module: 'ProspectLists', event: 'before_save', handler: 'check', onError: 'block' }] },
    code: `definePlugin({ hooks: { check(ctx) { if (ctx.event.record.name === 'broken') throw new Error('validator down'); } } });`,
  },
]);

describeEachEngine('sandboxed plugins', (get) => {
  let host: PluginHost;
  beforeAll(async () => {
    host = new PluginHost(get(), { dirs: [{ dir, builtIn: false }], maxConsecutiveFaults: 50 }, silentLogger, clock);
    await host.start();
  }, 60_000);
  afterAll(async () => { await host?.close(); });

  it('refuses broken plugins at load, naming them, and starts without them', () => {
    const refused = Object.fromEntries(host.refused.map((r) => [r.id, r.problem]));
    expect(refused['test.broken-syntax']).toMatch(/^the entry file does not run: SyntaxError/);
    expect(refused['test.bad-permission']).toBe("permission 'write:Nowhere' names an unknown module 'Nowhere'");
    expect(refused['test.no-handler']).toBe("the manifest names handler 'missing', which the entry file does not define in definePlugin({ hooks })");
    expect(host.loaded.map((p) => p.manifest.id)).toContain('test.normalise');
  });

  it('applies a before_save patch', async () => {
    const c = await get().records.create(admin, 'Contacts', { first_name: 'Ada', last_name: '  lovelace ' });
    expect(c.last_name).toBe('LOVELACE');
  });

  it('turns a veto into a 422 naming the field', async () => {
    const err = await get().records.create(admin, 'Accounts', { name: 'Vetoed', industry: 'Other' }).catch((e) => e);
    expect(err).toBeInstanceOf(HookVeto);
    expect(err).toMatchObject({ status: 422, field: 'industry', message: 'Choose a real industry' });
    expect(await get().records.count(admin, 'Accounts', { filter: [{ name: 'Vetoed' }] })).toBe(0);
  });

  it('refuses a patch outside the write permissions', async () => {
    const c = await get().records.create(admin, 'Campaigns', { name: 'Quiet', status: 'Planning', campaign_type: 'SMS', end_date: '2026-12-31' });
    expect(c.status).toBe('Planning');
    const audit = await get().db.knex('plugin_audit').where({ plugin_id: 'test.escalator', outcome: 'fault' }).first();
    expect(audit.message).toContain("permission 'write:Campaigns' (or write:Campaigns#status)");
  });

  it('delivers after_save after commit, once, even when the delivery is attempted twice', async () => {
    const { records, db } = get();
    const opp = await records.create(admin, 'Opportunities', { name: 'Queued', amount: 1, date_closed: '2026-07-01', sales_stage: 'Prospecting' });
    const row = await db.knex('cane_plugin_events').where({ plugin_id: 'test.followup' }).first();
    expect(JSON.parse(row.payload)).toMatchObject({ id: opp.id, event: 'after_save', eventId: row.event_id });
    // an attempt that acted but was never acknowledged, as after a crash between the effect and the ack
    expect(await host.deliver({ id: row.id, eventId: row.event_id, pluginId: row.plugin_id, hook: row.hook, lane: null, laneSeq: null, payload: JSON.parse(row.payload), attempts: 1 })).toEqual({ status: 'delivered' });
    await host.drain();
    expect(await db.knex('cane_plugin_events').where({ plugin_id: 'test.followup' })).toHaveLength(0);
    const leads = await records.list(SYSTEM, 'Leads', { filter: [{ opportunity_id: opp.id }] });
    expect(leads.records.map((l) => l.last_name)).toEqual(['Follow-up Queued']);
    expect(await db.knex('plugin_audit').where({ plugin_id: 'test.followup', capability: 'records.create', outcome: 'ok' })).toHaveLength(2);
  });

  it('writes no delivery when the save rolls back', async () => {
    const { records, db } = get();
    const before = await db.knex('cane_plugin_events').count({ n: '*' }).first();
    await records.create(admin, 'Opportunities', { name: 'x'.repeat(60), amount: 1, date_closed: '2026-07-01', sales_stage: 'Prospecting' }).catch(() => undefined);
    expect((await db.knex('cane_plugin_events').count({ n: '*' }).first())?.n).toEqual(before?.n);
  });

  it('blocks the save when a block-on-error plugin calls a capability it lacks', async () => {
    const err = await get().records.create(admin, 'Prospects', { last_name: 'Blocked' }).catch((e) => e);
    expect(err).toBeInstanceOf(CaneError);
    expect(err).toMatchObject({ code: 'plugin_unavailable', status: 503 });
    const denied = await get().db.knex('plugin_audit').where({ plugin_id: 'test.greedy', capability: 'records.find', outcome: 'denied' }).first();
    expect(denied.message).toBe("permission 'read:Users' is not in the manifest of test.greedy");
  });

  const adversaries: Array<[string, RegExp]> = [
    ['huge', /exceeds the 65536-byte limit|memory limit/],
    ['throw', /the plugin threw a non-Error value: \{"code":42\}/],
    ['spin', /timeout of 50 ms exceeded|CPU time limit/],
    ['spin-after-await', /CPU time limit of 50 ms exceeded|wall-clock deadline/],
    ['hang', /wall-clock deadline of 250 ms exceeded/],
    ['busy', /CPU time limit of 10 ms exceeded/],
    ['undeclared', /permission 'write:Accounts'/],
  ];
  for (const [name, error] of adversaries) {
    it(`survives a plugin that does "${name}" and records the fault`, async () => {
      const lead = await get().records.create(admin, 'Leads', { last_name: name });
      expect(lead.last_name).toBe(name);
      const faults = await get().db.knex('plugin_audit').where({ outcome: 'fault' }).orWhere({ outcome: 'denied' }).orderBy('date_entered');
      expect(faults.map((f) => f.message).join('\n')).toMatch(error);
      expect((await get().records.create(admin, 'Accounts', { name: `still answering after ${name}` })).id).toBeTruthy();
    }, 30_000);
  }

  it('stops a heap blow-up at the memory limit and keeps answering', async () => {
    const outcome = await host.invoke(host.hook('test.adversary.blowup', 'SMSTemplates.after_save.blowUp')!, { record: {} });
    expect(outcome).toMatchObject({ outcome: 'fault', error: 'memory limit of 16 MB exceeded' });
    expect((await get().records.create(admin, 'Contacts', { last_name: 'after heap' })).last_name).toBe('AFTER HEAP');
  }, 30_000);

  it('offers no ambient Node APIs inside the isolate', async () => {
    const lead = await get().records.create(admin, 'Leads', { last_name: 'ambient' });
    expect(lead.description).toBe('undefined,undefined,undefined,undefined');
  });

  it('survives a crash of the runner process: the call in flight is a fault and the next call works', async () => {
    const pid = host.runner.pid!;
    const hook = host.hook('test.adversary.crash', 'SMSTemplates.after_save.crash')!;
    const running = host.invoke(hook, { record: {} });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    const outcome = await running;
    expect(outcome).toMatchObject({ outcome: 'fault' });
    expect((outcome as { error: string }).error).toMatch(/the plugin runner stopped \(SIGKILL\) during the call/);
    const next = await get().records.create(admin, 'Contacts', { last_name: 'after crash' });
    expect(next.last_name).toBe('AFTER CRASH');
    expect(host.runner.pid).not.toBe(pid);
  }, 30_000);

  it('lets Cane call a handler a plugin offers, read-only: reads work, writes are refused', async () => {
    expect(await host.callPlugin('test.caller', 'peek', {})).toEqual({ ok: true, value: { seen: 1, asked: 'peek' } });
    const refused = await host.callPlugin('test.caller', 'peek', { write: true });
    expect(refused).toEqual({ ok: false, error: 'Error: records.create is not allowed in a read-only call (a dry run changes nothing)' });
    expect((await get().records.list(SYSTEM, 'Leads', { filter: [{ last_name: 'from a dry run' }] })).records).toEqual([]);
  });

  it('lets no plugin write a sensitive field, whatever its permissions', async () => {
    const outcome = await host.invoke(host.hook('test.hash-writer', 'Users.after_save.steal')!, { record: {} });
    expect(outcome).toMatchObject({ outcome: 'fault' });
    const denied = await get().db.knex('plugin_audit').where({ plugin_id: 'test.hash-writer', outcome: 'denied' }).first();
    expect(denied.message).toBe('Users.user_hash is sensitive: no plugin may write it, whatever its permissions');
  });

  it('counts a Veto in an after-event as a fault of the plugin, not a delivery', async () => {
    await get().records.create(admin, 'Campaigns', { name: 'Vetoed too late', status: 'Planning', campaign_type: 'SMS', end_date: '2026-12-31' });
    await host.drain();
    const row = await get().db.knex('cane_plugin_events').where({ plugin_id: 'test.after-veto' }).first();
    expect(row.last_error).toMatch(/^plugin: Veto is not possible in after_save \(the change is already committed\): too late/);
    expect(await get().db.knex('cane_plugin_events').where({ plugin_id: 'test.after-veto' })).toHaveLength(2); // kept: the escalator's campaign and this one
    expect((await host.state.get('test.after-veto', 'Campaigns.after_save.late')).consecutiveFaults).toBeGreaterThanOrEqual(1);
  });

  it('never switches off a fail-closed before_save hook: saves keep failing instead of passing unchecked', async () => {
    const previous = host.maxFaults;
    host.maxFaults = 2;
    try {
      for (let i = 0; i < 4; i++) {
        const err = await get().records.create(admin, 'ProspectLists', { name: 'broken', list_type: 'default' }).catch((e) => e);
        expect(err).toMatchObject({ code: 'plugin_unavailable', status: 503 });
      }
      host.state.forget();
      expect(await host.state.get('test.fail-closed', 'ProspectLists.before_save.check')).toMatchObject({ enabled: true, consecutiveFaults: 4 });
    } finally {
      host.maxFaults = previous;
    }
  });

  it('switches a hook off after repeated faults and says why', async () => {
    host.maxFaults = 2;
    const hook = host.hook('test.adversary.thrownonerror', 'Leads.before_save.throwNonError')!;
    for (let i = 0; i < 2; i++) await host.invoke(hook, { record: { last_name: 'throw' } });
    const description = await host.describe();
    const state = description.loaded.find((p) => p.id === 'test.adversary.thrownonerror')!.hooks[0];
    expect(state).toMatchObject({ enabled: false });
    expect(state.lastError).toMatch(/non-Error value/);
    // switched off: a save no longer calls it
    const before = (await get().db.knex('plugin_audit').where({ plugin_id: 'test.adversary.thrownonerror' })).length;
    await get().records.create(admin, 'Leads', { last_name: 'throw' });
    expect((await get().db.knex('plugin_audit').where({ plugin_id: 'test.adversary.thrownonerror' })).length).toBe(before);
    await host.setEnabled('test.adversary.thrownonerror', 'Leads.before_save.throwNonError', true);
    host.maxFaults = 50;
  });
}, { clock });
