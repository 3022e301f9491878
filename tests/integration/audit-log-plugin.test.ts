import path from 'node:path';
import { PluginHost } from '../../core/plugins/plugin-host';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { verifyActivityChain } from '../../modules/ActivityLog/verify-chain';
import { admin, describeEachEngine, fixedClock } from '../helpers/engine';

const clock = fixedClock('2026-08-01T09:00:00Z');

describeEachEngine('the audit-log plugin', (get) => {
  let host: PluginHost;
  beforeAll(async () => {
    host = new PluginHost(get(), { dirs: [{ dir: path.join(__dirname, '..', '..', 'plugins'), builtIn: true }] }, silentLogger, clock);
    await host.start();
  }, 60_000);
  afterAll(async () => { await host?.close(); });

  async function drain() {
    const { jobs } = get();
    while ((await jobs.runOnce(1)) > 0) { /* one at a time keeps the chain ordered */ }
  }

  it('keeps a hash-chained trail of creates, updates and deletes', async () => {
    const { records } = get();
    expect(host.loaded.map((p) => p.manifest.id)).toEqual(['org.cane.audit-log']);
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
