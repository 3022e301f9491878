/**
 * SMS benchmark, on SQLite and (with CANE_TEST_MYSQL_URL or a mysql DATABASE_URL) MariaDB:
 *  1. messages per second from a worker process to the fake Twilio (in this process) with throttling
 *     off, beside the bare twilio client in its own process sending as many with the same concurrency;
 *  2. the rate held against a configured limit (BENCH_SMS_RATE segments/s for BENCH_SMS_SECONDS);
 *  3. status-callback handling latency through HTTP, beside a bare signature-checking handler, each
 *     server in its own process (bench/sms/callbacks.ts);
 *  4. a campaign launch: time to queue BENCH_SMS_MEMBERS target-list members, members per second and
 *     RSS growth, beside a bulk send of other records (bench/sms/launch.ts).
 *
 *   npm run bench:sms      (BENCH_SMS_MESSAGES=2000, BENCH_SMS_RATE=50, BENCH_SMS_SECONDS=30, BENCH_SMS_MEMBERS=2000,
 *                           BENCH_SMS_PARTS=dispatch,rate,callbacks,launch, BENCH_SMS_ON=sqlite|mysql)
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createCrm } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';
import { SYSTEM } from '../../core/records/actor';
import { TwilioProvider } from '../../core/sms/providers/twilio';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio } from '../../tests/helpers/fake-twilio';
import { scratchDatabase } from '../scratch-database';
import { benchCallbacks } from './callbacks';
import { benchLaunch, numbers } from './launch';

const MESSAGES = Number(process.env.BENCH_SMS_MESSAGES ?? 2000);
const RATE = Number(process.env.BENCH_SMS_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_SMS_SECONDS ?? 30);
const CALLBACKS = Number(process.env.BENCH_SMS_CALLBACKS ?? 1000);
const MEMBERS = Number(process.env.BENCH_SMS_MEMBERS ?? 2000);
const CONCURRENCY = 16;
/** Which parts to run (comma-separated): dispatch, rate, callbacks, launch; default all. */
const parts = new Set((process.env.BENCH_SMS_PARTS ?? 'dispatch,rate,callbacks,launch').split(',').map((p) => p.trim()));
const PUBLIC_URL = 'http://crm.bench.test';

const worker = path.join(__dirname, '..', '..', 'tests', 'fixtures', 'sms-crash-worker.ts');

