/**
 * The servers under test for the HTTP benchmarks, each in its own process. BENCH_SERVER=cane: Cane
 * on DATABASE_URL (admin password 'bench-admin'). BENCH_SERVER=bare: the baseline, a bare Koa app
 * running the same knex queries on the same database for each request the benchmarks time:
 *   GET  /accounts/:id                      one Account row (v10 GET record, v4_1 get_entry)
 *   GET  /accounts?industry=X&fields=a,b    a filtered page of 20 sorted by name (v10 list, v4_1 get_entry_list)
 *   POST /accounts/:id                      an update of the posted columns (v4_1 set_entry)
 * Prints `listening <port>`; stops when its parent closes stdin.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createCrm } from '../core/app/create-crm';
import { openDatabase } from '../core/db/connection';
import { silentLogger } from '../core/logger';

async function cane(): Promise<{ handler: http.RequestListener; close: () => Promise<void> }> {
  const crm = await createCrm({ databaseUrl: process.env.DATABASE_URL, logger: silentLogger, customDir: '/nonexistent', adminPassword: 'bench-admin', secret: 'bench-secret', sms: false, plugins: false });
  return { handler: crm.app.callback(), close: () => crm.close() };
}

function bare(): { handler: http.RequestListener; close: () => Promise<void> } {
  const db = openDatabase(process.env.DATABASE_URL!);
  const knex = db.knex;
  const app = new Koa();
  app.use(async (ctx) => {
    const id = /^\/accounts\/([^/]+)$/.exec(ctx.path)?.[1];
    if (id && ctx.method === 'GET') {
      const row = await knex('accounts').where({ id, deleted: 0 }).first();
      ctx.status = row ? 200 : 404;
      ctx.body = row ?? { error: 'not_found' };
    } else if (id && ctx.method === 'POST') {
      let text = '';
      for await (const chunk of ctx.req) text += chunk;
      const changes = JSON.parse(text) as Record<string, unknown>;
      await knex('accounts').where({ id, deleted: 0 }).update({ ...changes, date_modified: new Date().toISOString().slice(0, 19).replace('T', ' ') });
      ctx.body = { id };
    } else if (ctx.path === '/accounts') {
      const fields = String(ctx.query.fields ?? '').split(',').filter(Boolean);
      const query = knex('accounts').where({ deleted: 0, industry: String(ctx.query.industry) }).orderBy('name').orderBy('id').limit(21);
      if (fields.length) query.select(['id', ...fields]);
      ctx.body = { records: await query };
    } else {
      ctx.status = 404;
    }
  });
  return { handler: app.callback(), close: () => db.close() };
}

async function main() {
  const { handler, close } = process.env.BENCH_SERVER === 'bare' ? bare() : await cane();
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
  process.stdin.on('end', () => {
    server.close();
    void close().then(() => process.exit(0));
  });
  process.stdin.resume();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
