import http from 'node:http';
import { Command } from 'commander';
import { createEngine, DEFAULT_DATABASE_URL } from '../app/engine';
import { loadDemoData } from '../app/demo-data';
import { openDatabase } from '../db/connection';
import { formatPlan, planSync, applySync } from '../db/sync';
import { CaneError } from '../errors';
import { createHttpApp } from '../http/health';
import { createLogger } from '../logger';
import { loadRegistry } from '../metadata/registry';

const program = new Command();
program.name('cane').description('Cane: an embeddable, SugarCRM-compatible CRM').version('0.1.0');

const databaseUrl = () => process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;

program
  .command('start')
  .description('sync the schema, run the job queue and schedulers, and serve HTTP')
  .option('--demo', 'load demo data into an empty database')
  .option('-p, --port <port>', 'port (default PORT or 3000)')
  .action(async (opts: { demo?: boolean; port?: string }) => {
    const log = createLogger();
    const engine = await createEngine({ databaseUrl: databaseUrl(), logger: log });
    if (engine.syncPlan?.steps.length) log.info(`schema sync: ${engine.syncPlan.steps.length} changes applied`);
    if (opts.demo) log.info(`demo data: ${await loadDemoData(engine)} records created`);
    engine.jobs.start();
    const schedulers = await engine.schedulers.start();
    const port = Number(opts.port ?? process.env.PORT ?? 3000);
    const server = http.createServer(createHttpApp(engine).callback());
    server.listen(port, () => {
      log.info(`Cane is running on ${engine.db.description} with ${engine.registry.modules.size} modules and ${schedulers} schedulers: http://localhost:${port}/health`);
    });
    const shutdown = async () => {
      server.close();
      await engine.close();
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
      console.log(`${m.name.padEnd(16)} ${m.table.padEnd(16)} ${String(m.columns.length).padStart(3)} columns ${String(Object.keys(m.links).length).padStart(3)} links${m.audited ? '  audited' : ''}${m.custom ? '  (custom)' : ''}`);
    }
    console.log(`${registry.tables.length} tables, ${registry.relationships.size} relationships`);
    for (const w of warnings) console.log(`note: ${w}`);
  });

program
  .command('jobs:work')
  .description('run the job queue worker (and schedulers) without the HTTP server')
  .option('--once', 'run due jobs once and exit')
  .action(async (opts: { once?: boolean }) => {
    const engine = await createEngine({ databaseUrl: databaseUrl() });
    if (opts.once) {
      console.log(`${await engine.jobs.runOnce(100)} jobs run`);
      await engine.close();
      return;
    }
    await engine.schedulers.start();
    engine.jobs.start();
    process.once('SIGINT', () => void engine.close().then(() => process.exit(0)));
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CaneError) {
    console.error(`cane: ${err.message}`);
  } else {
    console.error(err);
  }
  process.exit(1);
});
