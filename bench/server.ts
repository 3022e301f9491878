/**
 * The servers under test for the HTTP benchmarks, each in its own process. BENCH_SERVER=cane: Cane
 * on DATABASE_URL (admin password 'bench-admin'); with BENCH_SMS=1 its SMS module is on, configured
 * by the usual SMS_PROVIDER, TWILIO_* and PUBLIC_URL variables. BENCH_SERVER=bare: the baseline, a
 * bare Koa app running the same knex queries on the same database for each request the benchmarks time:
 *   GET  /accounts/:id                      one Account row (v10 GET record, v4_1 get_entry)
 *   GET  /accounts?industry=X&fields=a,b    a filtered page of 20 sorted by name (v10 list, v4_1 get_entry_list)
 *   POST /accounts/:id                      an update of the posted columns (v4_1 set_entry)
 * BENCH_SERVER=bare-webhook: a bare http handler that only checks a Twilio webhook's signature
 * (TWILIO_AUTH_TOKEN, PUBLIC_URL + path) and answers 200 or 403.
 * Prints `listening <port>`; stops when its parent closes stdin.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import twilio from 'twilio';
import { createCrm } from '../core/app/create-crm';
import { openDatabase } from '../core/db/connection';
import { silentLogger } from '../core/logger';

async function cane(): Promise<{ handler: http.RequestListener; close: () => Promise<void> }> {
  const sms = process.env.BENCH_SMS === '1' ? {} : false;
  const crm = await createCrm({ databaseUrl: process.env.DATABASE_URL, logger: silentLogger, customDir: '/nonexistent', adminPassword: 'bench-admin', secret: 'bench-secret', sms, plugins: false });
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

function bareWebhook(): { handler: http.RequestListener; close: () => Promise<void> } {
  const token = process.env.TWILIO_AUTH_TOKEN!;
  const publicUrl = process.env.PUBLIC_URL!;
  const handler: http.RequestListener = (req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const ok = twilio.validateRequest(token, String(req.headers['x-twilio-signature']), `${publicUrl}${req.url}`, params);
      res.writeHead(ok ? 200 : 403).end();
    });
  };
  return { handler, close: async () => {} };
}

const servers: Record<string, () => Promise<{ handler: http.RequestListener; close: () => Promise<void> }>> = {
  cane,
  bare: async () => bare(),
  'bare-webhook': async () => bareWebhook(),
};

async function main() {
  const name = process.env.BENCH_SERVER ?? 'cane';
  if (!servers[name]) throw new Error(`BENCH_SERVER must be one of ${Object.keys(servers).join(', ')}, not '${name}'`);
  const { handler, close } = await servers[name]();
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
