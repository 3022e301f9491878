import { createCrm, type Crm, type CrmOptions } from '../../core/app/create-crm';
import { silentLogger } from '../../core/logger';
import type { SmsConfig } from '../../core/sms/config';
import type { SmsServiceOptions } from '../../core/sms/sms-service';
import { client, startServer, type TestServer } from './crm';
import { describeEachKind } from './databases';
import { FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio } from './fake-twilio';

export const PUBLIC_URL = 'http://crm.example.test';
export const FROM = '+15005550006';

export interface SmsTestBed {
  server: TestServer;
  crm: Crm;
  fake: FakeTwilio;
  token: string;
  /** Runs due jobs until none is left (dispatch, retries, reconciliation). */
  drain(): Promise<number>;
}

export function twilioConfig(fake: FakeTwilio, extra: Partial<SmsConfig> = {}): Partial<SmsConfig> {
  return { provider: 'twilio', accountSid: FAKE_ACCOUNT_SID, authToken: FAKE_AUTH_TOKEN, from: FROM, apiBaseUrl: fake.url, rate: 0, retryDelaySeconds: 0, defaultRegion: 'US', ...extra };
}

/** describe() once per database with a demo Cane whose real twilio client talks to a local fake Twilio. */
export function describeSms(title: string, body: (get: () => SmsTestBed) => void, options: Partial<CrmOptions> = {}, config: Partial<SmsConfig> = {}, service: Omit<SmsServiceOptions, 'config'> = {}): void {
  describeEachKind(title, async (db) => {
    const fake = await FakeTwilio.start();
    const crm = await createCrm({
      database: db, customDir: '/nonexistent', logger: silentLogger, adminPassword: 'secret-admin', secret: 'test-secret', demo: true,
      plugins: false, publicUrl: PUBLIC_URL,
      sms: { config: twilioConfig(fake, config), reconcileDelaySeconds: 0, ...service }, ...options,
    });
    const listening = await startServer(crm);
    const server = client(crm, listening.url);
    const token = await server.login('admin', 'secret-admin');
    const drain = async () => {
      let total = 0;
      for (let i = 0; i < 100; i++) {
        // Plugin events first: a plugin's sms.send queues dispatch jobs.
        const ran = (await crm.plugins?.drain() ?? 0) + (await crm.engine.jobs.runOnce(50));
        total += ran;
        if (!ran) break;
      }
      return total;
    };
    return { value: { server, crm, fake, token, drain }, stop: async () => { await listening.close(); await crm.close(); await fake.close(); } };
  }, body);
}
