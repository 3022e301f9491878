/**
 * Outbound statuses only move forward. Twilio's callbacks can come late, twice, out of order or
 * once per segment, so a callback applies only when it ranks above what is stored; a failure on any
 * segment outranks a later "delivered".
 */
const RANK: Record<string, number> = {
  draft: 0,
  queued: 1,
  sending: 2,
  unknown: 2,
  accepted: 3,
  sent: 4,
  delivered: 5,
  undelivered: 6,
  failed: 7,
  canceled: 7,
  received: 8,
};

export const FINAL_STATUSES = new Set(['delivered', 'undelivered', 'failed', 'canceled', 'received']);

/** Our status for one of Twilio's MessageStatus values (undefined for ones we do not track). */
export function fromTwilioStatus(status: string): string | undefined {
  switch (status) {
    case 'accepted': case 'queued': case 'scheduled': case 'sending': return 'accepted';
    case 'sent': return 'sent';
    case 'delivered': case 'read': return 'delivered';
    case 'undelivered': return 'undelivered';
    case 'failed': return 'failed';
    case 'canceled': return 'canceled';
    case 'received': case 'receiving': return 'received';
    case 'partially_delivered': return 'undelivered';
    default: return undefined;
  }
}

/** Whether moving from `current` to `next` is progress. */
export function movesForward(current: string, next: string): boolean {
  return (RANK[next] ?? -1) > (RANK[current] ?? -1);
}
