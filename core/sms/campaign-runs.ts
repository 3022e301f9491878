import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { formatDateTime, type Clock } from '../records/time';

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
}

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
    return row ? { campaignId, state: row.state, jobId: row.job_id ?? null, templateId: row.template_id ?? null, userId: row.user_id ?? null, sendAt: row.send_at ? String(row.send_at).slice(0, 19) : null, queuedAll: Number(row.queued_all) === 1 || row.queued_all === true } : undefined;
  }

  /** Starts (or restarts) a send; answers false when one is under way (scheduled, sending or paused). */
  async start(trx: Knex, run: Omit<CampaignRun, 'state' | 'queuedAll'> & { state: 'scheduled' | 'sending' }): Promise<boolean> {
    const values = { state: run.state, job_id: run.jobId, template_id: run.templateId, user_id: run.userId, send_at: run.sendAt, queued_all: 0, date_modified: formatDateTime(this.clock()) };
    const existing = await this.get(run.campaignId, trx);
    if (!existing) {
      await trx('cane_sms_campaign_runs').insert({ campaign_id: run.campaignId, ...values });
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
