import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCrm, type Crm } from '../../core/app/create-crm';
import { pluginDirs } from '../../core/app/plugins';
import { silentLogger } from '../../core/logger';
import type { PluginHost } from '../../core/plugins/plugin-host';
import { admin } from '../helpers/engine';
import { describeEachKind } from '../helpers/databases';
import { escapingArchive, pluginArchive, pluginFolder } from '../helpers/plugin-archives';

const ID = 'test.live-veto';
const settings = { type: 'object', additionalProperties: false, properties: { word: { type: 'string', minLength: 3, default: 'forbidden' }, apiKey: { type: 'string', secret: true } } };
const veto = (version: string, prefix: string) => pluginFolder(
  {
    id: ID, version, settings,
    hooks: [{ module: 'Accounts', event: 'before_save', handler: 'check' }, { module: 'Accounts', event: 'after_save', handler: 'seen' }],
  },
  `definePlugin({ hooks: {
    check(ctx) { if (String(ctx.event.record.name).includes(ctx.settings.word)) throw new Veto('${prefix}: no ' + ctx.settings.word, { field: 'name' }); },
    seen() {},
  } });`,
);

/** Polls until `check` holds (another process reloads on its own poll); fails with the last answer after the deadline. */
async function eventually(what: string, check: () => Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not seen in time: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The veto message a save of `name` through `crm` gets, or 'saved'. */
async function attempt(crm: Crm, name: string): Promise<string> {
  try {
    await crm.records.create(admin, 'Accounts', { name });
    return 'saved';
  } catch (err) {
    return (err as Error).message;
  }
}

const folderDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-live-folder-'));
fs.cpSync(pluginFolder({ id: 'test.from-folder' }, 'definePlugin({ hooks: {} });'), path.join(folderDir, 'from-folder'), { recursive: true });

// Two createCrm instances on one database stand for two Cane processes (own pools, runners and pollers).
describeEachKind('plugins managed live', async (db, test) => {
  const common = { customDir: '/nonexistent', logger: silentLogger, adminPassword: 'secret-admin', secret: 'test-secret', sms: false as const, plugins: { dirs: pluginDirs(folderDir) } };
  const a = await createCrm({ ...common, database: db });
  const b = await createCrm({ ...common, databaseUrl: test.url, sync: false });
  b.plugins!.startWatching(200);
  return { value: { a, b }, stop: async () => { await b.close(); await a.close(); } };
}, (get) => {
  const hostA = (): PluginHost => get().a.plugins!;
  const hostB = (): PluginHost => get().b.plugins!;
  const loadedIn = (host: PluginHost) => host.loaded.map((p) => p.key);

  it('installs a plugin in one process and the other one runs it', async () => {
    const { a, b } = get();
    expect(await attempt(b, 'a forbidden name')).toBe('saved');
    const done = await hostA().admin.install(veto('1.0.0', 'v1'), { installedBy: 'test' });
    expect(done).toEqual({ id: ID, version: '1.0.0', previous: undefined });
    // the installing process reloads at once
    expect(loadedIn(hostA())).toContain(`${ID}@1.0.0`);
    expect(await attempt(a, 'a forbidden name')).toBe('v1: no forbidden');
    await eventually('B vetoes', async () => (await attempt(b, 'another forbidden one')) === 'v1: no forbidden');
    const described = (await hostB().describe()).loaded.find((p) => p.id === ID)!;
    expect(described).toMatchObject({ origin: 'installed', enabled: true, hooks: [{ name: 'Accounts.before_save.check', delivery: 'inline' }, { name: 'Accounts.after_save.seen', delivery: 'unordered' }] });
  });

  it('disables and enables it everywhere', async () => {
    const { b } = get();
    await hostA().admin.setEnabled(ID, '*', false);
    await eventually('B stops vetoing', async () => (await attempt(b, 'forbidden while off')) === 'saved');
    // switched off, it stays loaded: its after-events keep being recorded for later
    expect(loadedIn(hostB())).toContain(`${ID}@1.0.0`);
    await hostA().admin.setEnabled(ID, '*', true);
    await eventually('B vetoes again', async () => (await attempt(b, 'forbidden again')) === 'v1: no forbidden');
  });

  it('refuses bad installs by name and the running plugin keeps working', async () => {
    const { a, b } = get();
    const admin = hostA().admin;
    const badDelivery = pluginFolder({ id: 'test.bad-delivery', hooks: [{ module: 'Accounts', event: 'after_save', handler: 'x', delivery: 'sometimes' }] }, 'definePlugin({ hooks: { x() {} } });');
    await expect(admin.install(badDelivery)).rejects.toThrow(/^test\.bad-delivery: plugin\.json at \/hooks\/0\/delivery: must be equal to one of the allowed values: "unordered", "ordered"/);
    await expect(admin.install(escapingArchive(veto('3.0.0', 'evil')))).rejects.toThrow("escaping.tgz: entry '../escape.js' has a '..' segment");
    await expect(admin.install(veto('1.0.0', 'again'))).rejects.toThrow(`${ID}: version 1.0.0 is already installed; use --upgrade to install another version`);
    await expect(admin.install(veto('1.0.0', 'again'), { upgrade: true })).rejects.toThrow(`${ID}: version 1.0.0 is already installed; --upgrade needs a different version`);
    await expect(admin.install(path.join(__dirname, '..', '..', 'plugins', 'audit-log'))).rejects.toThrow('org.cane.audit-log: a built-in plugin has this id; it cannot be installed over');
    await expect(admin.install(path.join(folderDir, 'from-folder'))).rejects.toThrow(/^test\.from-folder: a plugin with this id is loaded from the folder /);
    const broken = pluginFolder({ id: 'test.broken' }, 'definePlugin({ hooks: { x() { } } ');
    await expect(admin.install(broken)).rejects.toThrow(/^test\.broken: the entry file does not run: SyntaxError/);
    expect(await hostA().admin.packages.list()).toHaveLength(1);
    expect(await attempt(a, 'still forbidden')).toBe('v1: no forbidden');
    expect(await attempt(b, 'still forbidden')).toBe('v1: no forbidden');
    expect(hostB().loaded.map((p) => p.manifest.id).sort()).toEqual(['org.cane.audit-log', 'org.cane.target-lists', 'org.cane.workflows', ID, 'test.from-folder'].sort());
  });

  it('upgrades from an npm-style .tgz under a new key', async () => {
    const { b } = get();
    const done = await hostA().admin.install(pluginArchive(veto('2.0.0', 'v2')), { upgrade: true });
    expect(done).toMatchObject({ id: ID, version: '2.0.0', previous: '1.0.0' });
    await eventually('B runs version 2', async () => (await attempt(b, 'forbidden in v2')) === 'v2: no forbidden');
    expect(loadedIn(hostB())).toContain(`${ID}@2.0.0`);
    expect(loadedIn(hostB())).not.toContain(`${ID}@1.0.0`);
    expect((await hostB().admin.packages.get(ID))!.source).toBe(`${ID}.tgz`);
  });

  it('saves settings checked against the schema, and other processes use them', async () => {
    const { b } = get();
    const admin = hostA().admin;
    await expect(admin.saveSettings(ID, { word: 'xy' })).rejects.toMatchObject({ message: `${ID}: settings at /word: must NOT have fewer than 3 characters`, setting: 'word' });
    await expect(admin.saveSettings(ID, { colour: 'red' })).rejects.toMatchObject({ setting: 'colour' });
    await admin.saveSettings(ID, { word: 'blocked', apiKey: 'k-123' }, 'test');
    await eventually('B uses the saved word', async () => (await attempt(b, 'a blocked name')) === 'v2: no blocked');
    expect(await attempt(b, 'forbidden is fine now')).toBe('saved');
    expect(hostB().settingsOf(ID)).toEqual({ word: 'blocked', apiKey: 'k-123' });
  });

  it('refuses a plugin whose stored settings fail its schema, by name, and keeps the others', async () => {
    const { b } = get();
    await hostA().admin.packages.change((trx) => hostA().admin.packages.putSettings(trx, ID, { word: 1 }, 'test'));
    await eventually('B refuses it', async () => hostB().refused.some((r) => r.id === ID));
    expect(hostB().refused.find((r) => r.id === ID)!.problem).toBe('settings at /word: must be string');
    expect(hostB().loaded.map((p) => p.manifest.id)).toContain('org.cane.audit-log');
    expect(await attempt(b, 'blocked but refused')).toBe('saved');
    await hostA().admin.saveSettings(ID, { word: 'blocked' });
    await eventually('B runs it again', async () => (await attempt(b, 'blocked again')) === 'v2: no blocked');
  });

  it('uninstalls: gone in both processes, with its state and undelivered events', async () => {
    const { a, b, } = get();
    const knex = a.engine.db.knex;
    await hostA().admin.setEnabled(ID, 'Accounts.before_save.check', true);
    expect(Number((await knex('cane_plugin_events').where('plugin_id', ID).count({ n: '*' }).first())!.n)).toBeGreaterThan(0);
    const done = await hostA().admin.uninstall(ID);
    expect(done.version).toBe('2.0.0');
    expect(loadedIn(hostA()).some((k) => k.startsWith(ID))).toBe(false);
    await eventually('B drops it', async () => !loadedIn(hostB()).some((k) => k.startsWith(ID)));
    expect(await attempt(a, 'blocked is fine')).toBe('saved');
    expect(await attempt(b, 'blocked is fine')).toBe('saved');
    expect(await knex('cane_plugin_packages').where('plugin_id', ID)).toHaveLength(0);
    expect(await knex('cane_plugin_state').where('plugin_id', ID)).toHaveLength(0);
    expect(await knex('cane_plugin_settings').where('plugin_id', ID)).toHaveLength(0);
    expect(await knex('cane_plugin_events').where('plugin_id', ID)).toHaveLength(0);
    await expect(hostA().admin.uninstall(ID)).rejects.toThrow(`no plugin '${ID}' is installed`);
    await expect(hostA().admin.uninstall('org.cane.audit-log')).rejects.toThrow('org.cane.audit-log: a built-in plugin; only installed plugins can be uninstalled');
  });
});
