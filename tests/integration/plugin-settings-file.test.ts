import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCrm } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { pluginDir } from '../helpers/plugins';

const dir = pluginDir([{
  manifest: {
    id: 'test.greeter',
    permissions: ['write:Accounts#description'],
    settings: { properties: { greeting: { type: 'string', minLength: 1 } }, required: ['greeting'] },
    hooks: [{ module: 'Accounts', event: 'before_save', handler: 'greet' }],
  },
  code: `definePlugin({ hooks: { greet(ctx) { if (!ctx.event.isUpdate) return { patch: { description: ctx.settings.greeting } }; } } });`,
}]);

describe('plugin settings from CANE_PLUGIN_SETTINGS', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cane-settings-')), 'settings.json');
  const start = () => createCrm({ databaseUrl: 'sqlite::memory:', customDir: '/nonexistent', logger: silentLogger, adminPassword: 'secret-admin', sms: false, plugins: { dirs: [{ dir, builtIn: false }] } });
  afterEach(() => { delete process.env.CANE_PLUGIN_SETTINGS; });

  it('passes the file to the plugins, and refuses a plugin whose settings break its schema', async () => {
    process.env.CANE_PLUGIN_SETTINGS = file;
    fs.writeFileSync(file, JSON.stringify({ 'test.greeter': { greeting: '' } }));
    const refused = await start();
    try {
      expect(refused.plugins!.refused.map((r) => r.problem).join()).toMatch(/greeting/);
    } finally {
      await refused.close();
    }
    fs.writeFileSync(file, JSON.stringify({ 'test.greeter': { greeting: 'Hello from settings' } }));
    const crm = await start();
    try {
      const account = await crm.records.create(SYSTEM, 'Accounts', { name: 'Greeted' });
      expect(account.description).toBe('Hello from settings');
    } finally {
      await crm.close();
    }
  }, 60_000);

  it('names the file when it cannot be read', async () => {
    process.env.CANE_PLUGIN_SETTINGS = path.join(os.tmpdir(), 'no-such-settings.json');
    await expect(start()).rejects.toThrow(/CANE_PLUGIN_SETTINGS: cannot read .*no-such-settings.json/);
    fs.writeFileSync(file, '[1]');
    process.env.CANE_PLUGIN_SETTINGS = file;
    await expect(start()).rejects.toThrow(/must be an object of plugin id/);
  }, 60_000);
});
