import { pluginDirs } from '../../core/app/plugins';
import { SYSTEM } from '../../core/records/actor';
import { verifyActivityChain } from '../../modules/ActivityLog/verify-chain';
import { describeEachServer, type TestServer } from '../helpers/crm';
import { pluginDir } from '../helpers/plugins';
import { session } from '../helpers/ui-session';

const forger = pluginDir([{
  manifest: { id: 'test.forger', hooks: [{ module: 'Opportunities', event: 'before_save', handler: 'forge' }], permissions: ['write:ActivityLog', 'read:ActivityLog'] },
  code: `definePlugin({ hooks: {
    async forge(ctx) { await ctx.crm.records.create('ActivityLog', { action: 'create', name: 'forged', prev_hash: 'genesis', hash: 'x' }); },
  } });`,
}]);

/** Waits until every plugin event is delivered (the background workers run too); gives up only when delivery stops moving for a minute. */
async function settled(server: TestServer) {
  const { crm } = server;
  let left = Infinity;
  let lastProgress = Date.now();
  while (Date.now() - lastProgress < 60_000) {
    await crm.plugins!.drain();
    const now = Number((await crm.engine.db.knex('cane_plugin_events').count({ n: '*' }).first())?.n);
    if (now === 0) return;
    if (now < left) { left = now; lastProgress = Date.now(); }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`plugin events were not delivered: ${left} left`);
}