function runChild(script: string, args: string[], env: Record<string, string>): Promise<void> {
  // BENCH_PROFILE=<dir>: the worker process writes a V8 CPU profile there.
  const profile = process.env.BENCH_PROFILE && script === worker ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(script)} exited with ${code}`)))));
}

/** Messages per second between the first and the last of `count` new arrivals at the fake while `run` runs (start-up not counted). */
async function arrivals(fake: FakeTwilio, count: number, run: () => Promise<void>): Promise<number> {
  const before = fake.messages.length;
  await run();
  const stamps = fake.messages.slice(before).map((m) => m.dateCreated.getTime());
  if (stamps.length < count) throw new Error(`only ${stamps.length} of ${count} messages arrived`);
  return ((stamps.length - 1) * 1000) / (Math.max(...stamps) - Math.min(...stamps));
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
/** Valid US numbers (exchange 200–999), distinct per offset. */

async function until(done: () => Promise<boolean>, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(kind: string) {
  const scratch = await scratchDatabase('sms');
  const fake = await FakeTwilio.start();
  const crm = await createCrm({
    database: scratch.db, logger: silentLogger, customDir: '/nonexistent', adminPassword: 'bench-admin-pw', plugins: false, publicUrl: PUBLIC_URL,
    sms: { config: { provider: 'twilio', accountSid: FAKE_ACCOUNT_SID, authToken: FAKE_AUTH_TOKEN, from: '+15005550006', apiBaseUrl: fake.url, rate: 0 }, reconcileDelaySeconds: 5 },
  });
  const sms = crm.sms!;
  const knex = crm.engine.db.knex;
  try {
    // 1. throughput, throttling off: a `work` process dispatching what this one queued, against the
    // bare twilio client in another process; both counted where they arrive (the fake, here).
    if (parts.has('dispatch')) {
    const enqueueStart = performance.now();
    const targets = numbers(MESSAGES, 0);
    for (let i = 0; i < targets.length; i += 500) {
      const result = await sms.send(SYSTEM, { to: targets.slice(i, i + 500), body: 'Benchmark message {{#if true}}one{{/if}}' }, 'api');
      if (result.refused.length) throw new Error(`refused: ${result.refused[0].reason}`);
    }
    const enqueueMs = performance.now() - enqueueStart;
    const cane = await arrivals(fake, MESSAGES, () => runChild(worker, ['work'], { DATABASE_URL: scratch.url, FAKE_TWILIO_URL: fake.url, SMS_RATE: '0', WORKER_CONCURRENCY: String(CONCURRENCY) }));
    if (Number((await knex('sms').where('status', 'accepted').count({ n: '*' }).first())?.n) !== MESSAGES) throw new Error('not every message was accepted');
    // Batches put up to (slots - 1) × batch requests in flight, so the baseline is the bare client at its best of several concurrencies.
    const bareRuns: Array<[number, number]> = [];
    for (const concurrency of [CONCURRENCY, 64, 256]) {
      bareRuns.push([concurrency, await arrivals(fake, MESSAGES, () => runChild(path.join(__dirname, 'bare-twilio.ts'), [], { FAKE_TWILIO_URL: fake.url, BARE_MESSAGES: String(MESSAGES), BARE_CONCURRENCY: String(concurrency) }))]);
    }
    const [bareConcurrency, bare] = bareRuns.reduce((best, run) => (run[1] > best[1] ? run : best));
    console.log(`[${kind}] enqueue ${MESSAGES}: ${fmt((MESSAGES / enqueueMs) * 1000, 0)} msg/s (checks, render, SMS row, job row; in this process)`);
    console.log(`[${kind}] dispatch, throttling off, a worker process with ${CONCURRENCY} slots (SMS_DISPATCH_BATCH ${process.env.SMS_DISPATCH_BATCH ?? 50}): ${fmt(cane, 0)} msg/s vs the bare twilio client in its own process ${fmt(bare, 0)} msg/s at its best (${bareConcurrency} in flight; ${bareRuns.map(([c, r]) => `${c}: ${fmt(r, 0)}`).join(', ')}) (ratio ${fmt(cane / bare, 2)}); the fake Twilio runs in this process`);
    }

    // 2. the rate held against a limit (a fresh service with throttling on, same database)
    await crm.close();
    const throttled = await createCrm({
      database: scratch.db, logger: silentLogger, customDir: '/nonexistent', adminPassword: 'bench-admin-pw', plugins: false, publicUrl: PUBLIC_URL,
      sms: { config: { provider: 'twilio', accountSid: FAKE_ACCOUNT_SID, authToken: FAKE_AUTH_TOKEN, from: '+15005550006', apiBaseUrl: fake.url, rate: RATE }, reconcileDelaySeconds: 5 },
    });
    if (parts.has('rate')) {
    const count = RATE * SECONDS;
    const before = fake.messages.length;
    const rateTargets = numbers(count, 1_500_000);
    for (let i = 0; i < rateTargets.length; i += 500) await throttled.sms!.send(SYSTEM, { to: rateTargets.slice(i, i + 500), body: 'Rate test' }, 'api');
    throttled.engine.jobs.start(5, CONCURRENCY);
    await until(async () => fake.messages.length - before >= count, (SECONDS + 120) * 1000);
    await throttled.engine.jobs.stop();
    const stamps = fake.messages.slice(before).map((m) => m.dateCreated.getTime()).sort((a, b) => a - b);
    const elapsed = (stamps[stamps.length - 1] - stamps[0]) / 1000;
    const achieved = (stamps.length - 1) / elapsed;
    const perSecond: number[] = [];
    for (let s = stamps[0]; s + 1000 <= stamps[stamps.length - 1]; s += 1000) perSecond.push(stamps.filter((t) => t >= s && t < s + 1000).length);
    const worst = Math.max(...perSecond.map((n) => Math.abs(n - RATE)));
    console.log(`[${kind}] throttled at ${RATE} segments/s for ${count} messages: held ${fmt(achieved, 2)}/s over ${fmt(elapsed)} s (deviation ${fmt(((achieved - RATE) / RATE) * 100, 2)}%); per-second counts min ${Math.min(...perSecond)} max ${Math.max(...perSecond)}, worst second off by ${worst}`);
    }

    // 3. status callbacks through HTTP vs a bare handler that only checks the signature (bench/sms/callbacks.ts)
    if (parts.has('callbacks')) await benchCallbacks(kind, throttled, scratch.url, CALLBACKS, PUBLIC_URL);

    // 4. campaign launch: members queued per second and RSS growth, beside a bulk send
    if (parts.has('launch')) await benchLaunch(kind, throttled, MEMBERS);
    await throttled.close();
  } finally {
    await fake.close();
    await scratch.cleanup();
  }
}

async function main() {
  const mysql = process.env.DATABASE_URL?.startsWith('mysql') ? process.env.DATABASE_URL : process.env.CANE_TEST_MYSQL_URL;
  delete process.env.DATABASE_URL;
  // BENCH_SMS_ON=mysql: MariaDB only (BENCH_SMS_ON=sqlite: SQLite only).
  const on = process.env.BENCH_SMS_ON;
  if (on !== 'mysql') await run('sqlite');
  if (on === 'sqlite') return;
  if (mysql) {
    process.env.DATABASE_URL = mysql;
    await run('mysql');
  } else {
    console.log('(set CANE_TEST_MYSQL_URL to run on MariaDB too)');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
