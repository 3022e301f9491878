/**
 * The baseline for the dispatch benchmark, in its own process: the bare twilio client (through
 * Cane's provider wrapper, nothing else) sending BARE_MESSAGES messages to FAKE_TWILIO_URL with
 * BARE_CONCURRENCY requests in flight, as fast as it can.
 */
import { TwilioProvider } from '../../core/sms/providers/twilio';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN } from '../../tests/helpers/fake-twilio';
import { numbers } from './numbers';

async function main() {
  const count = Number(process.env.BARE_MESSAGES);
  const concurrency = Number(process.env.BARE_CONCURRENCY ?? 16);
  const provider = new TwilioProvider({ accountSid: FAKE_ACCOUNT_SID, authToken: FAKE_AUTH_TOKEN, from: '+15005550006', apiBaseUrl: process.env.FAKE_TWILIO_URL });
  const targets = numbers(count, 3_000_000);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < targets.length) await provider.send({ to: targets[next++], body: 'Benchmark message one', attempt: 1, statusCallback: 'https://crm.bench.test/webhooks/twilio/status' });
  }));
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
