/**
 * bench:sms part 3: status-callback latency through HTTP, Cane's /webhooks/twilio/status beside a
 * bare handler that only checks the signature. Each server runs in its own process (bench/server.ts,
 * BENCH_SERVER=cane with BENCH_SMS=1, and BENCH_SERVER=bare-webhook); this process posts the signed
 * callbacks one after another over one keep-alive connection.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import twilio from 'twilio';
import type { Crm } from '../../core/app/create-crm';
import { SYSTEM } from '../../core/records/actor';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN } from '../../tests/helpers/fake-twilio';
import { httpClient, percentile } from '../http-client';
import { startServerProcess } from '../server-process';
import { numbers } from './numbers';

const FROM = '+15005550006';
const STATUS_PATH = '/webhooks/twilio/status';
const request = httpClient(1);

/** SIDs of `count` sent messages: the ones earlier parts dispatched, and as many more created as accepted when they were fewer. */
async function sentMessageSids(crm: Crm, count: number): Promise<string[]> {
  const rows: Array<{ provider_message_id: string }> = await crm.engine.db.knex('sms').whereNotNull('provider_message_id').limit(count).select('provider_message_id');
  const sids = rows.map((r) => r.provider_message_id);
  for (const to of numbers(count - sids.length, 3_000_000)) {
    const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
    await crm.records.create(SYSTEM, 'SMS', {
      name: 'Callback test', body: 'Callback test', direction: 'outbound', status: 'accepted', to_number: to, from_number: FROM,
      provider: 'twilio', provider_message_id: sid, send_key: `bench-callback:${sid}`, source: 'api',
    }, { systemFields: true });
    sids.push(sid);
  }
  return sids;
}

/** Latencies in ms of one signed status callback per SID, posted sequentially to the server on `port`. */
async function postCallbacks(port: number, publicUrl: string, sids: string[], status: (i: number) => string): Promise<number[]> {
  const timings: number[] = [];
  for (const [i, sid] of sids.entries()) {
    const params = { MessageSid: sid, MessageStatus: status(i), AccountSid: FAKE_ACCOUNT_SID };
    const signature = twilio.getExpectedTwilioSignature(FAKE_AUTH_TOKEN, `${publicUrl}${STATUS_PATH}`, params);
    const start = performance.now();
    const res = await request(port, 'POST', STATUS_PATH, { form: params, headers: { 'x-twilio-signature': signature } });
    timings.push(performance.now() - start);
    if (res.status !== 200) throw new Error(`callback answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return timings.sort((a, b) => a - b);
}

export async function benchCallbacks(kind: string, crm: Crm, databaseUrl: string, count: number, publicUrl: string): Promise<void> {
  const sids = await sentMessageSids(crm, count);
  const server = path.join(__dirname, '..', 'server.ts');
  const twilioEnv = { PUBLIC_URL: publicUrl, TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID, TWILIO_AUTH_TOKEN: FAKE_AUTH_TOKEN };
  const cane = await startServerProcess(server, { ...twilioEnv, BENCH_SERVER: 'cane', BENCH_SMS: '1', DATABASE_URL: databaseUrl, SMS_PROVIDER: 'twilio', TWILIO_FROM: FROM });
  let timings: number[];
  try {
    timings = await postCallbacks(cane.port, publicUrl, sids, (i) => (i % 2 ? 'delivered' : 'sent'));
  } finally {
    await cane.stop();
  }
  const bare = await startServerProcess(server, { ...twilioEnv, BENCH_SERVER: 'bare-webhook' });
  let bareTimings: number[];
  try {
    bareTimings = await postCallbacks(bare.port, publicUrl, sids, () => 'delivered');
  } finally {
    await bare.stop();
  }
  const ms = (sorted: number[], p: number) => percentile(sorted, p).toFixed(2);
  console.log(`[${kind}] status callback (${sids.length}, sequential; Cane, the bare handler and this process in separate processes): p50 ${ms(timings, 0.5)} ms, p99 ${ms(timings, 0.99)} ms vs bare signature check p50 ${ms(bareTimings, 0.5)} ms, p99 ${ms(bareTimings, 0.99)} ms (p99 ratio ${(percentile(timings, 0.99) / percentile(bareTimings, 0.99)).toFixed(2)})`);
}
