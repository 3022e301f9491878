import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { pluginArchive, pluginFolder } from '../helpers/plugin-archives';

const root = path.join(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cli = path.join(root, 'core', 'cli', 'main.ts');

function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-cli-plugins-'));
  const env = { ...process.env, DATABASE_URL: `sqlite:${path.join(dir, 'cane.sqlite')}`, CANE_CUSTOM_DIR: path.join(dir, 'custom'), CANE_PLUGINS_DIR: path.join(dir, 'cane-plugins'), LOG_LEVEL: 'warn' };
  const run = (...args: string[]) => spawnSync(tsx, [cli, ...args], { env, encoding: 'utf8' });
  return { dir, env, run };
}

const vetoPlugin = (version = '1.0.0') => pluginFolder({
  id: 'test.cli-veto', name: 'CLI veto', version,
  hooks: [{ module: 'Accounts', event: 'before_save', handler: 'check' }],
  settings: { type: 'object', properties: { word: { type: 'string', minLength: 3 }, limit: { type: 'integer', maximum: 10 }, token: { type: 'string', secret: true } } },
}, `definePlugin({ hooks: { check(ctx) { if (String(ctx.event.record.name).includes(ctx.settings.word || 'veto')) throw new Veto('vetoed by ${version}', { field: 'name' }); } } });`);

