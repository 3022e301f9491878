import type { Engine } from '../app/engine';
import { CaneError, ValidationError } from '../errors';
import { silentLogger } from '../logger';
import { systemClock } from '../records/time';
import { actorFor, type UserRow } from '../security/authenticate';
import { SmsService } from './sms-service';

export interface CampaignLaunchCliOptions {
  template?: string;
  /** Who launches (the campaign's sends are theirs); default the first active administrator. */
  user?: string;
}

/** `[#####-----] 52,000 / 100,000 members (52%), 8,100/s` */
export function progressLine(done: number, total: number | null, rate: number | null, width = 30): string {
  const known = total && total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(known * width);
  const n = (x: number) => x.toLocaleString('en-US');
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${n(done)} / ${total === null ? '?' : n(total)} members${total ? ` (${Math.floor(known * 100)}%)` : ''}${rate !== null ? `, ${n(Math.round(rate))}/s` : ''}`;
}

/**
 * `cane campaign:launch`: launches the campaign's send and queues its members in this process,
 * printing a progress line after each page (a worker that later picks up the launch job finds
 * nothing left). Dispatch is left to the workers (`cane jobs:work` or `cane start`).
 */
export async function launchCampaignFromCli(engine: Engine, campaignId: string, options: CampaignLaunchCliOptions, out: NodeJS.WriteStream = process.stdout): Promise<string> {
  const knex = engine.db.knex;
  const user: UserRow | undefined = options.user
    ? await knex('users').where({ user_name: options.user, deleted: 0 }).first()
    : await knex('users').where({ is_admin: 1, deleted: 0, status: 'Active' }).orderBy('date_entered').first();
  if (!user) throw new CaneError('invalid_parameter', options.user ? `no user named '${options.user}'` : 'no active administrator to launch as: name one with --user', 422);
  const actor = actorFor(user);
  const sms = new SmsService(engine, {}, silentLogger, systemClock);
  const templateId = options.template
    ?? (await knex('sms').where({ campaign_id: campaignId, deleted: 0 }).whereNotNull('template_id').orderBy('date_entered', 'desc').first('template_id'))?.template_id;
  let launched;
  try {
    launched = await sms.campaigns.launch(actor, campaignId, { template_id: templateId });
  } catch (err) {
    if (err instanceof ValidationError) throw new CaneError('invalid_parameter', `the campaign cannot be launched: ${err.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, 422);
    throw err;
  }
  out.write(`Campaign ${campaignId}: ${launched.members} members to queue (job ${launched.job_id})\n`);
  const started = Date.now();
  const tty = Boolean(out.isTTY);
  let lastShown = 0;
  const summary = await sms.campaigns.queueMembers(campaignId, launched.job_id, actor, templateId!, undefined, ({ done, total }) => {
    const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
    const line = progressLine(done, total, rate);
    if (tty) out.write(`\r${line}`);
    else if (Date.now() - lastShown > 1000 || done === total) {
      out.write(`${line}\n`);
      lastShown = Date.now();
    }
  });
  if (tty) out.write('\n');
  return `${summary}; the workers (cane jobs:work or cane start) send them`;
}
