import path from 'node:path';
import { PluginHost } from '../../core/plugins/plugin-host';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { verifyActivityChain } from '../../modules/ActivityLog/verify-chain';
import { admin, describeEachEngine, fixedClock } from '../helpers/engine';
import { describeEachServer } from '../helpers/crm';

const clock = fixedClock('2026-08-01T09:00:00Z');

describeEachEngine('the audit-log plugin', (get) => {
  let host: PluginHost;
  beforeAll(async () => {
    host = new PluginHost(get(), { dirs: [{ dir: path.join(__dirname, '..', '..', 'plugins'), builtIn: true }] }, silentLogger, clock);
    await host.start();
  }, 60_000);
  afterAll(async () => { await host?.close(); });

  const drain = () => host.drain();

  it('keeps a hash-chained trail of creates, updates and deletes', async () => {
    const { records } = get();
    expect(host.loaded.map((p) => p.manifest.id)).toEqual(['org.cane.audit-log', 'org.cane.target-lists', 'org.cane.workflows']);
    const account = await records.create(admin, 'Accounts', { name: 'Chained' });
    clock.advance(60);
    await records.update(admin, 'Accounts', account.id, { name: 'Chained Ltd', industry: 'Media' });
    clock.advance(60);
    await records.delete(admin, 'Accounts', account.id);
    await drain();
    const { records: entries } = await records.list(SYSTEM, 'ActivityLog', { orderBy: [{ field: 'sequence', direction: 'asc' }] });
    expect(entries.map((e) => [e.action, e.target_id, e.name])).toEqual([
      ['create', account.id, 'Chained'],
      ['update', account.id, 'Chained Ltd'],
      ['delete', account.id, 'Chained Ltd'],
    ]);
    expect(JSON.parse(String(entries[1].details))).toEqual({ name: { before: 'Chained', after: 'Chained Ltd' }, industry: { before: null, after: 'Media' } });
    expect(entries[0].prev_hash).toBe('genesis');
    expect(entries[1].prev_hash).toBe(entries[0].hash);
    expect(await verifyActivityChain(get().db)).toEqual({ entries: 3, ok: true });
  }, 30_000);

  it('records relationship changes', async () => {
    const { records } = get();
    const account = await records.create(admin, 'Accounts', { name: 'Linked' });
    const contact = await records.create(admin, 'Contacts', { last_name: 'Member' });
    await records.link(admin, 'Accounts', account.id, 'contacts', contact.id);
    await records.unlink(admin, 'Accounts', account.id, 'contacts', contact.id);
    await drain();
    const { records: entries } = await records.list(SYSTEM, 'ActivityLog', { filter: [{ target_id: account.id }], orderBy: [{ field: 'sequence', direction: 'asc' }] });
    // ordered delivery: the chain follows commit order
    expect(entries.map((e) => e.action)).toEqual(['create', 'link', 'unlink']);
    expect(JSON.parse(String(entries.find((e) => e.action === 'link')!.details))).toEqual({ link: 'contacts', related_module: 'Contacts', related_id: contact.id });
    expect((await verifyActivityChain(get().db)).ok).toBe(true);
  }, 30_000);

  it('detects an edited and a removed entry', async () => {
    const { db } = get();
    const rows = await db.knex('cane_activity_log').orderBy('sequence');
    await db.knex('cane_activity_log').where('id', rows[1].id).update({ details: '{"name":{"before":"x","after":"y"}}' });
    const edited = await verifyActivityChain(db);
    expect(edited).toMatchObject({ ok: false, broken: { sequence: Number(rows[1].sequence), problem: 'content does not match its hash (the entry was edited)' } });
    await db.knex('cane_activity_log').where('id', rows[1].id).update({ details: rows[1].details });
    await db.knex('cane_activity_log').where('id', rows[1].id).delete();
    const removed = await verifyActivityChain(db);
    expect(removed).toMatchObject({ ok: false, broken: { sequence: Number(rows[2].sequence) } });
    expect(removed.broken!.problem).toMatch(/prev_hash does not match/);
  });
}, { clock });

describeEachServer('the audit-log plugin in a running Cane', (get) => {
  it('records logins and exports', async () => {
    const { crm } = get();
    await get().login('admin', 'secret-admin');
    const account = await crm.records.create(SYSTEM, 'Accounts', { name: 'Exported' });
    // export through the UI, as a user does
    const loginPage = await fetch(`${get().url}/ui/login`);
    const csrfCookie = loginPage.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="csrf" value="([^"]+)"/.exec(await loginPage.text())![1];
    const login = await fetch(`${get().url}/ui/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie }, body: new URLSearchParams({ csrf, user_name: 'admin', password: 'secret-admin' }).toString() });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const home = await (await fetch(`${get().url}/ui`, { headers: { cookie } })).text();
    const token = /name="csrf" value="([^"]+)"/.exec(home)![1];
    const csv = await fetch(`${get().url}/ui/Accounts/mass`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: token, action: 'export', ids: account.id }).toString() });
    expect(csv.status).toBe(200);
    await crm.plugins!.drain();
    const { records } = await crm.records.list(SYSTEM, 'ActivityLog', { filter: [{ action: { $in: ['login', 'export'] } }], orderBy: [{ field: 'sequence', direction: 'asc' }] });
    expect(records.map((r) => `${r.action}:${r.actor_id}`).sort()).toEqual(['export:1', 'login:1', 'login:1']);
    expect(JSON.parse(String(records.find((r) => r.action === 'export')!.details))).toEqual({ count: 1, ids: [account.id] });
    expect((await verifyActivityChain(crm.engine.db)).ok).toBe(true);
  }, 30_000);
}, { plugins: {} });