describe('cane plugin install, list, settings, uninstall', () => {
  it('installs a folder and a .tgz, lists, configures and uninstalls them', () => {
    const { run } = scratch();
    expect(run('db:sync').status).toBe(0);
    const installed = run('plugin', 'install', vetoPlugin());
    expect(installed.stderr).toBe('');
    expect(installed.stdout.trim()).toBe('installed test.cli-veto@1.0.0');
    const archived = pluginArchive(pluginFolder({ id: 'test.cli-tgz', name: 'From a tgz', version: '0.1.0', hooks: [{ module: 'Contacts', event: 'after_save', handler: 'seen', delivery: 'ordered' }] }, 'definePlugin({ hooks: { seen() {} } });'));
    expect(run('plugin', 'install', archived).stdout.trim()).toBe('installed test.cli-tgz@0.1.0');

    const list = run('plugin', 'list').stdout;
    expect(list).toContain('org.cane.audit-log@2.0.0  built-in  enabled');
    expect(list).toMatch(/test\.cli-veto@1\.0\.0 {2}installed {2}enabled {2}\(from \/.*test\.cli-veto\)/);
    expect(list).toContain('test.cli-tgz@0.1.0  installed  enabled  (from test.cli-tgz.tgz)');
    expect(list).toContain('  hook Contacts.after_save.seen [ordered]: on, 0 faults');
    expect(list).toContain('  hook Accounts.before_save.check [inline]: on, 0 faults');
    expect(list).toContain('  backlog: 0 pending, 0 retrying');

    expect(run('plugin', 'settings', 'test.cli-veto', 'limit=11').stderr.trim()).toBe('cane: test.cli-veto: settings at /limit: must be <= 10');
    expect(run('plugin', 'settings', 'test.cli-veto', 'colour=red').stderr.trim()).toBe("cane: test.cli-veto: unknown setting 'colour' (its settings: word, limit, token)");
    const saved = run('plugin', 'settings', 'test.cli-veto', 'limit=7', 'word=stop', 'token=s3cr3t-value');
    expect(saved.stdout).toContain('limit = 7\nword = "stop"\ntoken = "set"\nsettings of test.cli-veto saved');
    expect(saved.stdout).not.toContain('s3cr3t-value');
    expect(run('plugin', 'list').stdout).toContain('  settings: {"limit":7,"word":"stop","token":"set"}');

    expect(run('plugin', 'disable', 'test.cli-veto').stdout.trim()).toBe('test.cli-veto disabled');
    expect(run('plugin', 'list').stdout).toContain('test.cli-veto@1.0.0  installed  DISABLED');
    expect(run('plugin', 'disable', 'test.cli-veto', 'Accounts.after_save.nope').stderr.trim()).toBe("cane: test.cli-veto has no hook 'Accounts.after_save.nope' (its hooks: Accounts.before_save.check)");
    expect(run('plugin', 'enable', 'test.unknown').stderr.trim()).toBe("cane: no plugin 'test.unknown' is installed or built in");

    expect(run('plugin', 'uninstall', 'test.cli-tgz').stdout.trim()).toBe('uninstalled test.cli-tgz@0.1.0; 0 undelivered events discarded');
    expect(run('plugin', 'uninstall', 'test.cli-veto').status).toBe(0);
    const after = run('plugin', 'list').stdout;
    expect(after).not.toContain('test.cli-');
    expect(run('plugin', 'uninstall', 'test.cli-veto').stderr.trim()).toBe("cane: no plugin 'test.cli-veto' is installed");
  }, 120_000);

  it('refuses bad plugins by name and keeps what is installed', () => {
    const { dir, run } = scratch();
    expect(run('db:sync').status).toBe(0);
    expect(run('plugin', 'install', vetoPlugin()).status).toBe(0);

    const badDelivery = pluginFolder({ id: 'test.bad-mode', hooks: [{ module: 'Accounts', event: 'after_save', handler: 'x', delivery: 'eventually' }] }, 'definePlugin({ hooks: { x() {} } });');
    const refused = run('plugin', 'install', badDelivery);
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toBe('cane: test.bad-mode: plugin.json at /hooks/0/delivery: must be equal to one of the allowed values: "unordered", "ordered"');

    // a link pointing outside the folder the archive is unpacked into
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-link-'));
    fs.cpSync(vetoPlugin('2.0.0'), path.join(work, 'package'), { recursive: true });
    fs.symlinkSync('/etc/passwd', path.join(work, 'package', 'passwd.js'));
    const linked = path.join(dir, 'linked.tgz');
    tar.create({ gzip: true, file: linked, cwd: work, sync: true }, ['package']);
    expect(run('plugin', 'install', linked, '--upgrade').stderr.trim()).toBe("cane: linked.tgz: entry 'package/passwd.js' links to '/etc/passwd', outside the archive");

    expect(run('plugin', 'install', vetoPlugin('1.0.0'), '--upgrade').stderr.trim()).toBe('cane: test.cli-veto: version 1.0.0 is already installed; --upgrade needs a different version');
    expect(run('plugin', 'install', path.join(root, 'plugins', 'audit-log')).stderr.trim()).toBe('cane: org.cane.audit-log: a built-in plugin has this id; it cannot be installed over');
    expect(run('plugin', 'install', path.join(dir, 'nothing-here')).stderr.trim()).toBe(`cane: ${path.join(dir, 'nothing-here')}: not a plugin folder (no plugin.json) or a .tgz archive`);
    expect(run('plugin', 'install', vetoPlugin('2.0.0'), '--upgrade').stdout.trim()).toBe('upgraded test.cli-veto from 1.0.0 to 2.0.0');
    expect(run('plugin', 'list').stdout).toContain('test.cli-veto@2.0.0  installed  enabled');
  }, 120_000);

  it('reaches a running `cane start` without a restart', async () => {
    const { env, run } = scratch();
    const child = spawn(tsx, [cli, 'start', '--port', '0'], { env: { ...env, LOG_LEVEL: 'info', CANE_ADMIN_PASSWORD: 'admin-secret' } });
    try {
      let output = '';
      child.stdout.on('data', (d) => { output += String(d); });
      const deadline = Date.now() + 30000;
      while (!output.includes('Cane is running') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const port = /http:\/\/localhost:(\d+)\//.exec(output)?.[1];
      if (!port) throw new Error(`cane start did not start: ${output}`);
      const token = (await (await fetch(`http://127.0.0.1:${port}/rest/v10/oauth2/token`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', client_id: 'sugar', username: 'admin', password: 'admin-secret' }),
      })).json()) as { access_token: string };
      const save = async (name: string) => (await fetch(`http://127.0.0.1:${port}/rest/v10/Accounts`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'OAuth-Token': token.access_token }, body: JSON.stringify({ name }),
      })).status;
      expect(await save('veto me')).toBe(200);
      expect(run('plugin', 'install', vetoPlugin()).status).toBe(0);
      const until = Date.now() + 20000;
      let status = 200;
      while (status !== 422 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        status = await save('veto me');
      }
      expect(status).toBe(422);
      expect(run('plugin', 'uninstall', 'test.cli-veto').status).toBe(0);
      const until2 = Date.now() + 20000;
      while (status !== 200 && Date.now() < until2) {
        await new Promise((r) => setTimeout(r, 200));
        status = await save('veto me');
      }
      expect(status).toBe(200);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  }, 120_000);
});
