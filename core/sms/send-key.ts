import crypto from 'node:crypto';
import type { Actor } from '../records/actor';
import type { SendRequest } from './compose';

/**
 * The unique `sms.send_key` of a message. Campaign messages are keyed by campaign and number,
 * idempotent requests by caller key and number, the rest are unique. An automatic re-send of an
 * undelivered message takes its original's key plus `#r<n>`.
 */
export function sendKey(actor: Actor, request: SendRequest, to: string): string {
  if (request.campaign_id && !request.idempotency_key) return `cmp:${crypto.createHash('sha1').update(`${request.campaign_id}|${to}`).digest('hex')}`;
  if (request.idempotency_key) return `idem:${crypto.createHash('sha1').update(`${actor.id ?? 'system'}|${request.idempotency_key}|${to}`).digest('hex')}`;
  return crypto.randomUUID();
}

/** The original message's key and which re-send this is (0 for the original). */
export function resendOf(key: string): { base: string; resend: number } {
  const match = /^(.*)#r(\d+)$/.exec(key);
  return match ? { base: match[1], resend: Number(match[2]) } : { base: key, resend: 0 };
}

export function resendKey(base: string, resend: number): string {
  return `${base}#r${resend}`;
}
