import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export const FAKE_ACCOUNT_SID = `AC${'1'.repeat(32)}`;
export const FAKE_AUTH_TOKEN = 'fake-twilio-auth-token';

export interface FakeMessage {
  sid: string;
  to: string;
  from?: string;
  body: string;
  messagingServiceSid?: string;
  statusCallback?: string;
  attempt?: string;
  dateCreated: Date;
}

type Scripted = { status: number; code?: number; message?: string } | 'drop' | 'malformed' | 'hang';

/** Twilio's documented magic numbers answer with their errors. */
const MAGIC: Record<string, { code: number; message: string }> = {
  '+15005550001': { code: 21211, message: "The 'To' number +15005550001 is not a valid phone number." },
  '+15005550003': { code: 21408, message: 'Permission to send an SMS has not been enabled for the region indicated by the To number' },
  '+15005550004': { code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  '+15005550009': { code: 21614, message: "'To' number is not a valid mobile number" },
};

/**
 * A local stand-in for api.twilio.com: records every message creation, answers like Twilio (201 with a
 * message, 400 with an error code, 429), can drop the connection after reading a request, and lists
 * messages for reconciliation. Tests reach it with the real twilio client through `apiBaseUrl`.
 */
export class FakeTwilio {
  readonly messages: FakeMessage[] = [];
  /** Every create request, including refused ones. */
  requests = 0;
  private readonly script: Scripted[] = [];
  private readonly perNumber = new Map<string, Scripted>();
  private server?: http.Server;
  url = '';
  /** Answer delay in ms (to simulate latency). */
  latencyMs = 0;

  static async start(): Promise<FakeTwilio> {
    const fake = new FakeTwilio();
    fake.server = http.createServer((req, res) => void fake.handle(req, res));
    fake.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => fake.server!.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The next create requests answer these, in order (then normal behaviour resumes). */
  queue(...answers: Scripted[]): void {
    this.script.push(...answers);
  }

  /** Every create to this number answers this. */
  forNumber(to: string, answer: Scripted): void {
    this.perNumber.set(to, answer);
  }

  sentTo(to: string): FakeMessage[] {
    return this.messages.filter((m) => m.to === to);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = url.pathname.match(/^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!match) return json(404, { code: 20404, message: 'not found', status: 404 });
    const auth = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    if (auth !== `${FAKE_ACCOUNT_SID}:${FAKE_AUTH_TOKEN}`) return json(401, { code: 20003, message: 'Authenticate', status: 401 });
    if (req.method === 'GET') {
      const to = url.searchParams.get('To');
      const from = url.searchParams.get('From');
      const found = this.messages.filter((m) => (!to || m.to === to) && (!from || m.from === from)).reverse();
      return json(200, { messages: found.map((m) => this.resource(m)), next_page_uri: null, page: 0, page_size: found.length, uri: url.pathname });
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    this.requests++;
    const to = form.get('To') ?? '';
    const answer = this.script.shift() ?? this.perNumber.get(to) ?? (MAGIC[to] ? { status: 400, ...MAGIC[to] } : undefined);
    if (answer === 'hang') return; // never answers; the client times out
    if (answer && answer !== 'drop' && answer !== 'malformed') {
      return json(answer.status, { code: answer.code ?? answer.status, message: answer.message ?? `scripted ${answer.status}`, more_info: `https://www.twilio.com/docs/errors/${answer.code}`, status: answer.status });
    }
    const message: FakeMessage = {
      sid: `SM${crypto.randomBytes(16).toString('hex')}`,
      to, body: form.get('Body') ?? '',
      from: form.get('From') ?? undefined,
      messagingServiceSid: form.get('MessagingServiceSid') ?? undefined,
      statusCallback: form.get('StatusCallback') ?? undefined,
      attempt: form.get('Attempt') ?? undefined,
      dateCreated: new Date(),
    };
    this.messages.push(message);
    if (answer === 'drop') return void req.socket.destroy(); // received, but the caller never learns the SID
    if (answer === 'malformed') {
      res.writeHead(201, { 'content-type': 'application/json' });
      return void res.end('{"sid": "oops", "status":');
    }
    // Latency after the message exists at 'Twilio', as on the real network.
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
    json(201, this.resource(message));
  }

  private resource(m: FakeMessage) {
    return {
      sid: m.sid, account_sid: FAKE_ACCOUNT_SID, to: m.to, from: m.from ?? '+15005550006', body: m.body,
      messaging_service_sid: m.messagingServiceSid ?? null,
      status: m.messagingServiceSid ? 'accepted' : 'queued', direction: 'outbound-api', num_segments: '1', num_media: '0',
      price: null, price_unit: 'USD', error_code: null, error_message: null, api_version: '2010-04-01',
      date_created: m.dateCreated.toUTCString(), date_updated: m.dateCreated.toUTCString(), date_sent: null,
      uri: `/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/Messages/${m.sid}.json`,
    };
  }
}

/** Posts a callback signed as Twilio signs it (or with `signature` to forge one). */
export async function postSignedForm(url: string, params: Record<string, string>, options: { token?: string; signature?: string | null; publicUrl?: string } = {}): Promise<{ status: number; body: string; contentType: string }> {
  const signedUrl = options.publicUrl ?? url;
  const signature = options.signature === undefined ? twilio.getExpectedTwilioSignature(options.token ?? FAKE_AUTH_TOKEN, signedUrl, params) : options.signature;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === null ? {} : { 'x-twilio-signature': signature }) },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}