describeEachServer('the audit trail under ordinary use', (get) => {
  const changes = { count: 0 };
  beforeAll(() => get().crm.plugins!.startDelivery(20, 4));

  it('records every change of 8 parallel clients making 500 mixed saves, deletes and links, with no fault', async () => {
    const server = get();
    const tokens = await Promise.all(Array.from({ length: 8 }, () => server.login('admin', 'secret-admin')));
    changes.count += 8; // each login is an entry
    const ok = (status: number) => { if (status === 200) changes.count++; return status; };
    const statuses: number[] = [];
    await Promise.all(tokens.map(async (token, client) => {
      const accounts: string[] = [];
      const contacts: string[] = [];
      for (let i = 0; i < 63; i++) {
        const op = i % 7;
        if (op === 0 || op === 3 || !accounts.length) {
          const res = await server.call('POST', '/rest/v10/Accounts', { token, body: { name: `client ${client} account ${i}` } });
          statuses.push(ok(res.status));
          accounts.push(res.body.id);
        } else if (op === 1) {
          const res = await server.call('POST', '/rest/v10/Contacts', { token, body: { last_name: `client ${client} contact ${i}` } });
          statuses.push(ok(res.status));
          contacts.push(res.body.id);
        } else if (op === 2 || op === 5) {
          statuses.push(ok((await server.call('PUT', `/rest/v10/Accounts/${accounts[accounts.length - 1]}`, { token, body: { description: `edit ${client}.${i}` } })).status));
        } else if (op === 4 && contacts.length) {
          statuses.push(ok((await server.call('POST', `/rest/v10/Accounts/${accounts[accounts.length - 1]}/link/contacts/${contacts.pop()}`, { token })).status));
        } else if (accounts.length > 1) {
          statuses.push(ok((await server.call('DELETE', `/rest/v10/Accounts/${accounts.shift()}`, { token })).status));
        }
      }
    }));
    expect(statuses.length).toBeGreaterThanOrEqual(480);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    await settled(server);
    const { db } = server.crm.engine;
    const entries = Number((await db.knex('cane_activity_log').count({ n: '*' }).first())?.n);
    expect(entries).toBe(changes.count);
    expect(await verifyActivityChain(db)).toEqual({ entries, ok: true });
    const states = await db.knex('cane_plugin_state').where('plugin_id', 'org.cane.audit-log');
    expect(states.filter((s: { total_faults: number; enabled: number }) => Number(s.total_faults) > 0 || Number(s.enabled) === 0)).toEqual([]);
  }, 180_000);

  it('keeps the chain verifiable whatever text users type: lone surrogates, 150 emoji, NUL, combining marks', async () => {
    const server = get();
    const token = await server.login('admin', 'secret-admin');
    const names = ['"sur\\ud800x"', JSON.stringify('😀'.repeat(150)), JSON.stringify('nul\u0000byte'), JSON.stringify('Cafe\u0301 n\u0303o'), '"low \\udc00 high \\ud83d end"'];
    const ids: string[] = [];
    for (const name of names) {
      const res = await server.call('POST', '/rest/v10/Accounts', { token, raw: `{"name":${name}}` });
      expect(res.status).toBe(200);
      ids.push(res.body.id);
      await server.call('PUT', `/rest/v10/Accounts/${res.body.id}`, { token, raw: `{"description":${name}}` });
    }
    expect((await server.crm.records.retrieve(SYSTEM, 'Accounts', ids[0])).name).toBe('sur\ufffdx');
    await settled(server);
    const report = await verifyActivityChain(server.crm.engine.db);
    expect(report.ok).toBe(true);
    const { records } = await server.crm.records.list(SYSTEM, 'ActivityLog', { filter: [{ target_id: { $in: ids } }, { action: 'create' }], maxNum: 20 });
    expect(records.map((r) => r.name).sort()).toEqual(['sur\ufffdx', '😀'.repeat(150), 'nul\u0000byte', 'Cafe\u0301 n\u0303o', 'low \ufffd high \ufffd end'].sort());
  }, 60_000);

  it('refuses forged ActivityLog and CampaignLog writes on every path, admins included', async () => {
    const server = get();
    const { crm } = server;
    const token = await server.login('admin', 'secret-admin');
    await settled(server);
    const entry = (await crm.records.list(SYSTEM, 'ActivityLog', { maxNum: 1 })).records[0];
    const changesOnly = async () => Number((await crm.engine.db.knex('cane_activity_log').whereNot('action', 'login').count({ n: '*' }).first())?.n);
    const before = await changesOnly();

    // REST v10
    const created = await server.call('POST', '/rest/v10/ActivityLog', { token, body: { action: 'create', name: 'forged', prev_hash: 'x', hash: 'y' } });
    expect(created.status).toBe(403);
    expect(created.body.error_message).toMatch(/ActivityLog is append-only/);
    expect((await server.call('PUT', `/rest/v10/ActivityLog/${entry.id}`, { token, body: { name: 'rewritten' } })).status).toBe(403);
    expect((await server.call('DELETE', `/rest/v10/ActivityLog/${entry.id}`, { token })).status).toBe(403);
    expect((await server.call('POST', '/rest/v10/CampaignLog', { token, body: { target_id: 'x', activity_type: 'targeted' } })).status).toBe(403);

    // v4_1
    const login = await server.v4('login', { user_auth: { user_name: 'admin', password: 'secret-admin', encryption: 'PLAIN' }, application_name: 'test' });
    const legacy = await server.v4('set_entry', { session: login.id, module_name: 'ActivityLog', name_value_list: [{ name: 'name', value: 'forged' }, { name: 'action', value: 'create' }] });
    expect(JSON.stringify(legacy)).toMatch(/append-only/);
    const legacyDelete = await server.v4('set_entry', { session: login.id, module_name: 'ActivityLog', name_value_list: [{ name: 'id', value: entry.id }, { name: 'deleted', value: '1' }] });
    expect(JSON.stringify(legacyDelete)).toMatch(/append-only/);

    // UI: no create, edit, mass update or delete offered, and a crafted form is refused
    const ui = session(server.url);
    const csrf = await ui.login('admin', 'secret-admin');
    const list = await ui.request('GET', '/ui/ActivityLog');
    expect(list.status).toBe(200);
    expect(list.text).not.toMatch(/href="[^"]*\/ui\/ActivityLog\/new"/);
    expect(list.text).not.toMatch(/value="delete"|value="massupdate"/);
    const detail = await ui.request('GET', `/ui/ActivityLog/${entry.id}`);
    expect(detail.text).not.toMatch(new RegExp(`/ui/ActivityLog/${entry.id}/edit`));
    const form = await ui.request('POST', '/ui/ActivityLog/new', { csrf, action: 'create', name: 'forged' });
    expect(form.status).not.toBe(302);
    const del = await ui.request('POST', `/ui/ActivityLog/${entry.id}/delete`, { csrf });
    expect(del.status).not.toBe(302);

    // plugins other than the audit-log plugin
    const host = crm.plugins!;
    const outcome = await host.invoke(host.hook('test.forger', 'Opportunities.before_save.forge')!, { record: {} });
    expect(outcome).toMatchObject({ outcome: 'fault' });
    const refused = await crm.engine.db.knex('plugin_audit').where({ plugin_id: 'test.forger', capability: 'records.create' }).first();
    expect(refused.message).toMatch(/ActivityLog is append-only/);

    await settled(server);
    expect(await changesOnly()).toBe(before);
    expect(await crm.engine.db.knex('cane_activity_log').where('name', 'forged')).toEqual([]);
    expect((await crm.records.retrieve(SYSTEM, 'ActivityLog', entry.id)).name).toBe(entry.name);
    expect((await verifyActivityChain(crm.engine.db)).ok).toBe(true);
  }, 60_000);
}, { plugins: { dirs: pluginDirs('/nonexistent').slice(0, 1).concat({ dir: forger, builtIn: false }) } });
