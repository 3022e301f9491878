import type { Knex } from 'knex';
import type { Engine } from '../app/engine';
import { NotFoundError } from '../errors';
import { orderedId } from '../db/ordered-id';
import type { ModuleDef } from '../metadata/registry';
import type { Actor } from '../records/actor';
import type { RecordData } from '../records/read';
import { formatDateTime, type Clock } from '../records/time';
import type { Member } from './campaign-members';
import type { RefusalCode } from './compose';
import { consentRefusal } from './consent';
import { CAPPED_SOURCES, COUNTED_STATUSES, DISPATCH_JOB } from './dispatch';
import { normalisePhone } from './phone';
import { DEFAULT_PHONE_FIELD, RECIPIENT_MODULES } from './phone-index';
import { bodyProblem, encodingAndSegments } from './segments';
import { sendKey } from './send-key';
import type { SmsService } from './sms-service';
import { BLOCK_HELPERS, compileSmsTemplate, relation, templateFieldProblems, TemplateProblem } from './templates';
import { fieldColumn, recordRows } from '../records/custom-fields';
import { relatedLink } from './webhooks';
import { insertRows } from '../db/insert-rows';

/** campaign_log activity per refusal, in Sugar's vocabulary (an SMS number stands where Sugar has an e-mail address). */
export const REFUSAL_ACTIVITY: Record<RefusalCode, string> = {
  opted_out: 'blocked',
  duplicate: 'blocked',
  frequency_cap: 'blocked',
  invalid_number: 'invalid number',
  no_number: 'invalid number',
  not_found: 'send error',
  not_recipient: 'send error',
  template: 'send error',
  body: 'send error',
  refused: 'send error',
};

/** Rows per INSERT statement: well under SQLite's 32,766 bound parameters with the SMS table's ~25 columns. */
const INSERT_CHUNK = 500;
/** Related records (a template's {{assigned_user.first_name}}) kept between pages; cleared when full so memory stays flat. */
const RELATED_CACHE = 5000;
/** Field types whose stored value is what a record read answers, so the page can be read from the table directly. */
const PLAIN_TYPES = new Set(['varchar', 'name', 'phone', 'text', 'enum', 'id', 'url', 'char']);

interface Candidate {
  member: Member;
  to: string;
  body: string;
  facts: { encoding: string; segments: number };
  accountId?: string;
}

interface Refused {
  member: Member;
  code: RefusalCode;
}

/** What one page did: how many members got a message (new or their earlier one) and how many were refused. */
export interface PageOutcome {
  queued: number;
  refused: number;
}

/**
 * Queues one page of a campaign's members set-wise: the records of the page read with the
 * launcher's access in one list query per module, numbers checked, consent, earlier messages and
 * frequency caps looked up with one query each, the template compiled once and rendered per
 * member, then the SMS rows, their dispatch jobs, their account links and the campaign_log rows
 * written with multi-row inserts in the caller's transaction (the one that moves the run's cursor).
 *
 * Messages are keyed by campaign and number (send_key), so a page written again after a crash or
 * by a second worker adds nothing: a member whose number already has this campaign's message gets
 * that message back, another record with the same number is a duplicate.
 */
