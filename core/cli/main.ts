import assert from 'node:assert';
import http from 'node:http';
import { scaffoldPlugin, pluginTests } from '../plugins/scaffold';
import { PluginTestKit } from '../plugins/test-kit';
import path from 'node:path';
import { discoverPlugins } from '../plugins/manifest';
import { PluginHost } from '../plugins/plugin-host';
import { packageRoot } from '../paths';
import { verifyActivityChain } from '../../modules/ActivityLog/verify-chain';
import { Command } from 'commander';
import { createCrm, pluginSettingsFile } from '../app/create-crm';
import { startPluginHost } from '../app/plugins';
import { createEngine, DEFAULT_DATABASE_URL, type Engine } from '../app/engine';
import { openDatabase } from '../db/connection';
import { formatPlan, planSync, applySync } from '../db/sync';
import { CaneError } from '../errors';
import { createLogger, silentLogger } from '../logger';
import { loadRegistry } from '../metadata/registry';
import { RoleAdmin } from '../security/roles';
import { ensureAclActions } from '../security/acl';
import { createUser, setPassword } from '../security/users';
import { randomPassword } from '../security/passwords';
import { SmsService } from '../sms/sms-service';
import { systemClock } from '../records/time';

const program = new Command();
program.name('cane').description('Cane: an embeddable, SugarCRM-compatible CRM').version('0.1.0');

const databaseUrl = () => process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
/** Runs a one-off command against the database with a silent engine, closed afterwards whatever happens. */
async function withQuietEngine<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await createEngine({ databaseUrl: databaseUrl(), logger: silentLogger });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

