import type { BatchOutcome } from '../jobs/job-queue';
import { updateEach } from '../db/update-each';
import { CAPPED_SOURCES, type DispatchJobData, type Dispatcher, type SmsRow } from './dispatch';
import { ProviderError, type ProviderReceipt } from './providers/provider';

type Claimed = { index: number; row: SmsRow };

/**
 * Sends many queued SMS with a handful of queries instead of a handful per message: the rows and
 * their numbers' consent are read together, the queued → sending claims are one compare-and-set
 * update, the messages go to the provider in parallel (over kept-alive connections), and the SIDs
 * and statuses are written in one transaction. Exactly-once is the single-message path's: the claim
 * is made before the provider is called and the SID stored as soon as it answers, so a crash in
 * between leaves rows in `sending` without a SID, which are reconciled before any resend.
 *
 * Whatever is not the plain case (a retry or reconciliation, a paused campaign, sending hours, a
 * frequency cap, a rate limit, a claim another worker won) goes through Dispatcher.run one by one.
 */
export async function dispatchBatch(dispatcher: Dispatcher, jobs: DispatchJobData[], signal?: AbortSignal): Promise<BatchOutcome[]> {
  const { db, consent } = dispatcher.deps;
  const outcomes: BatchOutcome[] = new Array(jobs.length);
  const rows = new Map<string, SmsRow>();
  for (const row of await db.knex('sms').whereIn('id', jobs.map((job) => job.id)).andWhere('deleted', 0)) rows.set(row.id, row);

  const single: number[] = [];
  const plain: Claimed[] = [];
  const paused = await pausedCampaigns(dispatcher, [...rows.values()]);
  const cancelled = await cancelledSends(dispatcher, [...rows.values()]);
  for (const [index, job] of jobs.entries()) {
    const row = rows.get(job.id);
    if (row && !job.reconcile && isPlain(dispatcher, row) && !paused.has(String(row.campaign_id)) && !cancelled.has(String(row.send_id))) plain.push({ index, row });
    else single.push(index);
  }

  const states = await consent.states([...new Set(plain.map(({ row }) => row.to_number))]);
  const allowed: Claimed[] = [];
  for (const entry of plain) {
    const refusal = dispatcher.refusalGiven(entry.row, states.get(entry.row.to_number));
    if (!refusal) { allowed.push(entry); continue; }
    outcomes[entry.index] = await settle(async () => {
      await dispatcher.fail(entry.row, refusal.code, refusal.reason, 'queued');
      return `refused: ${refusal.reason}`;
    });
  }

  if (await claimAll(dispatcher, allowed)) await sendAll(dispatcher, allowed, outcomes);
  else single.push(...allowed.map(({ index }) => index));

  const campaigns = new Set(plain.filter(({ row }) => row.campaign_id && row.source === 'campaign').map(({ row }) => String(row.campaign_id)));
  for (const campaign of campaigns) await dispatcher.deps.campaignSettled?.(campaign);

  await Promise.all(single.map(async (index) => { outcomes[index] = await settle(() => dispatcher.run(jobs[index], signal)); }));
  return outcomes;
}

/** Nothing to wait for and nothing counted per number: the case a batch handles by itself. */
function isPlain(dispatcher: Dispatcher, row: SmsRow): boolean {
  const { config, throttle } = dispatcher.deps;
  if (row.status !== 'queued' || row.direction !== 'outbound' || throttle.limited) return false;
  const capped = CAPPED_SOURCES.includes(String(row.source));
  return !(capped && (config.sendingHours || config.frequencyCap));
}

async function pausedCampaigns(dispatcher: Dispatcher, rows: SmsRow[]): Promise<Set<string>> {
  const paused = new Set<string>();
  const campaigns = new Set(rows.filter((row) => row.campaign_id && row.source === 'campaign').map((row) => String(row.campaign_id)));
  for (const campaign of campaigns) {
    if ((await dispatcher.deps.campaignState?.(campaign)) === 'paused') paused.add(campaign);
  }
  return paused;
}

/** Sends to many (in the background) cancelled since their messages were queued: those go the single way, which cancels them. */
async function cancelledSends(dispatcher: Dispatcher, rows: SmsRow[]): Promise<Set<string>> {
  const cancelled = new Set<string>();
  for (const send of new Set(rows.filter((row) => row.send_id && row.status === 'queued').map((row) => String(row.send_id)))) {
    if (await dispatcher.deps.sendCancelled?.(send)) cancelled.add(send);
  }
  return cancelled;
}