export class CampaignPageWriter {
  private readonly body: string;
  private readonly problemsByModule = new Map<string, string[]>();
  private readonly related = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly engine: Engine,
    private readonly sms: SmsService,
    private readonly clock: Clock,
    private readonly actor: Actor,
    private readonly campaignId: string,
    private readonly template: { id: string; body: string },
  ) {
    this.body = template.body;
  }

  /** Loads the template the launch sends (with the launcher's access). */
  static async forTemplate(engine: Engine, sms: SmsService, clock: Clock, actor: Actor, campaignId: string, templateId: string): Promise<CampaignPageWriter> {
    const found = await engine.records.retrieve(actor, 'SMSTemplates', templateId).catch((err) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (!found) throw new Error(`the SMS template ${templateId} is gone (or the launcher may no longer view it)`);
    const body = String(found.body ?? '');
    compileSmsTemplate(body); // a syntax error stops the launch here, before any page
    return new CampaignPageWriter(engine, sms, clock, actor, campaignId, { id: found.id, body });
  }

  /** Everything a page needs that reads the records (outside the writing transaction). */
  async prepare(page: Member[]): Promise<{ candidates: Candidate[]; refused: Refused[] }> {
    const refused: Refused[] = [];
    const found: Array<{ member: Member; to: string; record: RecordData }> = [];
    const byModule = new Map<string, Member[]>();
    for (const m of page) byModule.set(m.module, [...(byModule.get(m.module) ?? []), m]);
    for (const [moduleName, members] of byModule) {
      const registry = this.engine.registry;
      if (!RECIPIENT_MODULES.includes(moduleName) || !registry.modules.has(moduleName)) {
        members.forEach((member) => refused.push({ member, code: 'not_recipient' }));
        continue;
      }
      const module = registry.module(moduleName);
      const phoneField = DEFAULT_PHONE_FIELD[moduleName];
      if (module.fields[phoneField]?.type !== 'phone') {
        members.forEach((member) => refused.push({ member, code: 'not_recipient' }));
        continue;
      }
      const ids = members.map((m) => m.id);
      const records = await this.records(module, ids, this.fieldsFor(module, phoneField));
      const indexed = await this.indexedNumbers(moduleName, phoneField, ids);
      const accounts = module.columns.includes('account_id') ? undefined : await this.linkedAccounts(module, ids);
      if (accounts) for (const [id, accountId] of accounts) { const r = records.get(id); if (r) records.set(id, { ...r, account_id: accountId }); }
      for (const member of members) {
        const record = records.get(member.id);
        if (!record) {
          refused.push({ member, code: 'not_found' });
          continue;
        }
        const known = indexed.get(member.id);
        if (known && sameDigits(record[phoneField], known)) {
          found.push({ member, to: known, record });
          continue;
        }
        const phone = normalisePhone(record[phoneField], this.sms.config.defaultRegion);
        if (!phone.ok) refused.push({ member, code: phone.reason === 'no phone number' ? 'no_number' : 'invalid_number' });
        else found.push({ member, to: phone.e164, record });
      }
    }
    // One message per number within the page; earlier pages' numbers are found by their send key.
    const seen = new Set<string>();
    const unique = found.filter((f) => {
      if (seen.has(f.to)) {
        refused.push({ member: f.member, code: 'duplicate' });
        return false;
      }
      seen.add(f.to);
      return true;
    });
    const numbers = unique.map((f) => f.to);
    const consent = await this.sms.consent.states(numbers);
    const capped = await this.cappedNumbers(numbers);
    const candidates: Candidate[] = [];
    await this.loadRelated(unique.map((f) => ({ module: f.member.module, record: f.record })));
    for (const f of unique) {
      if (consentRefusal(consent.get(f.to))) {
        refused.push({ member: f.member, code: 'opted_out' });
        continue;
      }
      if (capped.has(f.to)) {
        refused.push({ member: f.member, code: 'frequency_cap' });
        continue;
      }
      let text: string;
      try {
        text = this.render(f.member.module, f.record);
      } catch (err) {
        if (!(err instanceof TemplateProblem)) throw err;
        refused.push({ member: f.member, code: 'template' });
        continue;
      }
      if (bodyProblem(text)) {
        refused.push({ member: f.member, code: 'body' });
        continue;
      }
      const accountId = typeof f.record.account_id === 'string' && f.record.account_id && f.member.module !== 'Accounts' ? f.record.account_id : undefined;
      candidates.push({ member: f.member, to: f.to, body: text, facts: encodingAndSegments(text), accountId });
    }
    return { candidates, refused };
  }

  /** Writes a prepared page in `trx`; answers how many members were queued and refused. */
  async write(trx: Knex.Transaction, prepared: { candidates: Candidate[]; refused: Refused[] }): Promise<PageOutcome> {
    const { candidates } = prepared;
    const refused = [...prepared.refused];
    const now = formatDateTime(this.clock());
    const keyed = candidates.map((c) => ({ ...c, key: sendKey(this.actor, { campaign_id: this.campaignId }, c.to) }));
    const earlier = new Map<string, { id: string; parent_type: string | null; parent_id: string | null; to_number: string }>();
    for (let i = 0; i < keyed.length; i += INSERT_CHUNK) {
      const rows = await trx('sms').whereIn('send_key', keyed.slice(i, i + INSERT_CHUNK).map((c) => c.key)).select('id', 'send_key', 'parent_type', 'parent_id', 'to_number');
      for (const r of rows) earlier.set(r.send_key, r);
    }
    const messages: Array<{ member: Member; id: string; to: string }> = [];
    const created = new Map<string, string>();
    const smsRows: Array<Record<string, unknown>> = [];
    const { config, provider } = this.sms;
    const userId = this.actor.type === 'user' ? this.actor.id : null;
    for (const c of keyed) {
      const before = earlier.get(c.key);
      if (before) {
        // The same record again (a relaunch, a page written twice) gets its earlier message back;
        // another record with that number is a duplicate: the campaign reaches each number once.
        if (before.parent_type === c.member.module && before.parent_id === c.member.id) messages.push({ member: c.member, id: before.id, to: before.to_number });
        else refused.push({ member: c.member, code: 'duplicate' });
        continue;
      }
      const id = orderedId();
      messages.push({ member: c.member, id, to: c.to });
      created.set(c.key, id);
      smsRows.push({
        id, name: c.body.slice(0, 60), date_entered: now, date_modified: now, modified_user_id: this.actor.id ?? null, created_by: this.actor.id ?? null,
        deleted: 0, assigned_user_id: userId, body: c.body, direction: 'outbound', status: 'queued', to_number: c.to,
        from_number: config.from ?? null, messaging_service_sid: config.messagingServiceSid ?? null, provider: provider.name,
        send_key: c.key, attempts: 0, source: 'campaign', encoding: c.facts.encoding, segments: c.facts.segments,
        template_id: this.template.id, campaign_id: this.campaignId, parent_type: c.member.module, parent_id: c.member.id,
      });
    }
    const jobRows = smsRows.map((r) => ({
      id: orderedId(), name: `Send SMS ${String(r.id)}`, deleted: 0, date_entered: now, date_modified: now, scheduler_id: null,
      execute_time: now, status: 'queued', resolution: 'queued', message: null, target: `function::${DISPATCH_JOB}`, data: JSON.stringify({ id: r.id }),
      requeue: 1, retry_count: 3, failure_count: 0, job_delay: 60, client: '', percent_complete: 0, assigned_user_id: null,
    }));
    const links = this.accountLinks(keyed.filter((c) => c.accountId && created.has(c.key)).map((c) => ({ smsId: created.get(c.key)!, accountId: c.accountId! })), now);
    const logged = await this.loggedBefore(trx, [...messages, ...refused].map((m) => m.member.id));
    const logRows = [
      ...messages.map((m) => ({ member: m.member, activity: 'targeted', extra: { target_tracker_key: m.id, related_id: m.id, related_type: 'SMS', more_information: m.to } })),
      ...refused.map((r) => ({ member: r.member, activity: REFUSAL_ACTIVITY[r.code], extra: { more_information: r.code } })),
    ].filter((l) => !logged.has(logKey(l.member, l.activity))).map((l) => this.logRow(l.member, l.activity, now, l.extra));
    await insertRows(trx, 'sms', smsRows);
    await insertRows(trx, this.engine.jobs.table, jobRows);
    if (links) await insertRows(trx, links.table, links.rows);
    await insertRows(trx, 'campaign_log', logRows);
    return { queued: messages.length, refused: refused.length };
  }

  private logRow(member: Member, activity: string, now: string, extra: Record<string, unknown>) {
    return {
      id: orderedId(), campaign_id: this.campaignId, target_id: member.id, target_type: member.module,
      activity_type: activity, activity_date: now, list_id: member.listId, hits: 0, archived: 0, deleted: 0, date_modified: now, ...extra,
    };
  }

  /** The (target, activity) pairs this campaign logged before (a relaunch reaches its earlier members again): each is logged once. */
  private async loggedBefore(trx: Knex.Transaction, targetIds: string[]): Promise<Set<string>> {
    const logged = new Set<string>();
    for (let i = 0; i < targetIds.length; i += INSERT_CHUNK) {
      // By target: SQLite would rather walk the campaign's every row (its campaign_id index) for each page; a unary + keeps it off.
      const rows = await trx('campaign_log').whereIn('target_id', targetIds.slice(i, i + INSERT_CHUNK)).andWhere('deleted', 0)
        .modify((q) => (this.engine.db.dialect.name === 'sqlite' ? q.whereRaw('+campaign_id = ?', [this.campaignId]) : q.andWhere('campaign_id', this.campaignId)))
        .select('target_type', 'target_id', 'activity_type');
      for (const r of rows) logged.add(logKey({ module: String(r.target_type), id: String(r.target_id) }, String(r.activity_type)));
    }
    return logged;
  }

  /** The SMS–account join rows (the link a single send makes with records.link), from the link's relationship. */
  private accountLinks(pairs: Array<{ smsId: string; accountId: string }>, now: string): { table: string; rows: Array<Record<string, unknown>> } | undefined {
    if (!pairs.length) return undefined;
    const linkName = relatedLink(this.engine.registry, 'Accounts');
    const rel = linkName ? this.engine.registry.module('SMS').links[linkName]?.relationship : undefined;
    if (!rel?.join_table || !rel.join_key_lhs || !rel.join_key_rhs) return undefined;
    const smsIsLhs = rel.lhs_module === 'SMS';
    return {
      table: rel.join_table,
      rows: pairs.map((p) => ({
        id: orderedId(), [rel.join_key_lhs!]: smsIsLhs ? p.smsId : p.accountId, [rel.join_key_rhs!]: smsIsLhs ? p.accountId : p.smsId,
        ...(rel.relationship_role_column ? { [rel.relationship_role_column]: rel.relationship_role_column_value } : {}),
        date_modified: now, deleted: 0,
      })),
    };
  }

  /** Each record's account through its `account_id` relate field's link (Contacts: accounts_contacts), one query. */
  private async linkedAccounts(module: ModuleDef, ids: string[]): Promise<Map<string, string>> {
    const accounts = new Map<string, string>();
    const field = module.fields.account_id;
    const rel = typeof field?.link === 'string' ? module.links[field.link]?.relationship : undefined;
    if (!rel?.join_table || !rel.join_key_lhs || !rel.join_key_rhs) return accounts;
    const [mine, theirs] = rel.lhs_module === module.name ? [rel.join_key_lhs, rel.join_key_rhs] : [rel.join_key_rhs, rel.join_key_lhs];
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await this.engine.db.knex(rel.join_table).whereIn(mine, ids.slice(i, i + 1000)).andWhere('deleted', 0).select(mine, theirs);
      for (const r of rows) accounts.set(String(r[mine]), String(r[theirs]));
    }
    return accounts;
  }

  /** The E.164 numbers the phone index holds for the records' field (kept with every save; sms:reindex after a bulk import). */
  private async indexedNumbers(module: string, field: string, ids: string[]): Promise<Map<string, string>> {
    const numbers = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await this.engine.db.knex('sms_phone_index').where({ module, field }).whereIn('record_id', ids.slice(i, i + 1000)).select('record_id', 'phone_e164');
      for (const r of rows) numbers.set(String(r.record_id), String(r.phone_e164));
    }
    return numbers;
  }

  /** Numbers that already had as many capped (campaign or workflow) messages in the window as the cap allows; this campaign's own are found by key instead. */
  private async cappedNumbers(numbers: string[]): Promise<Set<string>> {
    const cap = this.sms.config.frequencyCap;
    const capped = new Set<string>();
    if (!cap || !numbers.length) return capped;
    const since = formatDateTime(new Date(this.clock().getTime() - cap.days * 86400e3));
    for (let i = 0; i < numbers.length; i += INSERT_CHUNK) {
      const rows = await this.engine.db.knex('sms').whereIn('to_number', numbers.slice(i, i + INSERT_CHUNK)).andWhere('deleted', 0)
        .whereIn('source', CAPPED_SOURCES).whereIn('status', COUNTED_STATUSES).andWhere('date_claimed', '>=', since)
        .andWhere((q) => q.whereNull('campaign_id').orWhereNot('campaign_id', this.campaignId))
        .groupBy('to_number').select('to_number').count({ n: '*' });
      for (const r of rows as Array<Record<string, unknown>>) if (Number(r.n) >= cap.messages) capped.add(String(r.to_number));
    }
    return capped;
  }

  /** The fields the page needs: the number, the template's fields and relate ids, the name and account. */
  private fieldsFor(module: ModuleDef, phoneField: string): string[] {
    const fields = new Set(['id', phoneField]);
    if (module.columns.includes('account_id')) fields.add('account_id');
    for (const parts of compileSmsTemplate(this.body).paths) {
      if (BLOCK_HELPERS.has(parts[0])) continue;
      fields.add(parts[0]);
      if (parts.length > 1) {
        const rel = relation(module, parts[0]);
        if (rel) fields.add(rel.idField);
      }
    }
    return [...fields].filter((f) => f === 'id' || module.fields[f]);
  }

  /**
   * The page's records the launcher may view, by id. When every field the page needs is stored as
   * read (text, enum, phone, ids) and no after_retrieve hook may change it, one query under the
   * launcher's view scope reads them; otherwise a record list does (computed names, dates …).
   */
  private async records(module: ModuleDef, ids: string[], fields: string[]): Promise<Map<string, RecordData>> {
    const found = new Map<string, RecordData>();
    const plain = !this.engine.context.hooks.has(module.name, 'after_retrieve')
      && fields.every((f) => f === 'id' || (module.columns.includes(f) && PLAIN_TYPES.has(module.fields[f].dbType ?? module.fields[f].type)));
    if (plain) {
      const t = module.table;
      for (let i = 0; i < ids.length; i += 1000) {
        const query = recordRows(this.engine.db.knex, module).clearSelect().select(`${t}.id`, ...fields.filter((f) => f !== 'id').map((f) => fieldColumn(module, t, f)))
          .whereIn(`${t}.id`, ids.slice(i, i + 1000)).andWhere(`${t}.deleted`, 0);
        await this.engine.context.access.scope(this.actor, module, 'view', query, t);
        for (const row of await query) found.set(String(row.id), row as RecordData);
      }
      return found;
    }
    for (let i = 0; i < ids.length; i += 1000) {
      const { records } = await this.engine.records.list(this.actor, module.name, { filter: [{ id: { $in: ids.slice(i, i + 1000) } }], fields, maxNum: 1000 });
      for (const r of records) found.set(r.id, r);
    }
    return found;
  }

  /** The related records the template reaches ({{assigned_user.first_name}}), one list query per related module. */
  private async loadRelated(targets: Array<{ module: string; record: RecordData }>): Promise<void> {
    const compiled = compileSmsTemplate(this.body);
    const heads = [...new Set(compiled.paths.filter((p) => p.length > 1).map((p) => p[0]))];
    if (!heads.length) return;
    if (this.related.size > RELATED_CACHE) this.related.clear();
    const wanted = new Map<string, Set<string>>();
    for (const t of targets) {
      const module = this.engine.registry.module(t.module);
      for (const head of heads) {
        const rel = relation(module, head);
        const id = rel ? t.record[rel.idField] : undefined;
        if (rel && typeof id === 'string' && id && !this.related.has(`${rel.module}:${id}`)) wanted.set(rel.module, (wanted.get(rel.module) ?? new Set()).add(id));
      }
    }
    for (const [moduleName, ids] of wanted) {
      if (!this.engine.registry.modules.has(moduleName)) continue;
      const list = [...ids];
      for (let i = 0; i < list.length; i += 1000) {
        const { records } = await this.engine.records.list(this.actor, moduleName, { filter: [{ id: { $in: list.slice(i, i + 1000) } }], maxNum: 1000 });
        for (const r of records) this.related.set(`${moduleName}:${r.id}`, r);
      }
      for (const id of list) if (!this.related.has(`${moduleName}:${id}`)) this.related.set(`${moduleName}:${id}`, {});
    }
  }

  /** The template for one record, as renderForRecord renders it (fields checked once per module). */
  private render(moduleName: string, record: RecordData): string {
    let problems = this.problemsByModule.get(moduleName);
    if (!problems) {
      problems = templateFieldProblems(this.engine.registry, this.body, moduleName);
      this.problemsByModule.set(moduleName, problems);
    }
    if (problems.length) throw new TemplateProblem(problems.join('; '));
    const compiled = compileSmsTemplate(this.body);
    const module = this.engine.registry.module(moduleName);
    const data: Record<string, unknown> = { ...record };
    for (const head of new Set(compiled.paths.filter((p) => p.length > 1).map((p) => p[0]))) {
      const rel = relation(module, head)!;
      const id = record[rel.idField];
      data[head] = typeof id === 'string' && id ? this.related.get(`${rel.module}:${id}`) ?? {} : {};
    }
    for (const [key, value] of Object.entries(data)) if (value === null) data[key] = '';
    return compiled.render(data);
  }
}

/**
 * Whether the stored number is the indexed one: its digits (national zeros dropped) end the E.164
 * digits. An index row left behind by a direct table write then falls back to parsing the number.
 */
function sameDigits(raw: unknown, e164: string): boolean {
  if (typeof raw !== 'string') return false;
  const digits = raw.replace(/\D/g, '').replace(/^0+/, '');
  return digits.length >= 6 && e164.replace(/\D/g, '').endsWith(digits);
}

function logKey(member: Pick<Member, 'module' | 'id'>, activity: string): string {
  return `${member.module}:${member.id}:${activity}`;
}

