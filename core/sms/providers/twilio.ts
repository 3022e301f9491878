import http from 'node:http';
import type twilio from 'twilio';
import { twilioSdk } from './twilio-sdk';
import { fromTwilioStatus } from '../status';
import { ProviderError, type OutgoingMessage, type ProviderReceipt, type SmsProvider } from './provider';

/** twilio-node's transport extension point: `request(opts)` answering `{ statusCode, body, headers }`. */
export interface HttpClient {
  request(options: Record<string, unknown> & { uri: string }): Promise<{ statusCode: number; body: unknown; headers?: unknown }>;
}

/**
 * Connections kept open to Twilio: a dispatch batch has up to SMS_DISPATCH_BATCH requests in flight,
 * and twilio-node's defaults (20 sockets, 5 kept idle) would close and reopen (TLS included) most of
 * them between batches.
 */
const CONNECTION_POOL = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64, maxTotalSockets: 64 };

/** Sends Twilio's requests to another origin (a proxy, or a local fake in tests), keeping paths and auth. */
export class OriginRewritingClient implements HttpClient {
  private readonly inner: HttpClient;
  private readonly base: URL;

  constructor(baseUrl: string, options: Record<string, unknown> = {}) {
    this.base = new URL(baseUrl);
    const client = new (twilioSdk().RequestClient)({ ...CONNECTION_POOL, ...options });
    // twilio-node pools only https connections; a plain-http origin (a local fake) gets the same pool.
    if (this.base.protocol === 'http:') client.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, maxSockets: CONNECTION_POOL.maxSockets, maxFreeSockets: CONNECTION_POOL.maxFreeSockets });
    this.inner = client as unknown as HttpClient;
  }

  request(options: Record<string, unknown> & { uri: string }) {
    const url = new URL(options.uri);
    url.protocol = this.base.protocol;
    url.host = this.base.host;
    return this.inner.request({ ...options, uri: url.toString() });
  }
}

export interface TwilioProviderOptions {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  apiBaseUrl?: string;
  httpClient?: HttpClient;
  timeoutMs?: number;
}

const SID = /^(SM|MM)[0-9a-fA-F]{32}$/;

export class TwilioProvider implements SmsProvider {
  readonly name = 'twilio' as const;
  private readonly client: ReturnType<typeof twilio>;

  constructor(private readonly options: TwilioProviderOptions) {
    const timeout = options.timeoutMs ?? 15000;
    const httpClient = options.httpClient ?? (options.apiBaseUrl ? new OriginRewritingClient(options.apiBaseUrl, { timeout }) : new (twilioSdk().RequestClient)({ ...CONNECTION_POOL, timeout }));
    // autoRetry stays off: the dispatcher owns retries, throttling and back-off.
    this.client = twilioSdk()(options.accountSid, options.authToken, { httpClient: httpClient as never, timeout: options.timeoutMs ?? 15000, autoRetry: false });
  }

  async send(message: OutgoingMessage): Promise<ProviderReceipt> {
    let created;
    try {
      created = await this.client.messages.create({
        to: message.to,
        body: message.body,
        ...(message.messagingServiceSid ?? this.options.messagingServiceSid ? { messagingServiceSid: message.messagingServiceSid ?? this.options.messagingServiceSid } : {}),
        ...(message.from ?? this.options.from ? { from: message.from ?? this.options.from } : {}),
        ...(message.statusCallback ? { statusCallback: message.statusCallback } : {}),
        attempt: message.attempt,
      });
    } catch (err) {
      throw toProviderError(err);
    }
    return receipt(created);
  }

  async findSent(query: { to: string; from?: string; body: string; after: Date }): Promise<ProviderReceipt | null> {
    let messages;
    try {
      // Newest first; dateSent is empty while a message waits in Twilio's queue, so filter on dateCreated here.
      messages = await this.client.messages.list({ to: query.to, ...(query.from ? { from: query.from } : {}), limit: 100, pageSize: 100 });
    } catch (err) {
      throw toProviderError(err);
    }
    const match = messages.find((m) => m.body === query.body && String(m.direction ?? '').startsWith('outbound') && (!m.dateCreated || m.dateCreated.getTime() >= query.after.getTime()));
    return match ? receipt(match) : null;
  }

  senderKey(message: Pick<OutgoingMessage, 'from' | 'messagingServiceSid'>): string {
    return message.messagingServiceSid ?? this.options.messagingServiceSid ?? message.from ?? this.options.from ?? 'twilio';
  }
}

interface TwilioMessage {
  sid?: unknown; status?: unknown; from?: unknown; price?: unknown; priceUnit?: unknown; errorCode?: unknown; errorMessage?: unknown;
}

function receipt(m: TwilioMessage): ProviderReceipt {
  if (typeof m?.sid !== 'string' || !SID.test(m.sid)) throw new ProviderError('unknown_outcome', `Twilio answered without a valid message SID (${JSON.stringify(m?.sid)})`);
  const providerStatus = typeof m.status === 'string' ? m.status : '';
  const status = fromTwilioStatus(providerStatus);
  if (!status) throw new ProviderError('unknown_outcome', `Twilio answered with an unknown status '${providerStatus}' for ${m.sid}`);
  const price = m.price === null || m.price === undefined || m.price === '' ? undefined : Math.abs(Number(m.price));
  return {
    sid: m.sid, status, providerStatus,
    from: typeof m.from === 'string' ? m.from : undefined,
    price: Number.isFinite(price) ? price : undefined,
    priceUnit: typeof m.priceUnit === 'string' ? m.priceUnit : undefined,
    errorCode: m.errorCode === null || m.errorCode === undefined ? undefined : String(m.errorCode),
    errorMessage: typeof m.errorMessage === 'string' ? m.errorMessage : undefined,
  };
}

/** Twilio's RestException carries status and code; anything else (axios errors, parse errors) leaves the outcome unknown. */
function toProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { status?: unknown; code?: unknown; message?: unknown; moreInfo?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ProviderError('rejected', message, e.code === undefined || e.code === null ? undefined : String(e.code), e.status);
  }
  if (typeof e?.status === 'number') return new ProviderError('unknown_outcome', `Twilio answered HTTP ${e.status}: ${message}`, e.code ? String(e.code) : undefined, e.status);
  return new ProviderError('unknown_outcome', `no answer from Twilio: ${message}`);
}
