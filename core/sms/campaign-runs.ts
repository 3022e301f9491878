import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { dateFromDb, formatDateTime, type Clock } from '../records/time';

/** Where the send of an SMS campaign stands. */
export type RunState = 'scheduled' | 'sending' | 'paused' | 'cancelled' | 'complete';

export interface CampaignRun {
  campaignId: string;
  state: RunState;
  jobId: string | null;
  templateId: string | null;
  userId: string | null;
  sendAt: string | null;
  /** The campaign job has queued every member: the send is complete once none of its messages is still queued. */
  queuedAll: boolean;
  /** The last member queued: a rerun after a crash, or a resume, goes on after it. */
  cursor: { module: string; id: string } | null;
  progress: RunProgress;
}

export interface RunProgress {
  /** Members the send reaches (null until queueing starts). */
  total: number | null;
  /** Members gone through so far: queued or refused. */
  done: number;
  queued: number;
  refused: number;
  /** Members per second since queueing (re)started, or null. */
  rate: number | null;
}

/** Run columns reset when a send starts afresh. */
const FRESH_PROGRESS = { cursor_module: null, cursor_id: null, members_total: null, members_done: 0, messages_queued: 0, members_refused: 0, date_queue_started: null, members_at_start: 0 };

/** The campaign's status (campaign_status_dom) for each state of its send. */
export const CAMPAIGN_STATUS: Record<RunState, string> = {
  scheduled: 'In Queue', sending: 'Sending', paused: 'Inactive', cancelled: 'Inactive', complete: 'Complete',
};

/**
 * The state of each campaign's send in cane_sms_campaign_runs (test sends have none). Transitions
 * are compare-and-set on the current state, so two people pausing and cancelling at once, or a
 * worker finishing while someone pauses, leave one consistent answer.
 */
export class CampaignRuns {
  constructor(private readonly db: Database, private readonly clock: Clock) {}

  async get(campaignId: string, knex: Knex = this.db.knex): Promise<CampaignRun | undefined> {
    const row = await knex('cane_sms_campaign_runs').where('campaign_id', campaignId).first();
    return row ? {
      campaignId, state: row.state, jobId: row.job_id ?? null, templateId: row.template_id ?? null, userId: row.user_id ?? null, sendAt: row.send_at ? String(row.send_at).slice(0, 19) : null,
      queuedAll: Number(row.queued_all) === 1 || row.queued_all === true,
      cursor: row.cursor_module && row.cursor_id ? { module: String(row.cursor_module), id: String(row.cursor_id) } : null,
      progress: this.progress(row),
    } : undefined;
  }

  private progress(row: Record<string, any>): RunProgress {
    const done = Number(row.members_done ?? 0);
    let rate: number | null = null;
    if (row.date_queue_started && row.date_modified) {
      const seconds = (dateFromDb(String(row.date_modified).slice(0, 19)).getTime() - dateFromDb(String(row.date_queue_started).slice(0, 19)).getTime()) / 1000;
      const since = done - Number(row.members_at_start ?? 0);
      if (since > 0) rate = Math.round(since / Math.max(1, seconds));
    }
    return { total: row.members_total === null || row.members_total === undefined ? null : Number(row.members_total), done, queued: Number(row.messages_queued ?? 0), refused: Number(row.members_refused ?? 0), rate };
  }

  /** Starts (or restarts) a send; answers false when one is under way (scheduled, sending or paused). */
  async start(trx: Knex, run: Pick<CampaignRun, 'campaignId' | 'jobId' | 'templateId' | 'userId' | 'sendAt'> & { state: 'scheduled' | 'sending' }): Promise<boolean> {
    const values = { state: run.state, job_id: run.jobId, template_id: run.templateId, user_id: run.userId, send_at: run.sendAt, queued_all: 0, ...FRESH_PROGRESS, date_modified: formatDateTime(this.clock()) };
    const existing = await this.get(run.campaignId, trx);
    if (!existing) {
      try {
        await trx('cane_sms_campaign_runs').insert({ campaign_id: run.campaignId, ...values });
      } catch (err) {
        // Two launches at once: the other one's row came first.
        if (this.db.dialect.isDuplicateKey(err)) return false;
        throw err;
      }
      return true;
    }
    const moved = await trx('cane_sms_campaign_runs').where('campaign_id', run.campaignId).whereIn('state', ['cancelled', 'complete']).update(values);
    return moved === 1;
  }

  /** Moves from one of `from` to `to`; answers whether it did. */
  async move(campaignId: string, from: RunState[], to: RunState, extra: Record<string, unknown> = {}, knex: Knex = this.db.knex): Promise<boolean> {
    const moved = await knex('cane_sms_campaign_runs').where('campaign_id', campaignId).whereIn('state', from).update({ state: to, ...extra, date_modified: formatDateTime(this.clock()) });
    return moved === 1;
  }
}
