import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadRegistry } from '../../core/metadata/registry';

const root = path.join(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cli = path.join(root, 'core', 'cli', 'main.ts');

function scratch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-cli-'));
  return { dir, env: { ...process.env, DATABASE_URL: `sqlite:${path.join(dir, 'cane.sqlite')}`, CANE_CUSTOM_DIR: path.join(dir, 'custom'), LOG_LEVEL: 'warn' } };
}

describe('cane command line', () => {
  it('db:sync --dry-run prints the plan and changes nothing; db:sync applies it', () => {
    const { dir, env } = scratch();
    const dry = spawnSync(tsx, [cli, 'db:sync', '--dry-run'], { env, encoding: 'utf8' });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('-- create table accounts:');
    expect(dry.stdout).toContain('CREATE TABLE "accounts_audit"');
    const tables = () => new Database(path.join(dir, 'cane.sqlite')).prepare("select count(*) as n from sqlite_master where type = 'table'").get() as { n: number };
    expect(tables().n).toBe(0);
    const real = spawnSync(tsx, [cli, 'db:sync'], { env, encoding: 'utf8' });
    expect(real.stdout).toMatch(/applied \d+ changes/);
    expect(tables().n).toBeGreaterThan(20);
    const again = spawnSync(tsx, [cli, 'db:sync', '--dry-run'], { env, encoding: 'utf8' });
    expect(again.stdout.trim()).toBe('Schema is up to date.');
  });

  it('metadata:check names the file, pointer and rule of broken metadata', () => {
    const { dir, env } = scratch();
    fs.mkdirSync(path.join(dir, 'custom', 'modules', 'Accounts'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'custom', 'modules', 'Accounts', 'vardefs.json'), JSON.stringify({ Account: { fields: { tier_c: { type: 'enum', options: 'tier_dom', lenght: 20 } } } }));
    const result = spawnSync(tsx, [cli, 'metadata:check'], { env, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("custom/modules/Accounts/vardefs.json at /Account/fields/tier_c: unknown key 'lenght' (additionalProperties)");
  });

  it('manages users and roles from the shell', () => {
    const { env } = scratch();
    const run = (...args: string[]) => spawnSync(tsx, [cli, ...args], { env, encoding: 'utf8' });
    expect(run('db:sync').status).toBe(0);
    expect(run('user:create', 'rita', '--password', 'rita-secret', '--first-name', 'Rita').stdout).toMatch(/^created user rita \(/);
    expect(run('user:create', 'rita', '--password', 'x-secret').stderr).toContain("user name 'rita' is already taken");
    const generated = run('user:password', 'rita');
    expect(generated.stdout).toMatch(/^password of rita changed to \S{8,}/);
    expect(run('role', 'create', 'Support', 'Reads accounts').status).toBe(0);
    expect(run('role', 'set', 'Support', 'Accounts', 'edit', 'none').stdout).toContain('Support: Accounts edit = none');
    expect(run('role', 'set', 'Support', 'Accounts', 'export', 'owner').stderr).toContain("level 'owner' is not valid for export");
    expect(run('role', 'assign', 'Support', 'rita').status).toBe(0);
    const list = JSON.parse(run('role', 'list').stdout);
    expect(list).toEqual([{ name: 'Support', description: 'Reads accounts', settings: { Accounts: { edit: -99 } }, users: ['rita'] }]);
  });

  it('scaffolds a plugin whose tests pass, and reports a failing one', () => {
    const { dir, env } = scratch();
    const made = spawnSync(tsx, [cli, 'plugin', 'new', 'tidy', '--dir', dir], { env, encoding: 'utf8' });
    expect(made.stdout).toContain(`created ${path.join(dir, 'tidy')}`);
    const ok = spawnSync(tsx, [cli, 'plugin', 'test', path.join(dir, 'tidy')], { env, encoding: 'utf8' });
    expect(ok.stdout).toContain('2 passed, 0 failed');
    expect(ok.status).toBe(0);
    fs.writeFileSync(path.join(dir, 'tidy', 'index.js'), 'definePlugin({ hooks: { tidy() {} } });');
    const bad = spawnSync(tsx, [cli, 'plugin', 'test', path.join(dir, 'tidy')], { env, encoding: 'utf8' });
    expect(bad.stdout).toContain('✗ trims names');
    expect(bad.status).toBe(1);
  }, 60_000);

  it('plugin test prints every denial and fault with its capability or limit, and takes settings from a file', () => {
    const { dir, env } = scratch();
    const plugin = path.join(dir, 'nosy');
    fs.mkdirSync(path.join(plugin, 'test'), { recursive: true });
    fs.writeFileSync(path.join(plugin, 'plugin.json'), JSON.stringify({
      id: 'local.nosy', name: 'nosy', version: '0.1.0', apiVersion: 1, entry: 'index.js',
      hooks: [{ module: 'Contacts', event: 'before_save', handler: 'peek', limits: { timeoutMs: 20, cpuMs: 20 } }], permissions: ['read:Contacts'],
      settings: { properties: { greeting: { type: 'string' } }, required: ['greeting'] },
    }));
    fs.writeFileSync(path.join(plugin, 'index.js'), `definePlugin({ hooks: { async peek(ctx) {
      if (ctx.event.record.last_name === 'spin') for (;;) {}
      await ctx.crm.records.find('Accounts', {}).catch(() => null);
      return { patch: {} };
    } } });`);
    fs.writeFileSync(path.join(plugin, 'test', 'peek.test.js'), `module.exports = {
      'saves despite a denied read': async ({ kit, assert }) => { const { record } = await kit.save('Contacts', { last_name: 'Ok' }); assert.strictEqual(record.last_name, 'Ok'); },
      'survives a loop': async ({ kit, assert }) => { const { record } = await kit.save('Contacts', { last_name: 'spin' }); assert.strictEqual(record.last_name, 'spin'); },
    };`);
    const refused = spawnSync(tsx, [cli, 'plugin', 'test', plugin], { env, encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stdout + refused.stderr).toContain("'greeting' is required");
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ greeting: 'hi' }));
    const run = spawnSync(tsx, [cli, 'plugin', 'test', plugin, '--settings', path.join(dir, 'settings.json')], { env, encoding: 'utf8' });
    expect(run.stdout).toContain('2 passed, 0 failed');
    expect(run.stdout).toContain("· denied: records.find in Contacts.before_save.peek: permission 'read:Accounts' is not in the manifest of local.nosy");
    expect(run.stdout).toMatch(/· fault in Contacts\.before_save\.peek: (timeout of 20 ms exceeded|CPU time limit of 20 ms exceeded)/);
  }, 60_000);

  it('audit:verify reports an intact chain with its size, and the first broken entry with the count checked', async () => {
    const { dir, env } = scratch();
    const { createCrm } = await import('../../core/app/create-crm');
    const { silentLogger } = await import('../../core/logger');
    const { SYSTEM } = await import('../../core/records/actor');
    const crm = await createCrm({ databaseUrl: env.DATABASE_URL, logger: silentLogger, customDir: '/nonexistent', sms: false, plugins: { installedDir: path.join(dir, 'none') } });
    try {
      for (const name of ['One', 'Two', 'Three']) await crm.records.create(SYSTEM, 'Accounts', { name });
      await crm.plugins!.drain();
    } finally {
      await crm.close();
    }
    const intact = spawnSync(tsx, [cli, 'audit:verify'], { env, encoding: 'utf8' });
    expect(intact.stdout.trim()).toBe('activity log intact: 3 entries');
    expect(intact.status).toBe(0);
    const db = new Database(path.join(dir, 'cane.sqlite'));
    db.prepare("update cane_activity_log set name = 'Forged' where name = 'Two'").run();
    db.close();
    const broken = spawnSync(tsx, [cli, 'audit:verify'], { env, encoding: 'utf8' });
    expect(broken.stdout).toMatch(/^activity log BROKEN at entry 2 \(\S+\): content does not match its hash \(the entry was edited\); 2 entries checked/);
    expect(broken.status).toBe(2);
  }, 60_000);

  it('start --demo serves /health with demo data loaded', async () => {
    const { env } = scratch();
    const child = spawn(tsx, [cli, 'start', '--demo', '--port', '0'], { env: { ...env, LOG_LEVEL: 'info' } });
    try {
      let output = '';
      child.stdout.on('data', (d) => { output += String(d); });
      const deadline = Date.now() + 30000;
      while (!output.includes('Cane is running') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const port = /http:\/\/localhost:(\d+)\//.exec(output)?.[1];
      if (!port) throw new Error(`cane start did not start: ${output}`);
      expect(output).toMatch(/demo data: \d+ records created/);
      const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
      expect(health).toMatchObject({ status: 'ok', database: 'sqlite', modules: loadRegistry({ customDir: '/nonexistent' }).modules.size });
      const missing = await fetch(`http://127.0.0.1:${port}/nowhere`);
      expect(missing.status).toBe(404);
      const token = (await (await fetch(`http://127.0.0.1:${port}/rest/v10/oauth2/token`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', client_id: 'sugar', username: 'admin', password: 'admin' }),
      })).json()) as { access_token: string };
      const accounts = await (await fetch(`http://127.0.0.1:${port}/rest/v10/Accounts/count`, { headers: { 'OAuth-Token': token.access_token } })).json();
      // the demo's accounts, and those its lead conversions create
      const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'metadata', 'demo', 'demo-data.json'), 'utf8'));
      const converted = (demo.conversions ?? []).filter((c: { modules: { Accounts?: { id?: string } } }) => c.modules.Accounts && !c.modules.Accounts.id).length;
      expect(accounts).toEqual({ record_count: demo.records.Accounts.length + converted });
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});
