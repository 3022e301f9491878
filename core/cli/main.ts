import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import assert from 'node:assert';
import http from 'node:http';
import type { PluginTestKit } from '../plugins/test-kit';
import path from 'node:path';
import { PluginHost } from '../plugins/plugin-host';
import type { PluginAdmin } from '../plugins/plugin-admin';
import { maskedSettings, settingDefs, settingValue } from '../plugins/settings-input';
import { verifyActivityChain } from '../../modules/ActivityLog/verify-chain';
import { Command } from 'commander';
import { createCrm, pluginSettingsFile } from '../app/create-crm';
import { pluginDirs, startPluginHost } from '../app/plugins';
import { createEngine, DEFAULT_DATABASE_URL, type Engine } from '../app/engine';
import { openDatabase } from '../db/connection';
import { formatPlan, planSync, applySync } from '../db/sync';
import { CaneError } from '../errors';
import { createLogger, silentLogger } from '../logger';
import { loadRegistry } from '../metadata/registry';
import { checkMetadata } from '../metadata/metadata-check';
import { showModule } from '../metadata/show-module';
import { RoleAdmin } from '../security/roles';
import { loginPolicyFrom } from '../security/login-policy';
import { LoginThrottle } from '../security/login-throttle';
import { ensureAclActions } from '../security/acl';
import { createUser, setPassword } from '../security/users';
import { randomPassword } from '../security/passwords';
import { OAuth2ClientStore, type ClientGrant } from '../security/oauth2-clients';
import { SmsService } from '../sms/sms-service';
import { SenderThrottle } from '../sms/throttle';
import { launchCampaignFromCli, type CampaignLaunchCliOptions } from '../sms/campaign-cli';
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
    crm.plugins?.startWatching();
    const schedulers = (await crm.engine.schedulers.start()) + (crm.plugins?.startSchedules() ?? 0);
    const port = Number(opts.port ?? process.env.PORT ?? 3000);
    const server = http.createServer(crm.app.callback());
    server.once('error', (err: NodeJS.ErrnoException) => {
      log.error(`cannot listen on port ${port}: ${err.code === 'EADDRINUSE' ? 'another program uses it (choose one with --port or PORT)' : err.message}`);
      process.exit(1);
    });
    server.listen(port, () => {
      // the port bound, which --port 0 leaves to the system
      const bound = (server.address() as AddressInfo).port;
      log.info(`Cane is running on ${crm.engine.db.description} with ${crm.engine.registry.modules.size} modules and ${schedulers} schedulers: http://localhost:${bound}/rest/v10 and /service/v4_1/rest.php`);
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
  .description('load and check all metadata (shipped and CANE_CUSTOM_DIR), summarise it and report relationships naming unknown modules and labels with no string')
  .option('--strict', 'report those problems as errors and exit with status 1')
  .action((opts: { strict?: boolean }) => {
    const warnings: string[] = [];
    const registry = loadRegistry({ warn: (w) => warnings.push(w) });
    for (const m of registry.modules.values()) {
      console.log(`${m.name.padEnd(16)} ${m.table.padEnd(20)} ${String(m.columns.length).padStart(3)} columns ${String(Object.keys(m.links).length).padStart(3)} links${m.audited ? '  audited' : ''}${m.custom ? '  (custom)' : ''}`);
    }
    console.log(`${registry.tables.length} tables, ${registry.relationships.size} relationships`);
    for (const w of warnings) console.log(`note: ${w}`);
    const problems = checkMetadata(registry);
    for (const p of problems) console.log(`${opts.strict ? 'error' : 'warning'}: ${p.message} (${p.rule})`);
    if (problems.length) console.log(`${problems.length} ${opts.strict ? 'errors' : 'warnings'}`);
    if (opts.strict && problems.length) process.exitCode = 1;
  });

program
  .command('metadata:show <module>')
  .description('print one module as merged from shipped files, custom/modules and Extension fragments (vardefs, layouts, strings) as JSON')
  .action((name: string) => {
    console.log(JSON.stringify(showModule(loadRegistry(), name), null, 2));
  });

program
  .command('import:sugar <path>')
  .description("read a SugarCRM/SuiteCRM installation, modules/<Module> folder, custom/ tree or Module Builder package (.zip or its folder; PHP parsed, never run) into Cane's JSON overlay")
  .option('--custom-dir <dir>', 'the overlay folder to write (default CANE_CUSTOM_DIR or ./custom)')
  .option('--dry-run', 'print what would be written, write nothing')
  .action(async (source: string, opts: { customDir?: string; dryRun?: boolean }) => {
    try {
      // Loaded here: the PHP parser is needed by this command only, not at every start.
      const { formatImportReport, importSugarSource } = await import('../import/import-sugar');
      console.log(formatImportReport(await importSugarSource(source, { customDir: opts.customDir ?? process.env.CANE_CUSTOM_DIR, dryRun: opts.dryRun })));
    } catch (e) {
      console.error(`import:sugar: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  });

program
  .command('import <module> <file>')
  .description("import records from a CSV file (Sugar's import: columns mapped by their header, duplicates by name, e-mail or phone)")
  .option('--map <file>', 'a JSON object of column header -> field name (default: suggested from the header)')
  .option('--duplicates <mode>', 'skip, update or create records that match an existing one', 'skip')
  .option('--target-list <id>', 'add everyone imported to this target list')
  .option('--sms-consent', "record SMS consent (opted in, source 'import') for the imported phone numbers")
  .action(async (module: string, file: string, opts: import('../record-import/import-cli').ImportCliOptions) => {
    try {
      const { importFromCli } = await import('../record-import/import-cli');
      await withQuietEngine(async (engine) => console.log(await importFromCli(engine, module, file, opts, (line) => process.stderr.write(line))));
    } catch (e) {
      console.error(`import: ${(e as Error).message}`);
      process.exitCode = 1;
    }
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
    (await import('../record-import/import-job')).registerRecordImportJob(engine);
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
    plugins.startWatching();
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
  .command('sms:rate <segments_per_second>')
  .description("set the SMS sending rate every worker process shares (each sender's, or one with --sender)")
  .option('--sender <from>', 'only this sender (a number or messaging service SID)')
  .action(async (value: string, opts: { sender?: string }) => {
    const rate = Number(value);
    if (!Number.isFinite(rate) || rate <= 0) throw new CaneError('invalid_parameter', `segments_per_second must be a number above 0, got '${value}'`);
    await withQuietEngine(async (engine) => {
      const senders: string[] = opts.sender ? [opts.sender] : await engine.db.knex('cane_sms_rate').pluck('sender');
      const throttle = new SenderThrottle(engine.db, rate);
      for (const sender of senders) await throttle.setRate(sender, rate);
      console.log(senders.length ? `${senders.join(', ')}: ${rate} segments per second` : 'no sender has sent yet; SMS_RATE applies to the first');
    });
  });

program
  .command('campaign:launch <campaign_id>')
  .description('launch an SMS campaign and queue its members here with a progress line (workers send them)')
  .option('--template <template_id>', 'the SMS template to send (default: the one the campaign last sent)')
  .option('--user <user_name>', 'launch as this user (default: the first active administrator)')
  .action(async (campaignId: string, opts: CampaignLaunchCliOptions) => {
    try {
      await withQuietEngine(async (engine) => console.log(await launchCampaignFromCli(engine, campaignId, opts)));
    } catch (e) {
      console.error(`campaign:launch: ${(e as Error).message}`);
      process.exitCode = 1;
    }
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

program
  .command('oauth2:client <name>')
  .description("create an OAuth2 client of SuiteCRM's V8 API (/Api/access_token) and print its id and secret (shown once)")
  .option('--grant <grant>', 'password (users sign in with their own name and password) or client_credentials', 'password')
  .option('--user <user_name>', 'for client_credentials: the user its tokens act as')
  .option('--secret <secret>', 'the client secret (default: generated)')
  .action(async (name: string, opts: { grant: string; user?: string; secret?: string }) => {
    await withQuietEngine(async (engine) => {
      const user = opts.user ? await engine.db.knex('users').where({ user_name: opts.user, deleted: 0 }).first('id') : undefined;
      if (opts.user && !user) throw new CaneError('not_found', `no user named '${opts.user}'`, 404);
      const client = await new OAuth2ClientStore(engine.db, systemClock).create({ name, grant: opts.grant as ClientGrant, assignedUserId: user?.id, secret: opts.secret });
      console.log(`client_id: ${client.id}\nclient_secret: ${client.secret}\ngrant: ${client.allowedGrantType}${user ? ` (acting as ${opts.user})` : ''}`);
    });
  });

const withLoginThrottle = (fn: (throttle: LoginThrottle) => Promise<void>) => withQuietEngine((engine) => fn(new LoginThrottle(engine.db, systemClock, loginPolicyFrom())));

program
  .command('user:locks')
  .description('user names and addresses locked by failed logins, with when each lock ends')
  .option('--all', 'also those with failures still under the cap')
  .action(async (opts: { all?: boolean }) => {
    await withLoginThrottle(async (throttle) => {
      const locks = await throttle.locks(Boolean(opts.all));
      if (!locks.length) console.log(opts.all ? 'no failed logins in the current window' : 'no locks');
      for (const lock of locks) {
        console.log(`${lock.kind} ${lock.subject}: ${lock.failures} failures until ${lock.until} UTC${lock.lastAddress && lock.kind === 'user' ? ` (last from ${lock.lastAddress})` : ''}`);
      }
    });
  });

program
  .command('user:unlock [user_name]')
  .description("clear a user name's failed logins (or an address's, with --address) before the window ends")
  .option('--address <ip>', 'clear the failures counted for this client address')
  .action(async (userName: string | undefined, opts: { address?: string }) => {
    if (!userName && !opts.address) throw new CaneError('invalid_parameter', 'name a user, or an address with --address');
    await withLoginThrottle(async (throttle) => {
      for (const [kind, subject] of [['user', userName], ['address', opts.address]] as const) {
        if (!subject) continue;
        const label = kind === 'user' ? `user ${subject}` : `address ${subject}`;
        console.log(await throttle.unlock(kind, subject) ? `${label} unlocked` : `${label} had no failed logins`);
      }
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

const plugin = program.command('plugin').description('sandboxed plugins: changes reach every running Cane on the database within a few seconds');
/** A plugin host that is not started: its admin changes the database, running processes pick the change up. */
async function withPluginAdmin(fn: (admin: PluginAdmin, engine: Engine) => Promise<void>): Promise<void> {
  await withQuietEngine(async (engine) => {
    const host = new PluginHost(engine, { dirs: pluginDirs(), settings: pluginSettingsFile(process.env.CANE_PLUGIN_SETTINGS) }, silentLogger, systemClock);
    try {
      await fn(host.admin, engine);
    } finally {
      await host.close();
    }
  });
}
plugin.command('list').description('plugins (folders and installed) with permissions, state, faults, backlog and settings').action(async () => {
  await withQuietEngine(async (engine) => {
    const host = await startPluginHost(engine, {}, pluginSettingsFile(process.env.CANE_PLUGIN_SETTINGS), undefined, silentLogger, systemClock);
    try {
      const { loaded, refused } = await host.describe();
      for (const p of loaded) {
        console.log(`${p.id}@${p.version}  ${p.origin}  ${p.enabled ? 'enabled' : 'DISABLED'}${p.origin === 'installed' ? `  (from ${p.source})` : ''}`);
        console.log(`  permissions: ${p.permissions.join(', ') || '(none)'}`);
        for (const h of p.hooks) {
          console.log(`  hook ${h.name} [${h.delivery}]: ${h.enabled ? 'on' : 'switched off'}, ${h.faults} faults${h.lastError ? ` (last: ${h.lastError})` : ''}`);
        }
        const b = p.backlog;
        console.log(`  backlog: ${b.pending} pending, ${b.retrying} retrying${b.oldest ? `, oldest ${b.oldest}` : ''}${b.lastError ? ` (last error: ${b.lastError})` : ''}`);
        const manifest = host.loaded.find((l) => l.manifest.id === p.id)!.manifest;
        if (Object.keys(settingDefs(manifest)).length) console.log(`  settings: ${JSON.stringify(maskedSettings(manifest, host.settingsOf(p.id)))}`);
      }
      for (const r of refused) console.log(`REFUSED ${r.id ?? r.dir}: ${r.problem}`);
    } finally {
      await host.close();
    }
  });
});
plugin.command('install <source>').description('install a plugin folder or .tgz archive into the database (every process loads it)')
  .option('--upgrade', 'replace an installed plugin with another version')
  .action(async (source: string, opts: { upgrade?: boolean }) => {
    await withPluginAdmin(async (admin) => {
      const done = await admin.install(source, { upgrade: opts.upgrade, installedBy: `cli:${process.env.USER ?? 'unknown'}` });
      console.log(done.previous ? `upgraded ${done.id} from ${done.previous} to ${done.version}` : `installed ${done.id}@${done.version}`);
    });
  });
plugin.command('uninstall <plugin_id>').description('remove an installed plugin with its state, settings and undelivered events').action(async (id: string) => {
  await withPluginAdmin(async (admin) => {
    const done = await admin.uninstall(id);
    console.log(`uninstalled ${id}@${done.version}; ${done.discarded} undelivered events discarded`);
  });
});
plugin.command('settings <plugin_id> [values...]').description("show or set a plugin's settings: key=value (checked against its schema); key= goes back to the default").action(async (id: string, values: string[]) => {
  await withPluginAdmin(async (admin) => {
    const { manifest } = await admin.plugin(id);
    const defs = settingDefs(manifest);
    const changes: Record<string, unknown> = {};
    for (const pair of values) {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new CaneError('invalid_parameter', `'${pair}' is not key=value`, 422);
      const name = pair.slice(0, eq);
      const raw = pair.slice(eq + 1);
      changes[name] = raw === '' ? undefined : settingValue(defs[name], raw);
    }
    const settings = values.length ? await admin.saveSettings(id, changes, `cli:${process.env.USER ?? 'unknown'}`) : await admin.settings(id);
    for (const [name, value] of Object.entries(maskedSettings(manifest, settings))) console.log(`${name} = ${JSON.stringify(value)}`);
    if (values.length) console.log(`settings of ${id} saved`);
  });
});
plugin.command('new <name>').description('scaffold a plugin with a test in CANE_PLUGINS_DIR (or --dir)').option('--dir <dir>').action(async (name: string, opts: { dir?: string }) => {
  const { scaffoldPlugin } = await import('../plugins/scaffold');
  const dir = scaffoldPlugin(path.resolve(opts.dir ?? process.env.CANE_PLUGINS_DIR ?? 'cane-plugins'), name);
  console.log(`created ${dir}\nrun its tests with: cane plugin test ${dir}`);
});
plugin.command('test <dir>').description("run a plugin's test/*.test.js against the real runtime")
  .option('--settings <file>', 'a JSON file with the settings the plugin gets (checked against its manifest)')
  .action(async (dir: string, opts: { settings?: string }) => {
  let settings: Record<string, unknown> | undefined;
  if (opts.settings) {
    try {
      settings = JSON.parse(fs.readFileSync(opts.settings, 'utf8'));
    } catch (err) {
      throw new CaneError('bad_settings', `--settings: cannot read ${opts.settings} as JSON: ${(err as Error).message}`, 400);
    }
    if (!settings || typeof settings !== 'object' || Array.isArray(settings)) throw new CaneError('bad_settings', `--settings: ${opts.settings} must hold a JSON object of setting → value`, 400);
  }
  // The developer kit is loaded by this command only, not at every start.
  const [{ pluginTests }, { PluginTestKit }] = await Promise.all([import('../plugins/scaffold'), import('../plugins/test-kit')]);
  let failed = 0;
  let passed = 0;
  for (const { file, cases } of pluginTests(path.resolve(dir))) {
    console.log(path.relative(process.cwd(), file));
    for (const c of cases) {
      let kit: PluginTestKit;
      try {
        kit = await PluginTestKit.create(path.resolve(dir), { settings });
      } catch (err) {
        // A plugin that does not load fails every case the same way: say why once, plainly.
        console.log(`  ✗ ${c.name}\n    ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
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
    await withPluginAdmin(async (admin) => {
      await admin.setEnabled(id, hook ?? '*', enabled);
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
        console.log(`activity log BROKEN at entry ${report.broken!.sequence} (${report.broken!.id}): ${report.broken!.problem}; ${report.entries} entries checked`);
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
