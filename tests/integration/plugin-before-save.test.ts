import { PluginHost } from '../../core/plugins/plugin-host';
import { HookVeto } from '../../core/errors';
import { silentLogger } from '../../core/logger';
import { admin, describeEachEngine } from '../helpers/engine';
import { pluginDir } from '../helpers/plugins';

const dir = pluginDir([
  {
    manifest: { id: 'test.first', hooks: [{ module: 'Contacts', event: 'before_save', handler: 'title', priority: 1 }], permissions: ['write:Contacts#title'] },
    code: `definePlugin({ hooks: { title(ctx) { if (!ctx.event.record.title) return { patch: { title: 'Customer' } }; } } });`,
  },
  {
    // sees the first plugin's patch
    manifest: { id: 'test.second', hooks: [{ module: 'Contacts', event: 'before_save', handler: 'department', priority: 2 }], permissions: ['write:Contacts#department'] },
    code: `definePlugin({ hooks: { department(ctx) { return { patch: { department: 'Dept of ' + ctx.event.record.title } }; } } });`,
  },
  {
    manifest: { id: 'test.third', hooks: [{ module: 'Contacts', event: 'before_save', handler: 'guard', priority: 3 }] },
    code: `definePlugin({ hooks: { guard(ctx) { if (ctx.event.record.last_name === 'Vetoed') throw new Veto('Not this one', { field: 'last_name' }); } } });`,
  },
  {
    // never reached when the third vetoes
    manifest: { id: 'test.fourth', hooks: [{ module: 'Contacts', event: 'before_save', handler: 'late', priority: 4 }], permissions: ['write:Contacts#description'] },
    code: `definePlugin({ hooks: { late() { return { patch: { description: 'late' } }; } } });`,
  },
]);

describeEachEngine('before_save plugins of one save', (get) => {
  let host: PluginHost;
  const exchanges = { batch: 0, single: 0 };
  let lastResults: Array<{ invokeId: string; outcome: string }> = [];
  beforeAll(async () => {
    host = new PluginHost(get(), { dirs: [{ dir, builtIn: false }] }, silentLogger, () => new Date());
    await host.start();
    const batch = host.runner.invokeBatch.bind(host.runner);
    const single = host.runner.invoke.bind(host.runner);
    host.runner.invokeBatch = async (...args) => { exchanges.batch++; lastResults = await batch(...args); return lastResults as never; };
    host.runner.invoke = (...args) => { exchanges.single++; return single(...args); };
  }, 60_000);
  afterAll(async () => { await host?.close(); });

  it('run in one exchange with the runner, in priority order, each seeing the patches before it', async () => {
    exchanges.batch = exchanges.single = 0;
    const contact = await get().records.create(admin, 'Contacts', { last_name: 'Batched' });
    expect(contact).toMatchObject({ title: 'Customer', department: 'Dept of Customer', description: 'late' });
    expect(exchanges).toEqual({ batch: 1, single: 0 });
  });

  it('stop at the first veto, which becomes the error with its field', async () => {
    exchanges.batch = exchanges.single = 0;
    const err = await get().records.create(admin, 'Contacts', { last_name: 'Vetoed' }).catch((e) => e);
    expect(err).toBeInstanceOf(HookVeto);
    expect(err).toMatchObject({ message: 'Not this one', field: 'last_name' });
    expect(exchanges).toEqual({ batch: 1, single: 0 });
    // the fourth plugin did not run
    expect(lastResults.map((r) => r.outcome)).toEqual(['ok', 'ok', 'veto']);
  });
});
