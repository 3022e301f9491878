/**
 * The servers under test for bench:load, each in its own process. BENCH_SERVER=cane: Cane on
 * DATABASE_URL (admin password 'bench-admin'). BENCH_SERVER=bare: the baseline, a bare node:http
 * handler that reads one Account row by id with knex on the same database. Prints
 * `listening <port>`; stops when its parent closes stdin.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCrm } from '../../core/app/create-crm';
import { openDatabase } from '../../core/db/connection';
import { silentLogger } from '../../core/logger';

async function cane(): Promise<{ handler: http.RequestListener; close: () => Promise<void> }> {
  const crm = await createCrm({ databaseUrl: process.env.DATABASE_URL, logger: silentLogger, customDir: '/nonexistent', adminPassword: 'bench-admin', secret: 'bench-secret', sms: false, plugins: false });
  return { handler: crm.app.callback(), close: () => crm.close() };
}

function bare(): { handler: http.RequestListener; close: () => Promise<void> } {
  const db = openDatabase(process.env.DATABASE_URL!);
  const handler: http.RequestListener = (req, res) => {
    const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    db.knex('accounts').where({ id, deleted: 0 }).first().then((row) => {
      res.writeHead(row ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(row ?? { error: 'not_found' }));
    }, (err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  };
  return { handler, close: () => db.close() };
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
