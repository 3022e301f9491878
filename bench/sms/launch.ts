/**
 * Campaign launch figures: BENCH_SMS_MEMBERS target-list members (Contacts written straight into
 * the tables, so seeding a large list takes seconds) queued by the campaign job; prints the time,
 * members per second, and how much the process's RSS grew while queueing (sampled every 50 ms).
 * Beside it, a bulk send of up to 2,000 other records through the ordinary send path, and a send to
 * up to 10,000 others in the background (SMS/sends, run by its job).
 */
import crypto from 'node:crypto';
import type { Crm } from '../../core/app/create-crm';
import { SYSTEM } from '../../core/records/actor';
import { formatDateTime } from '../../core/records/time';
import { BACKGROUND_SEND_JOB } from '../../core/sms/background-sends';
import { numbers } from './numbers';

export { numbers };

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const mb = (bytes: number) => bytes / 1024 / 1024;


/** Contacts with mobile numbers (and their phone index rows), each on `listId` when given; answers their ids. */
export async function seedContacts(crm: Crm, count: number, offset: number, listId?: string): Promise<string[]> {
  const knex = crm.engine.db.knex;
  const now = formatDateTime(new Date());
  const phones = numbers(count, offset);
  const ids: string[] = [];
  for (let i = 0; i < count; i += 500) {
    const chunk = phones.slice(i, i + 500).map((phone, j) => ({ id: crypto.randomUUID(), first_name: `Bench${offset + i + j}`, last_name: 'Member', phone_mobile: phone, deleted: 0, date_entered: now, date_modified: now, created_by: '1', modified_user_id: '1', assigned_user_id: '1' }));
    await knex.transaction(async (trx) => {
      await trx('contacts').insert(chunk);
      // What a save (or cane sms:reindex after an import) keeps: the E.164 number of each phone field.
      await trx('sms_phone_index').insert(chunk.map((c) => ({ phone_e164: c.phone_mobile, module: 'Contacts', record_id: c.id, field: 'phone_mobile' })));
      if (listId) await trx('prospect_lists_prospects').insert(chunk.map((c) => ({ id: crypto.randomUUID(), prospect_list_id: listId, related_id: c.id, related_type: 'Contacts', date_modified: now, deleted: 0 })));
    });
    ids.push(...chunk.map((c) => c.id));
  }
  return ids;
}

export async function benchLaunch(kind: string, crm: Crm, members: number): Promise<void> {
  const knex = crm.engine.db.knex;
  const list = await crm.records.create(SYSTEM, 'ProspectLists', { name: 'Bench list', list_type: 'default' });
  const template = await crm.records.create(SYSTEM, 'SMSTemplates', { name: 'Bench', body: 'Hi {{first_name}}, bench offer. Reply STOP to opt out.' });
  const campaign = await crm.records.create(SYSTEM, 'Campaigns', { name: 'Bench campaign', campaign_type: 'SMS', status: 'Active', end_date: '2030-01-01' });
  await crm.records.link(SYSTEM, 'Campaigns', campaign.id, 'prospectlists', list.id);
  const seedStart = performance.now();
  await seedContacts(crm, members, 2_000_000, list.id);
  const outside = await seedContacts(crm, Math.min(members, 2000), 4_000_000);
  const seedMs = performance.now() - seedStart;

  const admin = { type: 'user', id: '1', isAdmin: true } as const;
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 50);
  const launchStart = performance.now();
  const cpuBefore = process.cpuUsage();
  await crm.sms!.campaigns.launch(admin, campaign.id, { template_id: template.id });
  while (await crm.engine.jobs.runOnce(1)) {
    if (Number((await knex(crm.engine.jobs.table).where({ target: 'function::sms.campaign', status: 'done' }).count({ n: '*' }).first())?.n) >= 1) break;
  }
  const launchMs = performance.now() - launchStart;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  global.gc?.();
  // What the launch left on the heap (after a collection), against how far RSS rose while it ran (garbage not yet collected, heap headroom, driver buffers).
  const heapKept = process.memoryUsage().heapUsed - heapBefore;
  const queued = Number((await knex('sms').where('campaign_id', campaign.id).count({ n: '*' }).first())?.n);
  if (queued !== members) throw new Error(`campaign queued ${queued} of ${members}`);

  const bulkStart = performance.now();
  const records = outside.map((id) => ({ module: 'Contacts', id }));
  for (let i = 0; i < records.length; i += 200) await crm.sms!.send(admin, { records: records.slice(i, i + 200), template_id: template.id }, 'bulk');
  const bulkMs = performance.now() - bulkStart;
  const launchRate = (members / launchMs) * 1000;
  const bulkRate = (records.length / bulkMs) * 1000;
  // MariaDB's figures depend on its buffer pool: a launch writes more than the default 128 MB holds.
  const pool = crm.engine.db.dialect.name === 'sqlite' ? '' : `, innodb_buffer_pool_size ${Number(((await knex.raw('select @@innodb_buffer_pool_size as n')) as unknown as Array<Array<{ n: number }>>)[0][0].n) / 1024 / 1024} MB`;
  console.log(`[${kind}${pool}] campaign launch, ${members} list members (seeded in ${fmt(seedMs / 1000)} s): queued in ${fmt(launchMs / 1000, 2)} s (CPU ${fmt(cpu.user / 1e6, 2)} s user, ${fmt(cpu.system / 1e6, 2)} s system), ${fmt(launchRate, 0)} members/s (member pages, checks, render, SMS, job and campaign_log rows); RSS growth ${fmt(mb(rssPeak - rssBefore))} MB (peak ${fmt(mb(rssPeak))} MB), heap kept after a GC ${fmt(mb(heapKept))} MB`);
  console.log(`[${kind}] bulk send of ${records.length} records through the send path: ${fmt(bulkRate, 0)} records/s (launch ÷ bulk ${fmt(launchRate / bulkRate, 2)})`);

  // A send to many in the background (SMS/sends): the job sends it 1,000 records a page.
  const background = (await seedContacts(crm, Math.min(members, 10_000), 6_000_000)).map((id) => ({ module: 'Contacts', id }));
  const backgroundStart = performance.now();
  const { send } = await crm.sms!.sends.submit(admin, { records: background, template_id: template.id });
  while ((await crm.sms!.sends.get(admin, send.id)).state !== 'complete') {
    if (!(await crm.engine.jobs.runOnce(1, BACKGROUND_SEND_JOB))) throw new Error(`the background send stopped: ${JSON.stringify(await crm.sms!.sends.get(admin, send.id))}`);
  }
  const backgroundMs = performance.now() - backgroundStart;
  const backgroundRate = (background.length / backgroundMs) * 1000;
  console.log(`[${kind}] send to ${background.length} records in the background, submit to complete: ${fmt(backgroundMs / 1000, 2)} s, ${fmt(backgroundRate, 0)} records/s (÷ bulk ${fmt(backgroundRate / bulkRate, 2)})`);
}
