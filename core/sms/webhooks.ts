import { twilioSdk } from './providers/twilio-sdk';
import type { Database } from '../db/connection';
import type { Registry } from '../metadata/registry';
import { SYSTEM } from '../records/actor';
import type { RecordService } from '../records/record-service';
import { formatDateTime, type Clock } from '../records/time';
import type { Logger } from '../records/context';
import type { SmsConfig } from './config';
import type { ConsentLedger } from './consent';
import { classifyError } from './errors';
import { keywordIntent } from './keywords';
import { e164OrUndefined } from './phone';
import type { PhoneIndex } from './phone-index';
import { describeBody } from './segments';
import { fromTwilioStatus } from './status';
import { StatusStore } from './status-store';

export interface WebhookDeps {
  db: Database;
  registry: Registry;
  records: RecordService;
  config: SmsConfig;
  consent: ConsentLedger;
  phoneIndex: PhoneIndex;
  statuses: StatusStore;
  clock: Clock;
  log: Logger;
  /** Queues an automatic re-send of a message that was undelivered for a transient reason. */
  retryUndelivered(row: Record<string, any>): Promise<void>;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Twilio's X-Twilio-Signature over PUBLIC_URL + path + query and the posted parameters. */
export function checkSignature(config: SmsConfig, pathAndQuery: string, params: Record<string, string>, signature: string | undefined): SignatureCheck {
  if (!config.authToken) return { ok: false, reason: 'webhooks are disabled: TWILIO_AUTH_TOKEN is not set' };
  if (!config.publicUrl) return { ok: false, reason: 'webhooks are disabled: PUBLIC_URL is not set' };
  if (!signature) return { ok: false, reason: 'missing X-Twilio-Signature' };
  const url = `${config.publicUrl}${pathAndQuery}`;
  return twilioSdk().validateRequest(config.authToken, signature, url, params) ? { ok: true } : { ok: false, reason: `X-Twilio-Signature does not match ${url}` };
}

const SID = /^(SM|MM)[0-9a-fA-F]{32}$/;

export type WebhookResult = { status: number; message: string };

/** A delivery-status callback. Idempotent on (MessageSid, MessageStatus, ErrorCode); statuses only move forward. */
export async function handleStatusCallback(deps: WebhookDeps, params: Record<string, string>): Promise<WebhookResult> {
  const sid = params.MessageSid ?? params.SmsSid ?? '';
  const providerStatus = params.MessageStatus ?? params.SmsStatus ?? '';
  if (!SID.test(sid)) return { status: 400, message: 'MessageSid is missing or not a message SID' };
  const status = fromTwilioStatus(providerStatus);
  if (!status) return { status: 400, message: `MessageStatus '${providerStatus}' is not a message status` };
  const now = formatDateTime(deps.clock());
  const errorCode = params.ErrorCode && params.ErrorCode !== '0' ? params.ErrorCode.slice(0, 16) : undefined;
  const error = errorCode ? classifyError(errorCode, undefined, params.ErrorMessage) : undefined;
  const price = params.Price !== undefined && params.Price !== '' && Number.isFinite(Number(params.Price)) ? Math.abs(Number(params.Price)) : undefined;
  const change = {
    status, providerStatus, source: 'callback', at: now, raw: params,
    ...(errorCode ? { errorCode, errorMessage: error!.reason } : {}),
    ...(price !== undefined ? { price, priceUnit: params.PriceUnit } : {}),
  };
  let retry: Record<string, any> | undefined;
  const outcome = await deps.db.knex.transaction(async (trx) => {
    const row = await trx('sms').where({ provider_message_id: sid, deleted: 0 }).first();
    if (!row) {
      await deps.statuses.park(trx, sid, change);
      return 'kept until the message SID is stored';
    }
    const moved = await deps.statuses.advance(trx, row, change);
    if (!moved) return `ignored: ${row.status} does not move to ${status}`;
    if (errorCode === '21610') await deps.consent.record({ phone: row.to_number, state: 'opted_out', source: '21610', note: 'delivery failed with 21610', reference: sid }, trx);
    if (error?.class === 'transient' && (status === 'undelivered' || status === 'failed')) retry = row;
    return `now ${status}`;
  });
  if (retry) await deps.retryUndelivered(retry);
  return { status: 200, message: outcome };
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/**
 * An inbound message: stored once per MessageSid, matched through sms_phone_index to the Contact,
 * Lead, Target, Account or User with that number (shown in their History), and keywords recorded in
 * the consent ledger. Twilio already answers STOP/START/HELP, so the reply is an empty TwiML.
 */
export async function handleInbound(deps: WebhookDeps, params: Record<string, string>): Promise<WebhookResult & { twiml: string }> {
  const sid = params.MessageSid ?? params.SmsSid ?? '';
  if (!SID.test(sid)) return { status: 400, message: 'MessageSid is missing or not a message SID', twiml: EMPTY_TWIML };
  const from = e164OrUndefined(params.From, deps.config.defaultRegion) ?? String(params.From ?? '').slice(0, 32);
  const to = String(params.To ?? '').slice(0, 32);
  const body = String(params.Body ?? '').slice(0, 1600);
  const sendKey = `in:${sid}`;
  if (await deps.db.knex('sms').where('send_key', sendKey).first('id')) return { status: 200, message: 'already stored', twiml: EMPTY_TWIML };
  const matches = from ? await deps.phoneIndex.find(from) : [];
  const parent = matches[0];
  let owner: string | undefined;
  if (parent) {
    const record = await deps.db.knex(deps.registry.module(parent.module).table).where('id', parent.id).first();
    owner = parent.module === 'Users' ? parent.id : record?.assigned_user_id ?? undefined;
  }
  const facts = describeBody(body || ' ');
  let created;
  try {
    created = await deps.records.create(SYSTEM, 'SMS', {
      name: body.slice(0, 60) || '(empty message)', body: body || '(empty message)', direction: 'inbound', status: 'received', from_number: from, to_number: to,
      provider: 'twilio', provider_message_id: sid, send_key: sendKey, encoding: facts.encoding, segments: Number(params.NumSegments) || facts.segments,
      source: 'inbound', date_sent: formatDateTime(deps.clock()),
      ...(parent ? { parent_type: parent.module, parent_id: parent.id } : {}),
      ...(owner ? { assigned_user_id: owner } : {}),
    });
  } catch (err) {
    if (deps.db.dialect.isDuplicateKey(err)) return { status: 200, message: 'already stored', twiml: EMPTY_TWIML };
    throw err;
  }
  for (const m of matches.slice(1)) {
    const link = relatedLink(deps.registry, m.module);
    if (link) await deps.records.link(SYSTEM, 'SMS', created.id, link, m.id).catch((err) => deps.log.warn({ err }, 'could not relate inbound SMS'));
  }
  const intent = keywordIntent(body, params.OptOutType);
  if (from && (intent === 'opt_out' || intent === 'opt_in')) {
    await deps.consent.record({ phone: from, state: intent === 'opt_out' ? 'opted_out' : 'opted_in', source: 'keyword', note: `replied ${body.trim().slice(0, 40) || params.OptOutType}`, reference: sid });
  }
  return { status: 200, message: `stored as ${created.id}${parent ? ` on ${parent.module} ${parent.id}` : ''}${intent ? ` (${intent})` : ''}`, twiml: EMPTY_TWIML };
}

/** The SMS module's many-to-many link (sms_related) to records of `module`, if it has one. */
export function relatedLink(registry: Registry, module: string): string | undefined {
  return Object.values(registry.module('SMS').links).find((l) => l.module === module && !l.one)?.name;
}