program
  .command('start')
  .description('sync the schema, run the job queue and schedulers, and serve the APIs')
  .option('--demo', 'load demo data into an empty database; the admin password is "admin"')
  .option('-p, --port <port>', 'port (default PORT or 3000)')
  .action(async (opts: { demo?: boolean; port?: string }) => {
    const log = createLogger();
    const crm = await createCrm({ databaseUrl: databaseUrl(), logger: log, demo: opts.demo, publicUrl: process.env.PUBLIC_URL });
    if (crm.initialAdminPassword) {
      console.log(`\nFirst administrator created: user name "admin", password "${crm.initialAdminPassword}" (shown once; change it with \`cane user:password admin\`)\n`);
    }
    crm.engine.jobs.start();
    crm.plugins?.startDelivery();
    const schedulers = (await crm.engine.schedulers.start()) + (crm.plugins?.startSchedules() ?? 0);
    const port = Number(opts.port ?? process.env.PORT ?? 3000);
    const server = http.createServer(crm.app.callback());
    server.listen(port, () => {
      log.info(`Cane is running on ${crm.engine.db.description} with ${crm.engine.registry.modules.size} modules and ${schedulers} schedulers: http://localhost:${port}/rest/v10 and /service/v4_1/rest.php`);
    });
    const shutdown = async () => {
      server.close();
      await crm.close();
      process.exit(0);
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

program
  .command('db:sync')
  .description('create or extend tables, indexes and audit tables from the metadata (never drops)')
  .option('--dry-run', 'print the plan without changing anything')
  .action(async (opts: { dryRun?: boolean }) => {
    const registry = loadRegistry();
    const db = openDatabase(databaseUrl());
    try {
      const plan = await planSync(db, registry);
      console.log(formatPlan(plan));
      if (!opts.dryRun && plan.steps.length) {
        await applySync(db, plan);
        console.log(`\n-- applied ${plan.steps.length} changes to ${db.description}`);
      }
    } finally {
      await db.close();
    }
  });

program
  .command('metadata:check')
  .description('load and check all metadata (shipped and CANE_CUSTOM_DIR) and summarise it')
  .action(() => {
    const warnings: string[] = [];
    const registry = loadRegistry({ warn: (w) => warnings.push(w) });
    for (const m of registry.modules.values()) {
      console.log(`${m.name.padEnd(16)} ${m.table.padEnd(20)} ${String(m.columns.length).padStart(3)} columns ${String(Object.keys(m.links).length).padStart(3)} links${m.audited ? '  audited' : ''}${m.custom ? '  (custom)' : ''}`);
    }
    console.log(`${registry.tables.length} tables, ${registry.relationships.size} relationships`);
    for (const w of warnings) console.log(`note: ${w}`);
  });

program
  .command('jobs:work')
  .description('run the job queue worker (and schedulers) without the HTTP server')
  .option('--once', 'run due jobs once and exit')
  .action(async (opts: { once?: boolean }) => {
    const log = createLogger();
    const engine = await createEngine({ databaseUrl: databaseUrl(), logger: log });
    // SMS dispatch jobs need the SMS module's handler (configured from the same SMS_* / TWILIO_* variables),
    // plugin events the plugin host.
    const sms = new SmsService(engine, {}, log, systemClock);
    await sms.start();
    const plugins = await startPluginHost(engine, {}, pluginSettingsFile(process.env.CANE_PLUGIN_SETTINGS), sms, log, systemClock);
    const close = async () => {
      await plugins.close();
      await engine.close();
    };
    if (opts.once) {
      const jobs = await engine.jobs.runOnce(100);
      const events = await plugins.drain();
      console.log(`${jobs} jobs run, ${events} plugin events delivered`);
      await close();
      return;
    }
    await engine.schedulers.start();
    plugins.startSchedules();
    engine.jobs.start();
    plugins.startDelivery();
    const stop = () => void close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('sms:reindex')
  .description('rebuild the E.164 phone index used to match inbound SMS (after a bulk import into the tables)')
  .action(async () => {
    await withQuietEngine(async (engine) => {
      const sms = new SmsService(engine, {}, silentLogger, systemClock);
      console.log(`${await sms.phoneIndex.rebuild(engine.registry)} phone numbers indexed`);
    });
  });

program
  .command('user:create <user_name>')
  .description('create a user (password from --password or generated and printed)')
  .option('--password <password>')
  .option('--first-name <name>')
  .option('--last-name <name>')
  .option('--admin', 'make the user an administrator')
  .action(async (userName: string, opts: { password?: string; firstName?: string; lastName?: string; admin?: boolean }) => {
    await withQuietEngine(async (engine) => {
      const password = opts.password ?? randomPassword();
      const user = await createUser(engine, { user_name: userName, password, first_name: opts.firstName, last_name: opts.lastName ?? userName, is_admin: Boolean(opts.admin) });
      console.log(`created user ${userName} (${user.id})${opts.password ? '' : ` with password ${password}`}`);
    });
  });

program
  .command('user:password <user_name>')
  .description("set a user's password (from --password or generated) and sign them out everywhere")
  .option('--password <password>')
  .action(async (userName: string, opts: { password?: string }) => {
    await withQuietEngine(async (engine) => {
      const password = opts.password ?? randomPassword();
      await setPassword(engine, userName, password);
      console.log(`password of ${userName} changed${opts.password ? '' : ` to ${password}`}`);
    });
  });

const role = program.command('role').description("manage roles (Sugar's acl_roles)");
const withRoles = (fn: (roles: RoleAdmin) => Promise<void>) => async () => {
  await withQuietEngine(async (engine) => {
    await ensureAclActions(engine.db, engine.registry, () => new Date());
    await fn(new RoleAdmin(engine));
  });
};
role.command('create <name> [description]').action((name: string, description?: string) => withRoles(async (r) => { console.log(`role ${name}: ${await r.create(name, description)}`); })());
role.command('set <role> <module> <action> <level>')
  .description('level: all, owner, none, default; access: enabled, disabled')
  .action((name: string, module: string, action: string, level: string) => withRoles(async (r) => { await r.set(name, module, action, level); console.log(`${name}: ${module} ${action} = ${level}`); })());
role.command('assign <role> <user_name>').action((name: string, user: string) => withRoles(async (r) => { await r.assign(name, user); console.log(`${user} now has role ${name}`); })());
role.command('unassign <role> <user_name>').action((name: string, user: string) => withRoles(async (r) => { await r.unassign(name, user); console.log(`${user} no longer has role ${name}`); })());
role.command('list').action(() => withRoles(async (r) => { console.log(JSON.stringify(await r.list(), null, 2)); })());

const plugin = program.command('plugin').description('sandboxed plugins');
const pluginDirs = () => [{ dir: path.join(packageRoot(), 'plugins'), builtIn: true }, { dir: path.resolve(process.env.CANE_PLUGINS_DIR ?? 'cane-plugins'), builtIn: false }];
plugin.command('list').description('plugins with their permissions, state and fault counts').action(async () => {
  await withQuietEngine(async (engine) => {
    const { loaded, refused } = discoverPlugins(pluginDirs(), engine.registry);
    const states = await engine.db.knex('cane_plugin_state').select('*');
    for (const p of loaded) {
      const own = states.filter((s: { plugin_id: string }) => s.plugin_id === p.manifest.id);
      const off = own.find((s: { hook: string; enabled: number }) => s.hook === '*' && Number(s.enabled) === 0);
      console.log(`${p.manifest.id}@${p.manifest.version}  ${p.builtIn ? 'built-in' : 'installed'}  ${off ? 'DISABLED' : 'enabled'}`);
      console.log(`  permissions: ${[...p.permissions].join(', ') || '(none)'}`);
      for (const h of p.manifest.hooks ?? []) {
        const name = `${h.module}.${h.event}.${h.handler}`;
        const st = own.find((s: { hook: string }) => s.hook === name);
        console.log(`  hook ${name}: ${st && Number(st.enabled) === 0 ? 'switched off' : 'on'}, ${Number(st?.total_faults ?? 0)} faults${st?.last_error ? ` (last: ${st.last_error})` : ''}`);
      }
    }
    for (const r of refused) console.log(`REFUSED ${r.id ?? r.dir}: ${r.problem}`);
  });
});
plugin.command('new <name>').description('scaffold a plugin with a test in CANE_PLUGINS_DIR (or --dir)').option('--dir <dir>').action((name: string, opts: { dir?: string }) => {
  const dir = scaffoldPlugin(path.resolve(opts.dir ?? process.env.CANE_PLUGINS_DIR ?? 'cane-plugins'), name);
  console.log(`created ${dir}\nrun its tests with: cane plugin test ${dir}`);
});
plugin.command('test <dir>').description("run a plugin's test/*.test.js against the real runtime").action(async (dir: string) => {
  let failed = 0;
  let passed = 0;
  for (const { file, cases } of pluginTests(path.resolve(dir))) {
    console.log(path.relative(process.cwd(), file));
    for (const c of cases) {
      const kit = await PluginTestKit.create(path.resolve(dir));
      try {
        await c.fn({ kit, assert });
        passed++;
        console.log(`  ✓ ${c.name}`);
      } catch (err) {
        failed++;
        console.log(`  ✗ ${c.name}\n    ${String((err as Error).message).split('\n').join('\n    ')}`);
      }
      try {
        // Denials and faults are shown whether the case passed or not: a test may expect them, or they explain a failure.
        for (const problem of await kit.problems()) console.log(`    · ${problem}`);
      } finally {
        await kit.close();
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed || !passed ? 1 : 0;
});
for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
  plugin.command(`${verb} <plugin_id> [hook]`).description(`${verb} a plugin, or one of its hooks ('<module>.<event>.<handler>')`).action(async (id: string, hook?: string) => {
    await withQuietEngine(async (engine) => {
      const host = new PluginHost(engine, { dirs: [] }, silentLogger, () => new Date());
      await host.setEnabled(id, hook ?? '*', enabled);
      console.log(`${id}${hook ? ` ${hook}` : ''} ${enabled ? 'enabled' : 'disabled'}`);
    });
  });
}

program
  .command('audit:verify')
  .description('check the hash chain of the activity log written by the audit-log plugin')
  .action(async () => {
    await withQuietEngine(async (engine) => {
      const report = await verifyActivityChain(engine.db);
      if (report.ok) console.log(`activity log intact: ${report.entries} entries`);
      else {
        console.log(`activity log BROKEN at entry ${report.broken!.sequence} (${report.broken!.id}): ${report.broken!.problem}`);
        process.exitCode = 2;
      }
    });
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CaneError) {
    console.error(`cane: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});
