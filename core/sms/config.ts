import type { HttpClient } from './providers/twilio';

/** SMS settings, from createCrm's `sms` option or the environment. */
import { isTimeZone } from '../records/time';
import { parseSendingHours, type SendingHours } from './sending-hours';

/**
 * Due messages a worker claims and sends together by default. At most 64 are in flight to Twilio
 * at once whatever the batch (the provider's connection pool); a bigger batch means fewer claims
 * and status writes per message (MariaDB, bench:sms: 50 gave 0.64-0.68 of the bare client, 100
 * gave 0.78-0.82), and more messages to look up at Twilio after a crash.
 */
export const DEFAULT_DISPATCH_BATCH = 100;

export interface SmsConfig {
  /** 'twilio' or 'outbox' (nothing leaves the machine). Default: twilio when its credentials are set, else outbox. */
  provider: 'twilio' | 'outbox';
  accountSid?: string;
  /** Also verifies webhooks, whichever provider sends. */
  authToken?: string;
  from?: string;
  messagingServiceSid?: string;
  /** Region for numbers typed without a country code (ISO 3166 alpha-2). */
  defaultRegion: string;
  /** Segments per second per sender; 0 turns throttling off. */
  rate: number;
  /** Due messages a worker claims and sends together (SMS_DISPATCH_BATCH, default 50; 1 sends one by one). */
  dispatchBatch: number;
  /** Public base URL Twilio calls back (webhook signatures are checked against it). */
  publicUrl?: string;
  /** Another origin for Twilio's API (a proxy or a local fake); requests keep their paths. */
  apiBaseUrl?: string;
  /** A custom transport for the twilio client (takes precedence over apiBaseUrl). */
  httpClient?: HttpClient;
  /** Provider calls per message before it is given up (transient errors and back-pressure). */
  maxAttempts: number;
  /** Seconds before the first retry of a transient failure; doubles each time. */
  retryDelaySeconds: number;
  /** Minutes before an undelivered message with a transient carrier error (30003, 30008) is sent again; 0 never. */
  undeliveredRetryMinutes: number;
  /** Automatic re-sends of such a message. */
  undeliveredRetries: number;
  /** At most `messages` campaign and workflow messages per number in `days` days (SMS_FREQUENCY_CAP, e.g. '1/7d'); none by default. */
  frequencyCap?: { messages: number; days: number };
  /** Price of one segment for campaign estimates (SMS_SEGMENT_PRICE, in SMS_PRICE_UNIT, default USD); no estimate without it. */
  segmentPrice?: { amount: number; unit: string };
  /** Campaign and workflow messages go out only in these hours of the recipient's day (SMS_SENDING_HOURS, SMS_TIMEZONE); any time by default. */
  sendingHours?: SendingHours;
}

type Env = Record<string, string | undefined>;

export function smsConfigFrom(options: Partial<SmsConfig> = {}, env: Env = process.env): SmsConfig {
  const accountSid = options.accountSid ?? env.TWILIO_ACCOUNT_SID;
  const authToken = options.authToken ?? env.TWILIO_AUTH_TOKEN;
  const requested = options.provider ?? (env.SMS_PROVIDER as SmsConfig['provider'] | undefined);
  if (requested && requested !== 'twilio' && requested !== 'outbox') throw new Error(`SMS_PROVIDER must be 'twilio' or 'outbox', not '${String(requested)}'`);
  const provider = requested ?? (accountSid && authToken ? 'twilio' : 'outbox');
  const config: SmsConfig = {
    provider,
    accountSid,
    authToken,
    from: options.from ?? env.TWILIO_FROM,
    messagingServiceSid: options.messagingServiceSid ?? env.TWILIO_MESSAGING_SERVICE_SID,
    defaultRegion: (options.defaultRegion ?? env.SMS_DEFAULT_REGION ?? 'US').toUpperCase(),
    rate: options.rate ?? number(env.SMS_RATE, 'SMS_RATE', 1),
    dispatchBatch: Math.max(1, Math.floor(options.dispatchBatch ?? number(env.SMS_DISPATCH_BATCH, 'SMS_DISPATCH_BATCH', DEFAULT_DISPATCH_BATCH))),
    publicUrl: (options.publicUrl ?? env.PUBLIC_URL)?.replace(/\/+$/, ''),
    apiBaseUrl: options.apiBaseUrl ?? env.TWILIO_API_BASE_URL,
    httpClient: options.httpClient,
    maxAttempts: options.maxAttempts ?? 6,
    retryDelaySeconds: options.retryDelaySeconds ?? 30,
    undeliveredRetryMinutes: options.undeliveredRetryMinutes ?? number(env.SMS_UNDELIVERED_RETRY_MINUTES, 'SMS_UNDELIVERED_RETRY_MINUTES', 30),
    undeliveredRetries: options.undeliveredRetries ?? 1,
    frequencyCap: options.frequencyCap ?? frequencyCap(env.SMS_FREQUENCY_CAP),
    sendingHours: options.sendingHours ?? sendingHours(env.SMS_SENDING_HOURS, env.SMS_TIMEZONE ?? env.CANE_TIMEZONE),
    segmentPrice: options.segmentPrice ?? (env.SMS_SEGMENT_PRICE ? { amount: number(env.SMS_SEGMENT_PRICE, 'SMS_SEGMENT_PRICE', 0), unit: (env.SMS_PRICE_UNIT ?? 'USD').toUpperCase() } : undefined),
  };
  if (provider === 'twilio') {
    const missing = [!accountSid && 'TWILIO_ACCOUNT_SID', !authToken && 'TWILIO_AUTH_TOKEN', !config.from && !config.messagingServiceSid && 'TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID'].filter(Boolean);
    if (missing.length) throw new Error(`SMS_PROVIDER=twilio needs ${missing.join(', ')}`);
    if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid!)) throw new Error('TWILIO_ACCOUNT_SID must be AC followed by 32 hexadecimal characters');
  }
  if (!/^[A-Z]{2}$/.test(config.defaultRegion)) throw new Error(`SMS_DEFAULT_REGION must be a two-letter country code, not '${config.defaultRegion}'`);
  return config;
}

function number(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of at least 0, not '${raw}'`);
  return n;
}

/** 'N/Dd': N messages per D days. */
function frequencyCap(raw: string | undefined): SmsConfig['frequencyCap'] {
  if (raw === undefined || raw.trim() === '') return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*d\s*$/.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`SMS_FREQUENCY_CAP must look like '1/7d' (messages per days), not '${raw}'`);
  return { messages: Number(m[1]), days: Number(m[2]) };
}

function sendingHours(raw: string | undefined, zone: string | undefined): SendingHours | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const window = parseSendingHours(raw);
  if (typeof window === 'string') throw new Error(`SMS_SENDING_HOURS ${window}`);
  const defaultZone = zone?.trim() || 'UTC';
  if (!isTimeZone(defaultZone)) throw new Error(`SMS_TIMEZONE must be an IANA time zone such as America/New_York, not '${defaultZone}'`);
  return { ...window, defaultZone };
}