/** queued → sending for all of them, or for none (then each goes the single way, which sorts out who won). */
async function claimAll(dispatcher: Dispatcher, entries: Claimed[]): Promise<boolean> {
  if (!entries.length) return true;
  const { knex } = dispatcher.deps.db;
  const now = dispatcher.now();
  try {
    await knex.transaction(async (trx) => {
      const claimed = await trx('sms').whereIn('id', entries.map(({ row }) => row.id)).andWhere('status', 'queued')
        .update({ status: 'sending', date_claimed: now, attempts: knex.raw('attempts + 1'), date_modified: now });
      if (claimed !== entries.length) throw new ClaimLost();
    });
  } catch (err) {
    if (err instanceof ClaimLost) return false;
    throw err;
  }
  for (const entry of entries) entry.row = { ...entry.row, status: 'sending', attempts: Number(entry.row.attempts ?? 0) + 1, date_claimed: now };
  return true;
}

class ClaimLost extends Error {}

async function sendAll(dispatcher: Dispatcher, entries: Claimed[], outcomes: BatchOutcome[]): Promise<void> {
  const { provider, config } = dispatcher.deps;
  const statusCallback = config.publicUrl ? `${config.publicUrl}/webhooks/twilio/status` : undefined;
  const receipts: Array<{ entry: Claimed; receipt: ProviderReceipt }> = [];
  await Promise.all(entries.map(async (entry) => {
    const { row } = entry;
    const message = { to: row.to_number, from: row.from_number || undefined, messagingServiceSid: row.messaging_service_sid || undefined };
    try {
      receipts.push({ entry, receipt: await provider.send({ ...message, body: row.body, attempt: row.attempts, statusCallback }) });
    } catch (err) {
      outcomes[entry.index] = await settle(async () => {
        if (!(err instanceof ProviderError)) throw err;
        return dispatcher.providerError(row, err, provider.senderKey(message));
      });
    }
  }));
  try {
    await storeReceipts(dispatcher, receipts);
  } catch (err) {
    // The batch write failed as a whole (a deadlock, a lost connection): store each on its own.
    dispatcher.deps.log.warn({ err, messages: receipts.length }, 'SMS dispatch: storing a batch of SIDs failed; storing them one by one');
    for (const { entry, receipt } of receipts) {
      outcomes[entry.index] = await settle(async () => {
        await dispatcher.accepted(entry.row, receipt, 'dispatch');
        return `sent as ${receipt.sid}`;
      });
    }
    return;
  }
  for (const { entry, receipt } of receipts) outcomes[entry.index] = { message: `sent as ${receipt.sid}` };
}

/** SIDs, prices and the first status of every accepted message, in one transaction. */
async function storeReceipts(dispatcher: Dispatcher, receipts: Array<{ entry: Claimed; receipt: ProviderReceipt }>): Promise<void> {
  if (!receipts.length) return;
  const { db, provider } = dispatcher.deps;
  const now = dispatcher.now();
  await db.knex.transaction(async (trx) => {
    const stored = await updateEach(trx, 'sms', receipts.map(({ entry: { row }, receipt }) => ({
      id: row.id,
      values: {
        provider_message_id: receipt.sid, provider: provider.name, from_number: receipt.from ?? row.from_number ?? null,
        price: receipt.price ?? row.price ?? null, price_unit: receipt.price !== undefined ? receipt.priceUnit ?? null : row.price_unit ?? null,
        error_code: null, error_message: null, date_modified: now,
      },
    })), (q) => q.andWhere('status', 'sending').whereNull('provider_message_id'));
    if (stored !== receipts.length) throw new Error(`stored ${stored} of ${receipts.length} SIDs: some rows moved meanwhile`);
    await dispatcher.statuses.advanceMany(trx, receipts.map(({ entry: { row }, receipt }) => ({
      row, change: { status: receipt.status, providerStatus: receipt.providerStatus, source: 'dispatch', at: now },
    })));
    const early = new Set((await trx('sms_status_events').whereIn('sms_id', receipts.map(({ receipt }) => receipt.sid)).distinct('sms_id')).map((r: { sms_id: string }) => r.sms_id));
    for (const { entry, receipt } of receipts) {
      if (early.has(receipt.sid)) await dispatcher.statuses.applyEarlyCallbacks(trx, entry.row.id, receipt.sid, now);
    }
  });
}

async function settle(work: () => Promise<string>): Promise<BatchOutcome> {
  try {
    return { message: await work() };
  } catch (error) {
    return { error };
  }
}
