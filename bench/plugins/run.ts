/**
 * Plugin benchmark: added latency per save with 0, 1 and 3 before_save plugins in the sandbox,
 * and the cost of one host call, beside the same hooks as plain in-process functions, in one run.
 *
 *   npm run bench:plugins            (BENCH_SAVES=300 by default)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type Engine } from '../../core/app/engine';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { PluginHost } from '../../core/plugins/plugin-host';
import { scratchDatabase } from '../scratch-database';

const SAVES = Number(process.env.BENCH_SAVES ?? 300);

const HOOK_BODY = `const r = ctx.event.record; if (typeof r.ticker_symbol === 'string' && r.ticker_symbol !== r.ticker_symbol.toUpperCase()) return { patch: { ticker_symbol: r.ticker_symbol.toUpperCase() } };`;
const HOST_CALL_BODY = `if (ctx.event.isUpdate) await ctx.crm.records.get('Accounts', ctx.event.record.id);`;

function pluginFolder(count: number, withHostCall: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cane-bench-plugins-'));
  for (let i = 0; i < count; i++) {
    const id = `bench.plugin${i}`;
    fs.mkdirSync(path.join(dir, id));
    fs.writeFileSync(path.join(dir, id, 'plugin.json'), JSON.stringify({ id, name: id, version: '1.0.0', apiVersion: 1, entry: 'index.js', hooks: [{ module: 'Accounts', event: 'before_save', handler: 'h' }], permissions: ['read:Accounts', 'write:Accounts#ticker_symbol'] }));
    fs.writeFileSync(path.join(dir, id, 'index.js'), `definePlugin({ hooks: { async h(ctx) { ${withHostCall ? HOST_CALL_BODY : ''} ${HOOK_BODY} } } });`);
  }
  return dir;
}

function inProcess(engine: Engine, count: number, withHostCall: boolean) {
  for (let i = 0; i < count; i++) {
    engine.hooks.register('Accounts', { event: 'before_save', order: 10, label: `plain ${i}`, handler: async (bean, _event, args) => {
      if (withHostCall && args.isUpdate) await engine.records.retrieve(SYSTEM, 'Accounts', String(bean.id));
      if (typeof bean.ticker_symbol === 'string' && bean.ticker_symbol !== bean.ticker_symbol.toUpperCase()) bean.ticker_symbol = bean.ticker_symbol.toUpperCase();
    } });
  }
}

async function scenario(label: string, setup: (engine: Engine) => Promise<PluginHost | void>): Promise<{ label: string; p50: number; p99: number; mean: number }> {
  const { db, cleanup } = await scratchDatabase('bench_plugins');
  const engine = await createEngine({ database: db, logger: silentLogger, customDir: '/nonexistent' });
  const host = await setup(engine);
  try {
    const account = await engine.records.create(SYSTEM, 'Accounts', { name: 'Bench', ticker_symbol: 'abc' });
    for (let i = 0; i < 20; i++) await engine.records.update(SYSTEM, 'Accounts', account.id, { description: `warm ${i}` });
    const samples: number[] = [];
    for (let i = 0; i < SAVES; i++) {
      const start = process.hrtime.bigint();
      await engine.records.update(SYSTEM, 'Accounts', account.id, { description: `save ${i}`, ticker_symbol: i % 2 ? 'abc' : 'ABC' });
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);
    return { label, p50: samples[Math.floor(samples.length / 2)], p99: samples[Math.floor(samples.length * 0.99)], mean: samples.reduce((a, b) => a + b, 0) / samples.length };
  } finally {
    if (host) await host.close();
    await engine.close();
    await cleanup();
  }
}

async function main() {
  const sandbox = (count: number, hostCall = false) => async (engine: Engine) => {
    const host = new PluginHost(engine, { dirs: [{ dir: pluginFolder(count, hostCall), builtIn: false }] }, silentLogger, () => new Date());
    await host.start();
    return host;
  };
  const plain = (count: number, hostCall = false) => async (engine: Engine) => { inProcess(engine, count, hostCall); };
  const results = [
    await scenario('no hooks', async () => undefined),
    await scenario('1 in-process hook', plain(1)),
    await scenario('1 sandboxed plugin', sandbox(1)),
    await scenario('3 in-process hooks', plain(3)),
    await scenario('3 sandboxed plugins', sandbox(3)),
    await scenario('1 in-process hook + 1 read', plain(1, true)),
    await scenario('1 sandboxed plugin + 1 host call', sandbox(1, true)),
  ];
  const base = results[0].p50;
  console.log(`plugin benchmark: ${SAVES} saves of an Account per scenario (SQLite); added = p50 minus the no-hook p50`);
  for (const r of results) console.log(`${r.label.padEnd(34)} p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  added ${(r.p50 - base).toFixed(3)} ms`);
  const hostCall = results[6].p50 - results[2].p50;
  const plainRead = results[5].p50 - results[1].p50;
  console.log(`one host call (sandbox, via the runner) ${hostCall.toFixed(3)} ms beside the same read in-process ${plainRead.toFixed(3)} ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
