import { describeEachServer } from '../helpers/crm';
import { pluginDir } from '../helpers/plugins';

const dir = pluginDir([{
  manifest: { id: 'test.api-veto', hooks: [{ module: 'Accounts', event: 'before_save', handler: 'check' }] },
  code: `definePlugin({ hooks: { check(ctx) { if (/test/i.test(ctx.event.record.name || '')) throw new Veto('Names may not contain "test"', { field: 'name' }); } } });`,
}]);

describeEachServer('plugins through the APIs', (get) => {
  it('loads installed plugins and turns a veto into a 422 with the field', async () => {
    expect(get().crm.plugins?.loaded.map((p) => p.manifest.id)).toEqual(['test.api-veto']);
    const token = await get().login('admin', 'secret-admin');
    const res = await get().call('POST', '/rest/v10/Accounts', { token, body: { name: 'A test account' } });
    expect(res).toMatchObject({ status: 422, body: { error: 'invalid_parameter', error_message: 'Names may not contain "test"', field: 'name' } });
    expect((await get().call('POST', '/rest/v10/Accounts', { token, body: { name: 'Fine' } })).status).toBe(200);
  }, 30_000);
}, { plugins: { dirs: [{ dir, builtIn: false }] } });
