/**
 * The server under test for bench:plugins, in its own process: Cane on DATABASE_URL with
 * BENCH_PLUGINS sandboxed before_save plugins on Accounts (each upper-cases ticker_symbol; with
 * BENCH_HOST_CALL=1 each also reads the record through a host call). Prints `listening <port>`;
 * stops when its parent closes stdin.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createCrm } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';

const HOOK_BODY = `const r = ctx.event.record; if (typeof r.ticker_symbol === 'string' && r.ticker_symbol !== r.ticker_symbol.toUpperCase()) return { patch: { ticker_symbol: r.ticker_symbol.toUpperCase() } };`;
const HOST_CALL_BODY = `if (ctx.event.isUpdate) await ctx.crm.records.get('Accounts', ctx.event.record.id);`;

function pluginFolder(count: number, withHostCall: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-bench-plugins-'));
  for (let i = 0; i < count; i++) {
    const id = `bench.plugin${i}`;
    fs.mkdirSync(path.join(dir, id));
    fs.writeFileSync(path.join(dir, id, 'plugin.json'), JSON.stringify({ id, name: id, version: '1.0.0', apiVersion: 1, entry: 'index.js', hooks: [{ module: 'Accounts', event: 'before_save', handler: 'h', priority: i }], permissions: ['read:Accounts', 'write:Accounts#ticker_symbol'] }));
    fs.writeFileSync(path.join(dir, id, 'index.js'), `definePlugin({ hooks: { async h(ctx) { ${withHostCall ? HOST_CALL_BODY : ''} ${HOOK_BODY} } } });`);
  }
  return dir;
}

async function main() {
  const count = Number(process.env.BENCH_PLUGINS ?? 0);
  const crm = await createCrm({
    databaseUrl: process.env.DATABASE_URL, logger: silentLogger, customDir: '/nonexistent', adminPassword: 'bench-admin', secret: 'bench-secret', sms: false,
    plugins: count ? { dirs: [{ dir: pluginFolder(count, process.env.BENCH_HOST_CALL === '1'), builtIn: false }] } : false,
  });
  const server = http.createServer(crm.app.callback());
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
  process.stdin.on('end', () => {
    server.close();
    void crm.close().then(() => process.exit(0));
  });
  process.stdin.resume();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
